/*
 * test_qwen2_vl.c — Qwen2-VL and Qwen2.5-VL against mlx-vlm's goldens.
 *
 * Fixtures (tests/fixtures/qwen2_vl, qwen2_5_vl) are copies of
 * shared/golden: tiny random-weight checkpoints in bf16, q4 and q8 with
 * tensors mlx-vlm 0.6.15 computed in float32 (*.f32.npy). Each stage is
 * compared: M-RoPE positions, patch embedding, vision features, input
 * embeddings, prompt logits, greedy tokens (up to the first step whose f32
 * top-2 margin is within our numeric error) and teacher-forced log-probs.
 * Then chunked prefill, prompt expansion and the bad-input errors.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <unistd.h>

#include "io/npy.h"
#include "io/safetensors_write.h"
#include "models/model.h"
#include "models/mrope.h"
#include "models/qwen2_vl.h"
#include "test.h"

/* Max |ours - golden| relative to max |golden|. Both sides compute in f32
 * from the same stored weights, so only summation order differs (measured:
 * 3e-7 .. 2e-6 for every stage and variant). 1e-4 leaves room for other
 * kernel orders yet is 25-100x below the bf16-vs-f32 differences the
 * manifests record (2.6e-3 .. 1e-2), so a wrong rounding, layout or
 * constant cannot pass. */
#define REL_TOL 1e-4
/* Logits are at most ~6 in magnitude, so our absolute logit error is below
 * 6e-4: greedy tokens are compared while the f32 top-1/top-2 margin is
 * above twice that. */
#define MARGIN_TOL 1.2e-3
/* Teacher-forced log-probs (absolute): a log-softmax row moves by at most
 * twice the logit error. */
#define LOGPROB_TOL 1.2e-3

static const char *const VARIANTS[] = {"bf16", "q4", "q8"};

/* ---- fixture helpers ---------------------------------------------------- */

static float *load_f32(const char *path, size_t *count) {
    npy_array a;
    float *out = NULL;
    if (npy_load(path, &a) != VLM_OK) return NULL;
    if (npy_to_f32(&a, 0, &out) == VLM_OK && count) *count = a.count;
    npy_free(&a);
    return out;
}

static int64_t *load_i64(const char *path, size_t *count) {
    npy_array a;
    int64_t *out = NULL;
    if (npy_load(path, &a) != VLM_OK) return NULL;
    if (npy_to_i64(&a, &out) == VLM_OK && count) *count = a.count;
    npy_free(&a);
    return out;
}

static int32_t *load_ids(const char *arch, int64_t *n) {
    char path[256];
    size_t count = 0;
    snprintf(path, sizeof path, "fixtures/%s/inputs/input_ids.npy", arch);
    int64_t *wide = load_i64(path, &count);
    int32_t *ids = wide ? malloc(count * sizeof *ids) : NULL;
    for (size_t i = 0; ids && i < count; i++) ids[i] = (int32_t)wide[i];
    free(wide);
    *n = (int64_t)count;
    return ids;
}

/* pixel_values and image_grid_thw exactly as mlx-vlm's processor made them. */
static int load_images(const char *arch, model_images *im) {
    char path[256];
    npy_array a;
    size_t n = 0;
    memset(im, 0, sizeof *im);
    snprintf(path, sizeof path, "fixtures/%s/inputs/pixel_values.npy", arch);
    if (npy_load(path, &a) != VLM_OK) return 0;
    im->ndim = 2, im->shape[0] = a.shape[0], im->shape[1] = a.shape[1];
    npy_to_f32(&a, 0, &im->pixel_values);
    npy_free(&a);
    snprintf(path, sizeof path, "fixtures/%s/inputs/image_grid_thw.npy", arch);
    int64_t *grid = load_i64(path, &n);
    im->n_images = (int)(n / 3);
    im->grid_thw = (int64_t(*)[3])grid;
    return im->pixel_values && grid;
}

static void free_images(model_images *im) {
    free(im->pixel_values);
    free(im->grid_thw);
}

/* A loaded fixture model with its prompt ids and preprocessed image. */
typedef struct fixture {
    vlm_model *m;
    model_images im;
    int32_t *ids;
    int64_t n;
} fixture;

static int fixture_open(fixture *f, const char *arch, const char *variant) {
    char dir[128];
    memset(f, 0, sizeof *f);
    snprintf(dir, sizeof dir, "fixtures/%s/%s", arch, variant);
    f->ids = load_ids(arch, &f->n);
    CHECK(f->ids && load_images(arch, &f->im));
    CHECK_OK(vlm_model_load(dir, NULL, &f->m));
    return f->m && f->ids && f->im.pixel_values;
}

