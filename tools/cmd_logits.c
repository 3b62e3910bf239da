/*
 * cmd_logits.c — `vlm logits`: the parity tool. Takes prompt ids verbatim
 * (image tokens already expanded), preprocesses the images as `generate`
 * does, runs the prompt through the model and writes its logits [L, vocab]
 * as float32 .npy; then decodes N greedy tokens with the KV cache and
 * prints them as one JSON line {"tokens": [...]} on stdout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "io/npy.h"
#include "models/model.h"
#include "vlm.h"

#define MAX_IMAGES 64

typedef struct logits_args {
    const char *model, *ids, *out;
    const char *images[MAX_IMAGES];
    int n_images;
    long long greedy, prefill_step, threads;
} logits_args;

static void usage(FILE *out) {
    fputs("usage: vlm logits --model DIR_OR_REPO --ids FILE.npy [--image PATH ...]\n"
          "                  [--out FILE.npy] [--greedy N] [--prefill-step-size N] [--threads N]\n"
          "Prompt ids are used verbatim (image tokens already expanded). --out receives the\n"
          "prompt's logits [L, vocab] as float32; stdout gets {\"tokens\": [...]}, the N greedy\n"
          "tokens decoded after the prompt (default 0). Matmuls run in precise (f32) mode.\n",
          out);
}

static int parse_count(const char *flag, const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000000)
        return cli_fail("logits", "%s expects an integer in [0, 1000000], got '%s'", flag, s);
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, logits_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (i + 1 >= argc) return cli_fail("logits", "%s needs a value (see --help)", flag);
        const char *v = argv[++i];
        if (!strcmp(flag, "--model")) a->model = v;
        else if (!strcmp(flag, "--ids")) a->ids = v;
        else if (!strcmp(flag, "--out")) a->out = v;
        else if (!strcmp(flag, "--image")) {
            if (a->n_images == MAX_IMAGES) return cli_fail("logits", "at most %d images", MAX_IMAGES);
            a->images[a->n_images++] = v;
        } else if (!strcmp(flag, "--greedy")) {
            if (parse_count(flag, v, &a->greedy)) return 1;
        } else if (!strcmp(flag, "--prefill-step-size")) {
            if (parse_count(flag, v, &a->prefill_step)) return 1;
        } else if (!strcmp(flag, "--threads")) {
            if (parse_count(flag, v, &a->threads)) return 1;
        } else return cli_fail("logits", "unknown option %s (see --help)", flag);
    }
    if (!a->model || !a->ids) return cli_fail("logits", "--model and --ids are required");
    return 0;
}

/* A 1-D (or [1, L]) integer .npy of token ids. */
static int load_prompt_ids(const char *path, int32_t **ids, int64_t *n) {
    npy_array arr;
    int64_t *wide = NULL;
    if (npy_load(path, &arr) != VLM_OK) return cli_fail("logits", NULL);
    int ok = (arr.ndim == 1 || (arr.ndim == 2 && arr.shape[0] == 1)) && arr.count > 0;
    if (ok && npy_to_i64(&arr, &wide) != VLM_OK) ok = 0;
    *n = (int64_t)arr.count;
    npy_free(&arr);
    if (!ok) {
        free(wide);
        return cli_fail("logits", "%s: expected a non-empty 1-D array of integer token ids", path);
    }
    *ids = malloc((size_t)*n * sizeof **ids);
    for (int64_t i = 0; *ids && i < *n; i++) {
        if (wide[i] < INT32_MIN || wide[i] > INT32_MAX) {
            free(wide);
            return cli_fail("logits", "%s: token id %lld out of range", path, (long long)wide[i]);
        }
        (*ids)[i] = (int32_t)wide[i];
    }
    free(wide);
    return *ids ? 0 : cli_fail("logits", "out of memory");
}

static int32_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return (int32_t)best;
}

/* Prefill, write the logits, decode the greedy tokens; prints the JSON. */
static int run(vlm_model *m, const logits_args *a, const int32_t *ids, int64_t n,
               const model_images *im) {
    const model_arch *arch = m->arch;
    int64_t V = m->vocab_size, rows = a->out ? n : 1;
    model_session *s = NULL;
    float *logits = malloc((size_t)(rows * V) * sizeof(float));
    int32_t *tokens = malloc((size_t)(a->greedy + 1) * sizeof(int32_t));
    int rc = 1;
    if (!logits || !tokens) {
        cli_fail("logits", "out of memory");
        goto done;
    }
    if (arch->session_new(m, n + a->greedy, &s) ||
        arch->prefill(s, ids, n, im->n_images ? im : NULL, a->prefill_step, logits, a->out != NULL,
                      NULL)) {
        cli_fail("logits", NULL);
        goto done;
    }
    int64_t shape[2] = {n, V};
    if (a->out && npy_save(a->out, "<f4", shape, 2, logits)) {
        cli_fail("logits", NULL);
        goto done;
    }
    const float *last = logits + (rows - 1) * V;
    for (long long i = 0; i < a->greedy; i++) {
        tokens[i] = argmax(last, V);
        if (i + 1 < a->greedy && arch->decode(s, tokens[i], logits)) {
            cli_fail("logits", NULL);
            goto done;
        }
        last = logits;
    }
    printf("{\"tokens\": [");
    for (long long i = 0; i < a->greedy; i++) printf("%s%d", i ? ", " : "", tokens[i]);
    printf("]}\n");
    rc = 0;
done:
    if (s) arch->session_free(s);
    free(logits);
    free(tokens);
    return rc;
}

int cmd_logits(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), 0;
    logits_args a;
    if (parse_args(argc, argv, &a)) return 1;
    int32_t *ids = NULL;
    int64_t n = 0;
    if (load_prompt_ids(a.ids, &ids, &n)) return 1;
    vlm_set_precise(true); /* logits are compared against float32 references */
    vlm_load_options opts = {.num_threads = (int)a.threads};
    vlm_model *m = NULL;
    model_images im;
    memset(&im, 0, sizeof im);
    int rc = 1;
    if (vlm_model_load(a.model, &opts, &m)) cli_fail("logits", NULL);
    else if (a.n_images && model_preprocess_images(m, a.images, (size_t)a.n_images, &im))
        cli_fail("logits", NULL);
    else rc = run(m, &a, ids, n, &im);
    model_images_free(&im);
    vlm_model_free(m);
    free(ids);
    return rc;
}
