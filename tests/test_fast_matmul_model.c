/* test_fast_matmul_model.c — a whole model in fast mode (int8-activation
 * matmuls) against mlx-vlm's float32 goldens.
 *
 * The Qwen2-VL q4 and q8 fixtures (copies of shared/golden, see
 * test_qwen2_vl.c) decode teacher-forced along mlx-vlm's native tokens:
 * every step's log-probs must lie within twice the logit difference the
 * manifest records between mlx-vlm's native quantized run and float32
 * ("native_vs_f32" / "logits" / "max_abs"; a log-softmax row moves by at
 * most twice its logits' error) — int8 activations may cost no more
 * accuracy than the reference implementation's own native precision.
 * Greedy decoding must then give the f32 greedy tokens at every step whose
 * f32 top-1/top-2 margin exceeds twice that step's measured log-prob error
 * (a margin above that cannot flip): q4 has four such leading steps; q8's
 * first f32 margins (0.22, 0.006) are below its error, so there the
 * forced log-probs are the whole check. Fast mode covers the prompt too,
 * as generate runs it. */
#include <cjson/cJSON.h>

#include "core/kernel_table.h"
#include "io/npy.h"
#include "models/model.h"
#include "test.h"

/* Everything a fixture run needs, loaded from fixtures/qwen2_vl. */
typedef struct golden_run {
    vlm_model *m;
    model_images im;
    int64_t *ids64, *native, *greedy_f32;
    int32_t *ids;
    size_t n, steps, greedy_steps;
    float *forced; /* [steps][vocab] log-probs */
    cJSON *manifest;
} golden_run;

/* fixtures/qwen2_vl/<sub>/<file> as int64 or f32 (whichever out is set). */
static int load_array(const char *sub, const char *file, int64_t **i64, float **f32, size_t *count,
                      int64_t *shape0, int64_t *shape1) {
    char path[256];
    npy_array a;
    snprintf(path, sizeof path, "fixtures/qwen2_vl/%s/%s", sub, file);
    if (npy_load(path, &a) != VLM_OK) return 0;
    vlm_status st = i64 ? npy_to_i64(&a, i64) : npy_to_f32(&a, 0, f32);
    if (count) *count = a.count;
    if (shape0) *shape0 = a.shape[0];
    if (shape1) *shape1 = a.shape[1];
    npy_free(&a);
    return st == VLM_OK;
}

static int golden_open(golden_run *g, const char *variant) {
    char dir[128], golden[128], *text;
    memset(g, 0, sizeof *g);
    snprintf(dir, sizeof dir, "fixtures/qwen2_vl/%s", variant);
    snprintf(golden, sizeof golden, "%s/golden", variant);
    size_t grid = 0, rows = 0;
    int ok = load_array("inputs", "input_ids.npy", &g->ids64, NULL, &g->n, NULL, NULL) &&
             load_array("inputs", "pixel_values.npy", NULL, &g->im.pixel_values, NULL, &g->im.shape[0], &g->im.shape[1]) &&
             load_array("inputs", "image_grid_thw.npy", (int64_t **)&g->im.grid_thw, NULL, &grid, NULL, NULL) &&
             load_array(golden, "greedy_tokens.npy", &g->native, NULL, &g->steps, NULL, NULL) &&
             load_array(golden, "greedy_tokens.f32.npy", &g->greedy_f32, NULL, &g->greedy_steps, NULL, NULL) &&
             load_array(golden, "forced_logprobs.f32.npy", NULL, &g->forced, &rows, NULL, NULL);
    g->im.ndim = 2;
    g->im.n_images = (int)(grid / 3);
    g->ids = ok ? malloc(g->n * sizeof *g->ids) : NULL;
    for (size_t i = 0; g->ids && i < g->n; i++) g->ids[i] = (int32_t)g->ids64[i];
    char path[160];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    text = test_read_file(path, NULL);
    g->manifest = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK_OK(vlm_model_load(dir, NULL, &g->m));
    ok = ok && g->ids && g->manifest && g->m && rows == g->steps * (size_t)g->m->vocab_size;
    CHECKF(ok, "fixture %s incomplete", dir);
    return ok;
}

static void golden_close(golden_run *g) {
    vlm_model_free(g->m);
    free(g->im.pixel_values);
    free(g->im.grid_thw);
    free(g->ids64), free(g->native), free(g->greedy_f32), free(g->ids), free(g->forced);
    cJSON_Delete(g->manifest);
}