static void fixture_close(fixture *f) {
    vlm_model_free(f->m);
    free(f->ids);
    free_images(&f->im);
}

static double max_abs(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

/* Compare with a golden .f32.npy of `count` floats; returns the relative error. */
static double check_golden(const char *what, const char *dir, const char *file, const float *ours,
                           size_t count) {
    char path[256];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/golden/%s", dir, file);
    float *ref = load_f32(path, &n);
    CHECKF(ref && n == count, "%s: golden %s has %zu values, ours %zu", what, path, n, count);
    if (!ref || n != count) {
        free(ref);
        return 1;
    }
    double rel = test_max_abs_diff(ours, ref, n) / max_abs(ref, n);
    CHECKF(rel <= REL_TOL, "%s %s: relative error %.3g > %.3g", dir, what, rel, REL_TOL);
    free(ref);
    return rel;
}

static void log_softmax(float *x, int64_t n) {
    double mx = x[0], sum = 0;
    for (int64_t i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int64_t i = 0; i < n; i++) sum += exp(x[i] - mx);
    double lse = mx + log(sum);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(x[i] - lse);
}

static int32_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return (int32_t)best;
}

/* ---- M-RoPE positions --------------------------------------------------- */

static void check_positions(const char *arch) {
    char path[256];
    int64_t n = 0, delta = 0;
    size_t count = 0;
    model_images im;
    int32_t *ids = load_ids(arch, &n);
    CHECK(ids && load_images(arch, &im));
    mrope_tokens tk = {.image_token = 1012, .vision_start_token = 1009, .spatial_merge_size = 2};
    int64_t *pos = malloc((size_t)(3 * n) * sizeof *pos);
    CHECK_OK(mrope_position_ids(&tk, ids, n, (const int64_t(*)[3])im.grid_thw, im.n_images, pos,
                                &delta));
    snprintf(path, sizeof path, "fixtures/%s/bf16/golden/position_ids.npy", arch);
    int64_t *ref = load_i64(path, &count);
    CHECK(ref && count == (size_t)(3 * n));
    for (size_t i = 0; ref && i < count; i++) CHECKF(pos[i] == ref[i], "%s position %zu", arch, i);
    snprintf(path, sizeof path, "fixtures/%s/bf16/golden/rope_deltas.npy", arch);
    int64_t *ref_delta = load_i64(path, &count);
    CHECK(ref_delta && ref_delta[0] == delta);
    free(ids), free(pos), free(ref), free(ref_delta);
    free_images(&im);
}

static void test_positions_qwen2_vl(void) { check_positions("qwen2_vl"); }
static void test_positions_qwen2_5_vl(void) { check_positions("qwen2_5_vl"); }

static void test_positions_text_only_and_errors(void) {
    mrope_tokens tk = {.image_token = 7, .vision_start_token = 6, .spatial_merge_size = 2};
    int32_t text[4] = {1, 2, 3, 4};
    int64_t pos[15], delta = -1, grid[1][3] = {{1, 2, 4}};
    CHECK_OK(mrope_position_ids(&tk, text, 4, NULL, 0, pos, &delta));
    CHECK(delta == 0 && pos[3] == 3 && pos[4 + 3] == 3 && pos[8 + 3] == 3);
    // one image placeholder group but no image
    int32_t img[5] = {1, 6, 7, 7, 2};
    CHECK(mrope_position_ids(&tk, img, 5, NULL, 0, pos, &delta) == VLM_ERR_INVALID_ARGUMENT);
    // a 2x4 patch grid is 1x2 merged tokens: text 0 1, image (2,2,2) (2,2,3), text 4
    CHECK_OK(mrope_position_ids(&tk, img, 5, (const int64_t(*)[3])grid, 1, pos, &delta));
    CHECK(pos[2] == 2 && pos[3] == 2 && pos[5 + 2] == 2 && pos[10 + 2] == 2 && pos[10 + 3] == 3);
    CHECK(pos[4] == 4 && pos[5 + 4] == 4 && delta == 0);
    // a 4x4 grid needs 4 tokens: too few
    int64_t big[1][3] = {{1, 4, 4}};
    CHECK(mrope_position_ids(&tk, img, 5, (const int64_t(*)[3])big, 1, pos, &delta) ==
          VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "image 0") != NULL);
}

