/*
 * cmd_generate.c — `vlm generate`, mirroring `python -m mlx_vlm.generate`:
 * load a model (folder or cached repo id), render its chat template for the
 * prompt and images, and stream the generated text to stdout. Everything
 * else (errors, --verbose statistics) goes to stderr.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "vlm.h"

#define MAX_LIST 64

typedef struct generate_args {
    const char *model, *prompt, *system;
    const char *images[MAX_LIST];
    size_t n_images;
    const char *stops[MAX_LIST];
    vlm_logit_bias bias[MAX_LIST];
    int threads;
    bool verbose, precise;
    vlm_generate_params params;
} generate_args;

static void usage(FILE *out) {
    fputs("usage: vlm generate --model DIR_OR_REPO --prompt TEXT [--image PATH_OR_URL ...]\n"
          "                    [--system TEXT] [--max-tokens N] [--temperature T] [--top-p P]\n"
          "                    [--top-k K] [--min-p P] [--repetition-penalty R]\n"
          "                    [--repetition-context-size N] [--presence-penalty P]\n"
          "                    [--frequency-penalty P] [--logit-bias ID=BIAS ...] [--stop TEXT ...]\n"
          "                    [--seed S] [--prefill-step-size N] [--threads N] [--precise] [--verbose]\n"
          "Streams the generated text to stdout. --model takes a folder or an org/name repo id\n"
          "from the local Hugging Face cache. Defaults: --max-tokens 256, --temperature 0\n"
          "(greedy), --prefill-step-size 2048, --seed from the clock. --precise: float32\n"
          "activations in every matmul (default: int8 activations in the language model's\n"
          "quantized matmuls, faster).\n",
          out);
}

static int parse_int(const char *flag, const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return cli_fail("generate", "%s expects an integer in [%lld, %lld], got '%s'", flag, lo, hi, s);
    *out = v;
    return 0;
}

static int parse_float(const char *flag, const char *s, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end) return cli_fail("generate", "%s expects a number, got '%s'", flag, s);
    *out = v;
    return 0;
}

/* "ID=BIAS" -> one logit_bias entry. */
static int parse_bias(const char *s, vlm_logit_bias *out) {
    const char *eq = strchr(s, '=');
    char id[32];
    if (!eq || (size_t)(eq - s) >= sizeof id) return cli_fail("generate", "--logit-bias expects ID=BIAS, got '%s'", s);
    memcpy(id, s, (size_t)(eq - s));
    id[eq - s] = 0;
    long long v;
    if (parse_int("--logit-bias", id, 0, INT32_MAX, &v) || parse_float("--logit-bias", eq + 1, &out->bias)) return 1;
    out->token = (int32_t)v;
    return 0;
}

/* One option with its value at argv[*i + 1]; returns non-zero on error. */
static int parse_option(generate_args *a, int argc, char **argv, int *i) {
    const char *flag = argv[*i];
    if (!strcmp(flag, "--verbose")) return a->verbose = true, 0;
    if (!strcmp(flag, "--precise")) return a->precise = true, 0;
    if (*i + 1 >= argc) return cli_fail("generate", "%s needs a value", flag);
    const char *v = argv[++*i];
    vlm_generate_params *p = &a->params;
    long long n;
    if (!strcmp(flag, "--model")) a->model = v;
    else if (!strcmp(flag, "--prompt")) a->prompt = v;
    else if (!strcmp(flag, "--system")) a->system = v;
    else if (!strcmp(flag, "--image")) {
        /* like mlx-vlm's nargs="+": --image a.jpg b.png, or --image repeated */
        if (!strncmp(v, "--", 2)) return cli_fail("generate", "--image needs a path or URL");
        for (--*i; *i + 1 < argc && strncmp(argv[*i + 1], "--", 2); ++*i) {
            if (a->n_images == MAX_LIST) return cli_fail("generate", "at most %d images", MAX_LIST);
            a->images[a->n_images++] = argv[*i + 1];
        }
    } else if (!strcmp(flag, "--stop")) {
        if (p->n_stop == MAX_LIST) return cli_fail("generate", "at most %d stop strings", MAX_LIST);
        a->stops[p->n_stop++] = v;
    } else if (!strcmp(flag, "--logit-bias")) {
        if (p->n_logit_bias == MAX_LIST) return cli_fail("generate", "at most %d logit biases", MAX_LIST);
        return parse_bias(v, &a->bias[p->n_logit_bias++]);
    } else if (!strcmp(flag, "--max-tokens")) {
        if (parse_int(flag, v, 0, INT_MAX, &n)) return 1;
        p->max_tokens = (int)n;
    } else if (!strcmp(flag, "--top-k")) {
        if (parse_int(flag, v, 0, INT_MAX, &n)) return 1;
        p->top_k = (int)n;
    } else if (!strcmp(flag, "--repetition-context-size")) {
        if (parse_int(flag, v, 0, INT_MAX, &n)) return 1;
        p->repetition_context_size = (int)n;
    } else if (!strcmp(flag, "--prefill-step-size")) {
        if (parse_int(flag, v, 1, INT_MAX, &n)) return 1;
        p->prefill_step_size = (int)n;
    } else if (!strcmp(flag, "--threads")) {
        if (parse_int(flag, v, 0, 4096, &n)) return 1;
        a->threads = (int)n;
    } else if (!strcmp(flag, "--seed")) {
        if (parse_int(flag, v, 0, LLONG_MAX, &n)) return 1;
        p->seed = (uint64_t)n;
    } else if (!strcmp(flag, "--temperature")) return parse_float(flag, v, &p->temperature);
    else if (!strcmp(flag, "--top-p")) return parse_float(flag, v, &p->top_p);
    else if (!strcmp(flag, "--min-p")) return parse_float(flag, v, &p->min_p);
    else if (!strcmp(flag, "--repetition-penalty")) return parse_float(flag, v, &p->repetition_penalty);
    else if (!strcmp(flag, "--presence-penalty")) return parse_float(flag, v, &p->presence_penalty);
    else if (!strcmp(flag, "--frequency-penalty")) return parse_float(flag, v, &p->frequency_penalty);
    else return cli_fail("generate", "unknown option '%s' (see vlm generate --help)", flag);
    return 0;
}

