/*
 * test_cli_logits.c — `vlm logits` end to end: PNG in, image preprocessing,
 * vision tower, decoder; the written logits and the printed greedy tokens
 * are compared with mlx-vlm's float32 goldens (tests/fixtures/qwen2_vl,
 * qwen2_5_vl). Then chunked prefill through the CLI, and every bad input
 * must exit non-zero with a message that says what is wrong.
 */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/npy.h"
#include "test.h"

/* Same tolerances as test_qwen2_vl.c (measured error ~1e-6 relative). */
#define REL_TOL 1e-4
#define MARGIN_TOL 1.2e-3

static char tmp_dir[] = "/tmp/vlm_logits_test_XXXXXX";

static const char *tmp_path(const char *name) {
    static char path[4][256];
    static int slot;
    slot = (slot + 1) % 4;
    snprintf(path[slot], sizeof path[slot], "%s/%s", tmp_dir, name);
    return path[slot];
}

/* Run `vlm logits ARGS`, stdout/stderr to tmp files; returns the exit code. */
static int run_logits(const char *args) {
    char cmd[4096];
    const char *bin = getenv("VLM_BIN");
    snprintf(cmd, sizeof cmd, "'%s' logits %s >'%s' 2>'%s'", bin ? bin : "vlm", args,
             tmp_path("stdout"), tmp_path("stderr"));
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int stderr_has(const char *needle) {
    char *text = test_read_file(tmp_path("stderr"), NULL);
    int found = text && strstr(text, needle);
    if (!found) fprintf(stderr, "  stderr lacks '%s': %s\n", needle, text ? text : "(none)");
    free(text);
    return found;
}

static float *load_f32(const char *path, size_t *count) {
    npy_array a;
    float *out = NULL;
    if (npy_load(path, &a) != VLM_OK) return NULL;
    if (npy_to_f32(&a, 0, &out) == VLM_OK) *count = a.count;
    npy_free(&a);
    return out;
}

static double relative_error(const float *ours, const float *ref, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(ref[i]) > m ? fabs(ref[i]) : m;
    return test_max_abs_diff(ours, ref, n) / m;
}

/* The printed {"tokens": [...]} line. */
static cJSON *printed_tokens(void) {
    char *text = test_read_file(tmp_path("stdout"), NULL);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    return root;
}

/* PNG -> logits and greedy tokens equal mlx-vlm's f32 run. */
static void check_cli_parity(const char *arch, const char *variant) {
    char args[1024], path[256];
    snprintf(args, sizeof args,
             "--model fixtures/%s/%s --image fixtures/%s/inputs/image.png "
             "--ids fixtures/%s/inputs/input_ids.npy --out '%s' --greedy 16",
             arch, variant, arch, arch, tmp_path("logits.npy"));
    CHECK(run_logits(args) == 0);
    size_t n = 0, n_ref = 0;
    float *ours = load_f32(tmp_path("logits.npy"), &n);
    snprintf(path, sizeof path, "fixtures/%s/%s/golden/logits.f32.npy", arch, variant);
    float *ref = load_f32(path, &n_ref);
    CHECK(ours && ref && n == n_ref);
    if (ours && ref && n == n_ref) {
        double rel = relative_error(ours, ref, n);
        CHECKF(rel <= REL_TOL, "%s/%s logits relative error %.3g", arch, variant, rel);
    }
    snprintf(path, sizeof path, "fixtures/%s/%s/manifest.json", arch, variant);
    char *text = test_read_file(path, NULL);
    cJSON *manifest = text ? cJSON_Parse(text) : NULL, *printed = printed_tokens();
    const cJSON *want = cJSON_GetObjectItem(manifest, "greedy_tokens_f32");
    const cJSON *margins = cJSON_GetObjectItem(manifest, "greedy_margins_f32");
    const cJSON *got = cJSON_GetObjectItem(printed, "tokens");
    CHECK(cJSON_GetArraySize(got) == 16 && cJSON_GetArraySize(want) == 16);
    for (int i = 0; i < 16 && cJSON_GetArraySize(got) == 16; i++) {
        if (cJSON_GetArrayItem(margins, i)->valuedouble < MARGIN_TOL) break;
        CHECKF(cJSON_GetArrayItem(got, i)->valueint == cJSON_GetArrayItem(want, i)->valueint,
               "%s/%s greedy token %d", arch, variant, i);
    }
    cJSON_Delete(manifest), cJSON_Delete(printed);
    free(text), free(ours), free(ref);
}

static void test_cli_parity_qwen2_vl(void) { check_cli_parity("qwen2_vl", "q8"); }
static void test_cli_parity_qwen2_5_vl(void) { check_cli_parity("qwen2_5_vl", "q4"); }

/* --prefill-step-size 7 (several chunks, one ragged) = one-shot prefill. */
static void test_cli_chunked_prefill(void) {
    char args[1024];
    const char *common = "--model fixtures/qwen2_vl/bf16 --image fixtures/qwen2_vl/inputs/image.png "
                         "--ids fixtures/qwen2_vl/inputs/input_ids.npy --greedy 6";
    snprintf(args, sizeof args, "%s --out '%s'", common, tmp_path("one.npy"));
    CHECK(run_logits(args) == 0);
    cJSON *one = printed_tokens();
    snprintf(args, sizeof args, "%s --out '%s' --prefill-step-size 7", common, tmp_path("chunked.npy"));
    CHECK(run_logits(args) == 0);
    cJSON *chunked = printed_tokens();
    size_t n1 = 0, n2 = 0;
    float *a = load_f32(tmp_path("one.npy"), &n1), *b = load_f32(tmp_path("chunked.npy"), &n2);
    CHECK(a && b && n1 == n2 && n1 == 28 * 1024);
    if (a && b && n1 == n2) CHECK(relative_error(b, a, n1) < 1e-5);
    CHECK(one && chunked && cJSON_Compare(one, chunked, 1));
    cJSON_Delete(one), cJSON_Delete(chunked);
    free(a), free(b);
}

/* A model folder in tmp whose config.json is the q8 fixture's with `key`
 * set to `value` (a JSON literal); the other files are symlinked. */
static const char *edited_model(const char *name, const char *key, const char *value) {
    static char dir[300];
    char src[PATH_MAX], link_path[600], target[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s", tmp_path(name));
    mkdir(dir, 0700);
    if (!realpath("fixtures/qwen2_vl/q8", src)) return dir;
    const char *links[] = {"model.safetensors", "model.safetensors.index.json",
                           "preprocessor_config.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(link_path, sizeof link_path, "%s/%s", dir, links[i]);
        snprintf(target, sizeof target, "%s/%s", src, links[i]);
        CHECK(symlink(target, link_path) == 0);
    }
    char *text = test_read_file("fixtures/qwen2_vl/q8/config.json", NULL);
    cJSON *config = text ? cJSON_Parse(text) : NULL;
    cJSON_ReplaceItemInObject(config, key, cJSON_Parse(value));
    char *out = cJSON_Print(config);
    snprintf(link_path, sizeof link_path, "%s/config.json", dir);
    FILE *f = fopen(link_path, "w");
    if (f && out) fputs(out, f);
    if (f) fclose(f);
    cJSON_Delete(config);
    free(text), free(out);
    return dir;
}

static void test_cli_errors(void) {
    char args[1024];
    const char *ids = "--ids fixtures/qwen2_vl/inputs/input_ids.npy";
    const char *image = "--image fixtures/qwen2_vl/inputs/image.png";
    // the prompt has image tokens, no image given
    snprintf(args, sizeof args, "--model fixtures/qwen2_vl/q8 %s", ids);
    CHECK(run_logits(args) != 0 && stderr_has("image"));
    // two images for one image placeholder
    snprintf(args, sizeof args, "--model fixtures/qwen2_vl/q8 %s %s %s", ids, image, image);
    CHECK(run_logits(args) != 0 && stderr_has("2 image"));
    // unreadable images: missing file, not an image
    snprintf(args, sizeof args, "--model fixtures/qwen2_vl/q8 %s --image fixtures/none.png", ids);
    CHECK(run_logits(args) != 0 && stderr_has("none.png"));
    snprintf(args, sizeof args, "--model fixtures/qwen2_vl/q8 %s --image fixtures/qwen2_vl/q8/config.json", ids);
    CHECK(run_logits(args) != 0 && stderr_has("config.json"));
    // unknown model_type names the supported ones
    snprintf(args, sizeof args, "--model '%s' %s", edited_model("m1", "model_type", "\"qwen9_vl\""), ids);
    CHECK(run_logits(args) != 0 && stderr_has("qwen9_vl") && stderr_has("qwen2_5_vl"));
    // prompt (28 tokens + 4 greedy) longer than the context
    snprintf(args, sizeof args, "--model '%s' %s %s --greedy 4",
             edited_model("m2", "max_position_embeddings", "16"), ids, image);
    CHECK(run_logits(args) != 0 && stderr_has("context"));
    // missing ids file, missing model folder, bad option
    CHECK(run_logits("--model fixtures/qwen2_vl/q8 --ids fixtures/none.npy") != 0 &&
          stderr_has("none.npy"));
    CHECK(run_logits("--model fixtures/qwen2_vl/nothing --ids fixtures/none.npy") != 0);
    CHECK(run_logits("--model fixtures/qwen2_vl/q8 --frobnicate 1") != 0 && stderr_has("frobnicate"));
}

void run_tests(void) {
    if (!mkdtemp(tmp_dir)) {
        fprintf(stderr, "cannot create %s\n", tmp_dir);
        tests_failed++;
        return;
    }
    RUN(test_cli_parity_qwen2_vl);
    RUN(test_cli_parity_qwen2_5_vl);
    RUN(test_cli_chunked_prefill);
    RUN(test_cli_errors);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_dir);
}