/* Two images: the second continues after the first's largest position. */
static void test_positions_two_images(void) {
    mrope_tokens tk = {.image_token = 9, .vision_start_token = 8, .spatial_merge_size = 2};
    int64_t grids[2][3] = {{1, 4, 6}, {1, 4, 6}}, pos[3 * 19], delta = 0;
    int32_t ids[19] = {1, 8, 9, 9, 9, 9, 9, 9, 7, 2, 8, 9, 9, 9, 9, 9, 9, 7, 3};
    CHECK_OK(mrope_position_ids(&tk, ids, 19, (const int64_t(*)[3])grids, 2, pos, &delta));
    const int64_t *t = pos, *h = pos + 19, *w = pos + 38;
    // text 0 1 | image 1: t=2, h=2..3, w=2..4 | 5 6 7 | image 2 from 8 | 11 12
    CHECK(t[0] == 0 && t[1] == 1 && t[2] == 2 && h[2] == 2 && w[2] == 2);
    CHECK(t[7] == 2 && h[7] == 3 && w[7] == 4 && w[4] == 4 && h[5] == 3 && w[5] == 2);
    CHECK(t[8] == 5 && h[9] == 6 && w[10] == 7);
    CHECK(t[11] == 8 && h[16] == 9 && w[16] == 10 && t[16] == 8);
    CHECK(t[17] == 11 && w[18] == 12 && delta == 13 - 19);
}

/* ---- stage-by-stage parity ---------------------------------------------- */

/* inputs_embeds: text rows from the embedding, image rows = features. */
static void check_inputs_embeds(const char *dir, const qwen_vl *qv, const int32_t *ids, int64_t n,
                                const float *features) {
    int64_t dim = qv->lm.dim, f = 0;
    float *x = malloc((size_t)(n * dim) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] == qv->tokens.image_token)
            memcpy(x + i * dim, features + f++ * dim, (size_t)dim * sizeof(float));
        else
            qwen2_lm_embed(&qv->lm, ids + i, 1, x + i * dim);
    }
    check_golden("inputs_embeds", dir, "inputs_embeds.f32.npy", x, (size_t)(n * dim));
    free(x);
}

static void check_vision(const char *dir, const qwen_vl *qv, const model_images *im,
                         const int32_t *ids, int64_t n) {
    int64_t P = im->shape[0], tokens = P / 4;
    float *embed = malloc((size_t)(P * qv->vision.dim) * sizeof(float));
    float *features = malloc((size_t)(tokens * qv->lm.dim) * sizeof(float));
    CHECK_OK(qwen_vision_patch_embed(&qv->vision, im->pixel_values, P, embed));
    double pe = check_golden("vision_patch_embed", dir, "vision_patch_embed.f32.npy", embed,
                             (size_t)(P * qv->vision.dim));
    CHECK_OK(qwen_vision_encode(&qv->vision, im, features));
    double vf = check_golden("vision_features", dir, "vision_features.f32.npy", features,
                             (size_t)(tokens * qv->lm.dim));
    fprintf(stderr, "  %s: patch_embed rel %.2g, vision_features rel %.2g\n", dir, pe, vf);
    check_inputs_embeds(dir, qv, ids, n, features);
    free(embed), free(features);
}

static void check_prompt_logits(const char *dir, vlm_model *m, const int32_t *ids, int64_t n,
                                const model_images *im) {
    model_session *s = NULL;
    float *logits = malloc((size_t)(n * m->vocab_size) * sizeof(float));
    CHECK_OK(m->arch->session_new(m, n + 16, &s));
    CHECK_OK(m->arch->prefill(s, ids, n, im, 0, logits, 1, NULL));
    double rel = check_golden("logits", dir, "logits.f32.npy", logits, (size_t)(n * m->vocab_size));
    fprintf(stderr, "  %s: logits rel %.2g\n", dir, rel);
    m->arch->session_free(s);
    free(logits);
}

/* Greedy decoding equals the f32 greedy tokens while their margin is safe. */
static void check_greedy(const char *dir, vlm_model *m, const int32_t *ids, int64_t n,
                         const model_images *im, const cJSON *manifest) {
    char path[256];
    size_t count = 0;
    snprintf(path, sizeof path, "%s/golden/greedy_tokens.f32.npy", dir);
    int64_t *ref = load_i64(path, &count);
    const cJSON *margins = cJSON_GetObjectItem(manifest, "greedy_margins_f32");
    CHECK(ref && cJSON_GetArraySize(margins) == (int)count);
    model_session *s = NULL;
    float *logits = malloc((size_t)m->vocab_size * sizeof(float));
    CHECK_OK(m->arch->session_new(m, n + (int64_t)count, &s));
    CHECK_OK(m->arch->prefill(s, ids, n, im, 0, logits, 0, NULL));
    size_t compared = 0;
    for (size_t i = 0; ref && i < count; i++) {
        if (cJSON_GetArrayItem(margins, (int)i)->valuedouble < MARGIN_TOL) break;
        int32_t tok = argmax(logits, m->vocab_size);
        CHECKF(tok == ref[i], "%s greedy step %zu: %d vs %lld", dir, i, tok, (long long)ref[i]);
        compared++;
        CHECK_OK(m->arch->decode(s, tok, logits));
    }
    fprintf(stderr, "  %s: %zu greedy tokens equal\n", dir, compared);
    CHECK(compared >= 4);
    m->arch->session_free(s);
    free(logits), free(ref);
}