static int parse_args(generate_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->params = vlm_generate_defaults();
    a->params.stop = a->stops;
    a->params.logit_bias = a->bias;
    for (int i = 1; i < argc; i++)
        if (parse_option(a, argc, argv, &i)) return 1;
    if (!a->model) return cli_fail("generate", "--model is required");
    if (!a->prompt) return cli_fail("generate", "--prompt is required");
    return 0;
}

/* Stream each piece to stdout; *user counts the bytes printed. */
static bool print_text(const char *text, void *user) {
    *(size_t *)user += strlen(text);
    fputs(text, stdout);
    fflush(stdout);
    return true;
}

static void print_header(const generate_args *a, const char *rendered) {
    fputs("==========\nFiles: [", stderr);
    for (size_t i = 0; i < a->n_images; i++) fprintf(stderr, "%s'%s'", i ? ", " : "", a->images[i]);
    fprintf(stderr, "] \n\nPrompt: %s\n", rendered);
}

static void print_stats(const vlm_generate_stats *s) {
    fprintf(stderr, "==========\n");
    if (!s->generation_tokens) fprintf(stderr, "No text generated for this prompt\n");
    fprintf(stderr, "Prompt: %zu tokens, %.3f tokens-per-sec\n", s->prompt_tokens, s->prompt_tps);
    fprintf(stderr, "Generation: %zu tokens, %.3f tokens-per-sec\n", s->generation_tokens, s->generation_tps);
    fprintf(stderr, "Image encode: %.1f ms, time to first token: %.1f ms, finish: %s\n", s->image_encode_ms,
            s->ttft_ms, s->finish_reason);
    fprintf(stderr, "Peak memory: %.3f GB\n", s->peak_memory_mb / 1e3);
}

int cmd_generate(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), 0;
    generate_args a;
    if (parse_args(&a, argc, argv)) return 1;
    if (a.threads) vlm_set_num_threads(a.threads);
    if (a.precise) vlm_set_precise(true);

    vlm_load_options opts = {a.threads};
    vlm_model *m = NULL;
    if (vlm_model_load(a.model, &opts, &m)) return cli_fail("generate", NULL);
    char *rendered = NULL;
    vlm_generate_stats stats;
    size_t printed = 0;
    int rc = 0;
    if (vlm_apply_chat_template(m, a.prompt, a.system, (int)a.n_images, &rendered)) rc = cli_fail("generate", NULL);
    if (!rc && a.verbose) print_header(&a, rendered);
    if (!rc && vlm_generate(m, rendered, a.images, a.n_images, &a.params, print_text, &printed, &stats))
        rc = 1;
    if (printed) fputc('\n', stdout);  /* end the streamed line */
    fflush(stdout);
    if (rc) cli_fail("generate", NULL);
    else if (a.verbose) print_stats(&stats);
    vlm_free(rendered);
    vlm_model_free(m);
    return rc;
}