/* Logits to log-probs, in double. */
static void to_logprobs(float *z, int64_t n) {
    double top = z[0], total = 0;
    for (int64_t i = 1; i < n; i++) top = fmax(top, z[i]);
    for (int64_t i = 0; i < n; i++) total += exp((double)z[i] - top);
    for (int64_t i = 0; i < n; i++) z[i] = (float)((double)z[i] - top - log(total));
}

static int32_t top1(const float *z, int64_t n) {
    int32_t best = 0;
    for (int64_t i = 1; i < n; i++) best = z[i] > z[best] ? (int32_t)i : best;
    return best;
}

/* Teacher-forced along the native tokens: each step's worst log-prob
 * difference (step_err[i]); returns the worst of all. */
static double forced_error(golden_run *g, double *step_err) {
    int64_t V = g->m->vocab_size;
    model_session *s = NULL;
    float *z = malloc((size_t)V * sizeof(float));
    double worst = 0;
    CHECK_OK(g->m->arch->session_new(g->m, (int64_t)(g->n + g->steps), &s));
    CHECK_OK(g->m->arch->prefill(s, g->ids, (int64_t)g->n, &g->im, 0, z, 0, NULL));
    for (size_t i = 0; i < g->steps; i++) {
        to_logprobs(z, V);
        step_err[i] = test_max_abs_diff(z, g->forced + i * (size_t)V, (size_t)V);
        worst = fmax(worst, step_err[i]);
        if (i + 1 < g->steps) CHECK_OK(g->m->arch->decode(s, (int32_t)g->native[i], z));
    }
    g->m->arch->session_free(s);
    free(z);
    return worst;
}

/* Greedy steps equal to the f32 tokens while the f32 margin exceeds twice
 * the step's log-prob error (the forced run's, while the native and f32
 * paths agree; the worst error after that). */
static size_t greedy_agreement(golden_run *g, const double *step_err, double worst) {
    const cJSON *margins = cJSON_GetObjectItem(g->manifest, "greedy_margins_f32");
    int64_t V = g->m->vocab_size;
    model_session *s = NULL;
    float *z = malloc((size_t)V * sizeof(float));
    size_t equal = 0;
    int same_path = 1;
    CHECK(cJSON_GetArraySize(margins) == (int)g->greedy_steps);
    CHECK_OK(g->m->arch->session_new(g->m, (int64_t)(g->n + g->greedy_steps), &s));
    CHECK_OK(g->m->arch->prefill(s, g->ids, (int64_t)g->n, &g->im, 0, z, 0, NULL));
    for (size_t i = 0; i < g->greedy_steps; i++) {
        double err = same_path && i < g->steps ? step_err[i] : worst;
        if (cJSON_GetArrayItem(margins, (int)i)->valuedouble <= 2 * err) break;
        int32_t tok = top1(z, V);
        CHECKF(tok == g->greedy_f32[i], "greedy step %zu: %d vs %lld", i, tok, (long long)g->greedy_f32[i]);
        equal++;
        same_path = same_path && i < g->steps && g->native[i] == g->greedy_f32[i];
        CHECK_OK(g->m->arch->decode(s, tok, z));
    }
    g->m->arch->session_free(s);
    free(z);
    return equal;
}

static void check_variant(const char *variant, size_t min_equal) {
    golden_run g;
    if (golden_open(&g, variant)) {
        const cJSON *nv = cJSON_GetObjectItem(g.manifest, "native_vs_f32");
        const cJSON *tol = cJSON_GetObjectItem(cJSON_GetObjectItem(nv, "logits"), "max_abs");
        CHECK(cJSON_IsNumber(tol));
        double *step_err = calloc(g.steps, sizeof(double));
        double err = forced_error(&g, step_err), limit = 2 * (cJSON_IsNumber(tol) ? tol->valuedouble : 0);
        CHECKF(err <= limit, "%s: fast log-probs differ by %.3g (limit %.3g)", variant, err, limit);
        size_t equal = greedy_agreement(&g, step_err, err);
        fprintf(stderr, "  %s fast: forced log-probs max abs %.2g (limit %.2g, first step %.2g), %zu greedy tokens equal\n",
                variant, err, limit, step_err[0], equal);
        CHECK(equal >= min_equal);
        free(step_err);
    }
    golden_close(&g);
}

static void test_fast_decode_q4(void) { check_variant("q4", 4); }
static void test_fast_decode_q8(void) { check_variant("q8", 0); }

void run_tests(void) {
    vlm_set_precise(false);
    CHECK(vlm_fast_matmul() && vlm_kernels_active()->gemv_q8 != NULL);
    RUN(test_fast_decode_q4);
    RUN(test_fast_decode_q8);
}