/* Feeding mlx-vlm's native tokens, each step's log-probs match. */
static void check_forced(const char *dir, vlm_model *m, const int32_t *ids, int64_t n,
                         const model_images *im) {
    char path[256];
    size_t count = 0, rows = 0;
    snprintf(path, sizeof path, "%s/golden/greedy_tokens.npy", dir);
    int64_t *tokens = load_i64(path, &count);
    snprintf(path, sizeof path, "%s/golden/forced_logprobs.f32.npy", dir);
    float *ref = load_f32(path, &rows);
    int64_t V = m->vocab_size;
    CHECK(tokens && ref && rows == count * (size_t)V);
    model_session *s = NULL;
    float *logits = malloc((size_t)V * sizeof(float));
    CHECK_OK(m->arch->session_new(m, n + (int64_t)count, &s));
    CHECK_OK(m->arch->prefill(s, ids, n, im, 0, logits, 0, NULL));
    double worst = 0;
    for (size_t i = 0; tokens && ref && i < count; i++) {
        log_softmax(logits, V);
        double d = test_max_abs_diff(logits, ref + i * V, (size_t)V);
        worst = d > worst ? d : worst;
        if (i + 1 < count) CHECK_OK(m->arch->decode(s, (int32_t)tokens[i], logits));
    }
    CHECKF(worst <= LOGPROB_TOL, "%s forced log-probs differ by %.3g", dir, worst);
    fprintf(stderr, "  %s: forced log-probs max abs %.2g\n", dir, worst);
    m->arch->session_free(s);
    free(logits), free(ref), free(tokens);
}

static void check_parity(const char *arch) {
    for (size_t v = 0; v < sizeof VARIANTS / sizeof *VARIANTS; v++) {
        char dir[128], path[160];
        fixture f;
        snprintf(dir, sizeof dir, "fixtures/%s/%s", arch, VARIANTS[v]);
        snprintf(path, sizeof path, "%s/manifest.json", dir);
        char *text = test_read_file(path, NULL);
        cJSON *manifest = text ? cJSON_Parse(text) : NULL;
        CHECK(manifest != NULL);
        if (fixture_open(&f, arch, VARIANTS[v]) && manifest) {
            CHECK(!strcmp(vlm_model_type(f.m), arch));
            check_vision(dir, f.m->arch_state, &f.im, f.ids, f.n);
            check_prompt_logits(dir, f.m, f.ids, f.n, &f.im);
            check_greedy(dir, f.m, f.ids, f.n, &f.im, manifest);
            check_forced(dir, f.m, f.ids, f.n, &f.im);
        }
        fixture_close(&f);
        cJSON_Delete(manifest);
        free(text);
    }
}

/* Two copies of the image in one batch: each gets exactly the single-image
 * golden features, so attention never crosses images (cu_seqlens) and
 * Qwen2.5-VL's window order is undone per image. */
static void check_two_images(const char *arch) {
    fixture f;
    char dir[64];
    snprintf(dir, sizeof dir, "fixtures/%s/bf16", arch);
    if (!fixture_open(&f, arch, "bf16")) return fixture_close(&f);
    const qwen_vl *qv = f.m->arch_state;
    int64_t P = f.im.shape[0], row = f.im.shape[1], tokens = P / 4, dim = qv->lm.dim;
    model_images two = f.im;
    int64_t grids[2][3];
    memcpy(grids[0], f.im.grid_thw[0], sizeof grids[0]);
    memcpy(grids[1], f.im.grid_thw[0], sizeof grids[1]);
    two.n_images = 2, two.shape[0] = 2 * P, two.grid_thw = grids;
    two.pixel_values = malloc((size_t)(2 * P * row) * sizeof(float));
    memcpy(two.pixel_values, f.im.pixel_values, (size_t)(P * row) * sizeof(float));
    memcpy(two.pixel_values + P * row, f.im.pixel_values, (size_t)(P * row) * sizeof(float));
    float *features = malloc((size_t)(2 * tokens * dim) * sizeof(float));
    CHECK_OK(qwen_vision_encode(&qv->vision, &two, features));
    check_golden("first of two images", dir, "vision_features.f32.npy", features, (size_t)(tokens * dim));
    check_golden("second of two images", dir, "vision_features.f32.npy", features + tokens * dim,
                 (size_t)(tokens * dim));
    free(two.pixel_values), free(features);
    fixture_close(&f);
}

static void test_two_images_stay_apart(void) {
    check_two_images("qwen2_vl");
    check_two_images("qwen2_5_vl");
}

static void test_parity_qwen2_vl(void) { check_parity("qwen2_vl"); }
static void test_parity_qwen2_5_vl(void) { check_parity("qwen2_5_vl"); }

/* ---- sessions ------------------------------------------------------------ */

/* Prefill in chunks of 5 gives the one-shot logits, then the same decode. */
static void test_chunked_prefill_matches_one_shot(void) {
    fixture f;
    if (!fixture_open(&f, "qwen2_5_vl", "q4")) return fixture_close(&f);
    vlm_model *m = f.m;
    const int32_t *ids = f.ids;
    int64_t n = f.n, V = m->vocab_size;
    float *one = malloc((size_t)((n + 1) * V) * sizeof(float));
    float *chunked = malloc((size_t)((n + 1) * V) * sizeof(float));
    model_session *a = NULL, *b = NULL;
    CHECK_OK(m->arch->session_new(m, n + 1, &a));
    CHECK_OK(m->arch->session_new(m, n + 1, &b));
    CHECK_OK(m->arch->prefill(a, ids, n, &f.im, 0, one, 1, NULL));
    CHECK_OK(m->arch->prefill(b, ids, n, &f.im, 5, chunked, 1, NULL));
    CHECK_OK(m->arch->decode(a, 42, one + n * V));
    CHECK_OK(m->arch->decode(b, 42, chunked + n * V));
    double rel = test_max_abs_diff(one, chunked, (size_t)((n + 1) * V)) / max_abs(one, (size_t)(n * V));
    CHECKF(rel < 1e-5, "chunked vs one-shot relative difference %.3g", rel);
    // the session is full now
    CHECK(m->arch->decode(a, 42, one) == VLM_ERR_LIMIT);
    m->arch->session_free(a);
    m->arch->session_free(b);
    free(one), free(chunked);
    fixture_close(&f);
}

static void test_expand_image_tokens(void) {
    fixture f; /* image grid (1, 8, 12): 24 merged tokens */
    if (!fixture_open(&f, "qwen2_5_vl", "bf16")) return fixture_close(&f);
    vlm_model *m = f.m;
    const model_images *im = &f.im;
    int32_t prompt[5] = {1001, 1009, 1012, 1010, 1002}, *out = NULL;
    int64_t n_out = 0;
    CHECK_OK(m->arch->expand_image_tokens(m, prompt, 5, im, &out, &n_out));
    CHECK(n_out == 4 + 24 && out[1] == 1009 && out[2] == 1012 && out[25] == 1012 && out[26] == 1010);
    vlm_free(out);
    // two placeholders, one image
    int32_t two[4] = {1009, 1012, 1012, 1010};
    CHECK(m->arch->expand_image_tokens(m, two, 4, im, &out, &n_out) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "2 image placeholder") != NULL);
    // a grid the 2x2 merge cannot tile, and a grid that disagrees with pixel_values
    f.im.grid_thw[0][1] = 7;
    CHECK(m->arch->expand_image_tokens(m, prompt, 5, im, &out, &n_out) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "multiples of 2") != NULL);
    f.im.grid_thw[0][1] = 4;
    CHECK(m->arch->expand_image_tokens(m, prompt, 5, im, &out, &n_out) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "pixel_values has 96 rows") != NULL);
    fixture_close(&f);
}

/* ---- the whole folder: tokenizer, template, EOS ids, prompt ids ---------- */

/* The bundled tiny Qwen2-VL folder (shared/golden/e2e_qwen2_vl/q4): the
 * rendered prompt, EOS ids (generation_config.json's list wins) and the
 * expanded prompt ids equal mlx-vlm's run (fixtures/e2e_qwen2_vl). */
static void test_model_folder(void) {
    vlm_model *m = NULL;
    CHECK_OK(vlm_model_load("../models/tiny-qwen2-vl", NULL, &m));
    if (!m) return;
    CHECK(!strcmp(vlm_model_type(m), "qwen2_vl") && vlm_model_tokenizer(m) != NULL);
    CHECK(m->n_eos == 2 && m->eos_ids[0] == 1002 && m->eos_ids[1] == 1000);
    char *prompt = NULL, *want = test_read_file("fixtures/e2e_qwen2_vl/expected_rendered_prompt.txt", NULL);
    CHECK_OK(vlm_apply_chat_template(m, "Describe this image.", NULL, 1, &prompt));
    CHECK(prompt && want && !strcmp(prompt, want));
    int32_t *ids = NULL, *expanded = NULL;
    size_t n = 0;
    int64_t n_expanded = 0;
    model_images im;
    const char *image = "fixtures/qwen2_vl/inputs/image.png";
    CHECK_OK(vlm_tokenizer_encode(vlm_model_tokenizer(m), prompt ? prompt : "", prompt ? strlen(prompt) : 0,
                                  false, &ids, &n));
    CHECK_OK(model_preprocess_images(m, &image, 1, &im));
    CHECK_OK(m->arch->expand_image_tokens(m, ids, (int64_t)n, &im, &expanded, &n_expanded));
    size_t count = 0;
    int64_t *ref = load_i64("fixtures/e2e_qwen2_vl/inputs/input_ids.npy", &count);
    CHECK(ref && (int64_t)count == n_expanded);
    for (size_t i = 0; ref && expanded && i < count && (int64_t)count == n_expanded; i++)
        CHECKF(expanded[i] == ref[i], "prompt id %zu: %d vs %lld", i, expanded[i], (long long)ref[i]);
    model_images_free(&im);
    vlm_free(ids), vlm_free(expanded), vlm_free(prompt);
    free(want), free(ref);
    vlm_model_free(m);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_image_token_mismatch(void) {
    fixture f;
    if (!fixture_open(&f, "qwen2_vl", "bf16")) return fixture_close(&f);
    vlm_model *m = f.m;
    model_images im = f.im;
    const int32_t *ids = f.ids;
    int64_t n = f.n;
    model_session *s = NULL;
    float *logits = malloc((size_t)m->vocab_size * sizeof(float));
    CHECK_OK(m->arch->session_new(m, n, &s));
    // image tokens in the prompt but no image
    CHECK(m->arch->prefill(s, ids, n, NULL, 0, logits, 0, NULL) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "image") != NULL);
    // an image whose grid needs more tokens than the prompt has
    im.grid_thw[0][1] = 8, im.shape[0] = 48;
    float *more = calloc(48 * 1176, sizeof(float));
    im.pixel_values = more;
    CHECK(m->arch->prefill(s, ids, n, &im, 0, logits, 0, NULL) == VLM_ERR_INVALID_ARGUMENT);
    free(more);
    // a token id outside the vocabulary
    int32_t bad = 5000;
    CHECK(m->arch->prefill(s, &bad, 1, NULL, 0, logits, 0, NULL) == VLM_ERR_INVALID_ARGUMENT);
    // failed prefills leave the session usable: the text before the image runs
    CHECK_OK(m->arch->prefill(s, ids, 11, NULL, 0, logits, 0, NULL));
    m->arch->session_free(s);
    free(logits);
    fixture_close(&f);
}

static void test_prompt_longer_than_context(void) {
    vlm_model *m = NULL;
    CHECK_OK(vlm_model_load("fixtures/qwen2_vl/q8", NULL, &m));
    if (!m) return;
    model_session *s = NULL;
    CHECK(m->arch->session_new(m, m->max_context + 1, &s) == VLM_ERR_LIMIT);
    CHECK(strstr(vlm_last_error(), "context") != NULL);
    int32_t ids[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    float *logits = malloc((size_t)m->vocab_size * sizeof(float));
    CHECK_OK(m->arch->session_new(m, 4, &s));
    CHECK(m->arch->prefill(s, ids, 8, NULL, 0, logits, 0, NULL) == VLM_ERR_LIMIT);
    m->arch->session_free(s);
    free(logits);
    vlm_model_free(m);
}

/* ---- other checkpoint layouts and broken checkpoints ----------------------- */

/* How to derive a model folder from a fixture. */
typedef struct copy_options {
    const char *model_type;   /* replaces config.json's */
    const char *drop;         /* tensor left out */
    const char *reshape;      /* tensor given new_shape (its first bytes) */
    int ndim;
    int64_t new_shape[5];
    const char *text_prefix, *vision_prefix, *head; /* renames (transformers layouts) */
    int torch_conv;           /* patch embedding as PyTorch [out, C, T, P, P] */
    const char *config_set;   /* JSON object: its keys replace config.json's (null: delete) */
} copy_options;

typedef struct model_copy {
    const st_tensor **tensors;
    const copy_options *opt;
    char (*names)[160];
} model_copy;

/* MLX channels-last Conv3d [O, T, P, P, C] -> PyTorch [O, C, T, P, P], 2-byte
 * elements; src lies in the mmap and need not be aligned. */
static void conv_to_torch(uint16_t *dst, const void *src, const int64_t *shape) {
    int64_t O = shape[0], TPP = shape[1] * shape[2] * shape[3], C = shape[4];
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < TPP; i++)
            for (int64_t c = 0; c < C; c++)
                memcpy(&dst[(o * C + c) * TPP + i], (const char *)src + 2 * ((o * TPP + i) * C + c), 2);
}

static vlm_status copy_tensor(void *ctx, size_t index, void *buf, size_t nbytes) {
    const model_copy *c = ctx;
    const st_tensor *t = c->tensors[index];
    if (c->opt->torch_conv && strstr(t->name, "patch_embed.proj.weight"))
        conv_to_torch(buf, t->data, t->shape);
    else
        memcpy(buf, t->data, nbytes);
    return VLM_OK;
}

/* The tensor's name in the copy. */
static void copy_name(const copy_options *o, const char *name, char *out) {
    static const char *const mlx[3] = {"language_model.model.", "vision_tower.", "language_model.lm_head"};
    const char *to[3] = {o->text_prefix, o->vision_prefix, o->head};
    for (int i = 0; i < 3; i++)
        if (to[i] && !strncmp(name, mlx[i], strlen(mlx[i]))) {
            snprintf(out, 160, "%s%s", to[i], name + strlen(mlx[i]));
            return;
        }
    snprintf(out, 160, "%s", name);
}

static int write_config(const char *dir, const char *src_dir, const char *model_type, const char *set) {
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", src_dir);
    char *text = test_read_file(path, NULL);
    cJSON *config = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (!config) return 0;
    if (model_type) cJSON_ReplaceItemInObject(config, "model_type", cJSON_CreateString(model_type));
    cJSON *edits = set ? cJSON_Parse(set) : NULL, *e;
    cJSON_ArrayForEach(e, edits) {
        cJSON_DeleteItemFromObject(config, e->string);
        if (!cJSON_IsNull(e)) cJSON_AddItemToObject(config, e->string, cJSON_Duplicate(e, 1));
    }
    cJSON_Delete(edits);
    char *out = cJSON_Print(config);
    cJSON_Delete(config);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (f) fputs(out, f), fclose(f);
    free(out);
    return f != NULL;
}

static int write_model_copy(const char *dir, const char *src_dir, const copy_options *o) {
    char path[512];
    st_archive *a = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", src_dir);
    if (!write_config(dir, src_dir, o->model_type, o->config_set) || st_open_file(path, &a) != VLM_OK) return 0;
    size_t n = st_count(a), k = 0;
    st_write_tensor *w = calloc(n, sizeof *w);
    model_copy c = {calloc(n, sizeof(st_tensor *)), o, calloc(n, 160)};
    for (size_t i = 0; i < n; i++) {
        const st_tensor *t = st_at(a, i);
        if (o->drop && !strcmp(t->name, o->drop)) continue;
        copy_name(o, t->name, c.names[k]);
        w[k].name = c.names[k], w[k].dtype = t->dtype, w[k].ndim = t->ndim;
        memcpy(w[k].shape, t->shape, sizeof t->shape);
        if (o->reshape && !strcmp(t->name, o->reshape)) {
            w[k].ndim = o->ndim;
            memcpy(w[k].shape, o->new_shape, (size_t)o->ndim * sizeof(int64_t));
        }
        if (o->torch_conv && strstr(t->name, "patch_embed.proj.weight")) {
            int64_t torch[5] = {t->shape[0], t->shape[4], t->shape[1], t->shape[2], t->shape[3]};
            memcpy(w[k].shape, torch, sizeof torch);
        }
        c.tensors[k++] = t;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    vlm_status st = st_write_file(path, w, k, copy_tensor, &c);
    free(w), free(c.tensors), free(c.names);
    st_close(a);
    return st == VLM_OK;
}

static void remove_model_copy(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    rmdir(dir);
}

/* Load a broken copy of the bf16 fixture: must fail with `code`, naming `needle`. */
static void expect_load_error(const copy_options *o, vlm_status code, const char *needle) {
    char dir[] = "/tmp/vlm_qwen_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK(write_model_copy(dir, "fixtures/qwen2_vl/bf16", o));
    vlm_model *m = NULL;
    vlm_status st = vlm_model_load(dir, NULL, &m);
    CHECKF(st == code, "got %s: %s", vlm_status_name(st), vlm_last_error());
    CHECKF(strstr(vlm_last_error(), needle) != NULL, "message '%s' lacks '%s'", vlm_last_error(),
           needle);
    CHECK(m == NULL);
    vlm_model_free(m);
    remove_model_copy(dir);
}

static void test_unknown_model_type(void) {
    copy_options o = {.model_type = "qwen9_vl"};
    expect_load_error(&o, VLM_ERR_UNSUPPORTED, "qwen2_5_vl");
    CHECK(strstr(vlm_last_error(), "qwen9_vl") != NULL);
    CHECK(model_arch_find("qwen2_vl") && model_arch_find("qwen2_5_vl") && !model_arch_find("x"));
    // every type the error message lists is in the registry
    char list[256];
    snprintf(list, sizeof list, "%s", model_arch_supported());
    for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        CHECKF(model_arch_find(t) != NULL, "listed type %s is not registered", t);
}

static void test_missing_tensor(void) {
    copy_options lm = {.drop = "language_model.model.layers.1.mlp.up_proj.weight"};
    expect_load_error(&lm, VLM_ERR_NOT_FOUND, lm.drop);
    copy_options vision = {.drop = "vision_tower.blocks.1.norm2.bias"};
    expect_load_error(&vision, VLM_ERR_NOT_FOUND, vision.drop);
}

static void test_misshaped_tensor(void) {
    copy_options norm = {.reshape = "language_model.model.layers.0.input_layernorm.weight",
                         .ndim = 1, .new_shape = {64}};
    expect_load_error(&norm, VLM_ERR_FORMAT, "language_model.model.layers.0.input_layernorm");
    copy_options merger = {.reshape = "vision_tower.merger.mlp.2.weight", .ndim = 2,
                           .new_shape = {256, 128}};
    expect_load_error(&merger, VLM_ERR_FORMAT, "vision_tower.merger.mlp.2");
    copy_options conv = {.reshape = "vision_tower.patch_embed.proj.weight", .ndim = 5,
                         .new_shape = {64, 2, 14, 3, 14}};
    expect_load_error(&conv, VLM_ERR_FORMAT, "vision_tower.patch_embed.proj.weight");
}

/* Original transformers checkpoints (both naming generations, PyTorch conv
 * layout) give the MLX folder's logits. */
static void check_transformers_layout(const char *arch, const copy_options *o) {
    char dir[] = "/tmp/vlm_qwen_hf_XXXXXX", src[64];
    fixture f;
    snprintf(src, sizeof src, "fixtures/%s/bf16", arch);
    CHECK(mkdtemp(dir) != NULL);
    CHECK(write_model_copy(dir, src, o));
    if (fixture_open(&f, arch, "bf16")) {
        vlm_model_free(f.m);
        f.m = NULL;
        CHECK_OK(vlm_model_load(dir, NULL, &f.m));
    }
    if (f.m) check_prompt_logits(src, f.m, f.ids, f.n, &f.im);
    fixture_close(&f);
    remove_model_copy(dir);
}

static void test_transformers_checkpoints(void) {
    copy_options legacy = {.text_prefix = "model.", .vision_prefix = "visual.", .head = "lm_head",
                           .torch_conv = 1};
    copy_options current = {.text_prefix = "model.language_model.", .vision_prefix = "model.visual.",
                            .head = "lm_head", .torch_conv = 1};
    check_transformers_layout("qwen2_vl", &legacy);
    check_transformers_layout("qwen2_5_vl", &current);
}

/* Numbers of the text config that would turn the output into NaN or
 * garbage are refused, naming the key, wherever config.json puts them. */
static void test_bad_config_numbers(void) {
    const char *cases[][2] = {
        {"{\"rope_theta\": 0}", "rope_theta"},
        {"{\"rope_theta\": \"1e6\"}", "rope_theta"},
        {"{\"rope_theta\": null, \"rope_parameters\": {\"rope_theta\": -1, \"mrope_section\": [4, 6, 6]}}",
         "rope_theta"},
        {"{\"rms_norm_eps\": -1e-6}", "rms_norm_eps"},
        {"{\"hidden_size\": 1099511627776}", "hidden_size 1099511627776"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_options o = {.config_set = cases[i][0]};
        expect_load_error(&o, VLM_ERR_FORMAT, cases[i][1]);
    }
}

void run_tests(void) {
    vlm_set_precise(true); /* f32 goldens at 1e-4; fast mode: test_fast_matmul.c */
    RUN(test_positions_qwen2_vl);
    RUN(test_positions_qwen2_5_vl);
    RUN(test_positions_text_only_and_errors);
    RUN(test_positions_two_images);
    RUN(test_parity_qwen2_vl);
    RUN(test_parity_qwen2_5_vl);
    RUN(test_two_images_stay_apart);
    RUN(test_chunked_prefill_matches_one_shot);
    RUN(test_expand_image_tokens);
    RUN(test_model_folder);
    RUN(test_image_token_mismatch);
    RUN(test_prompt_longer_than_context);
    RUN(test_unknown_model_type);
    RUN(test_missing_tensor);
    RUN(test_misshaped_tensor);
    RUN(test_bad_config_numbers);
    RUN(test_transformers_checkpoints);
}
