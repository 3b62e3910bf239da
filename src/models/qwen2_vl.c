/*
 * qwen2_vl.c — Qwen2-VL and Qwen2.5-VL as a model_arch: load the config
 * and weights (MLX folders and original transformers checkpoints), and
 * run sessions:
 *
 *   prefill: vision tower(pixels) -> image features
 *            embed(ids) with the features scattered into <|image_pad|> rows
 *            M-RoPE positions (get_rope_index) -> decoder, chunk by chunk
 *   decode:  embed(id) at position max_prompt_position + 1 + step
 *
 * The two variants differ only inside the vision tower (qwen2_vl_vision.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "io/config.h"
#include "models/qwen2_vl.h"

/* Rows per decoder call in prefill: bounds activation memory. */
#define PREFILL_MAX_ROWS 512

struct model_session {
    vlm_model *model;
    const qwen_vl *qv;
    kv_cache *cache;
    qwen2_workspace ws;
    float *x;          /* (PREFILL_MAX_ROWS, dim) activations */
    int64_t next_pos;  /* M-RoPE position of the next token (all axes) */
};

/* ---- loading ------------------------------------------------------------ */

/* MLX folders say language_model.model.*, transformers checkpoints model.*
 * (or model.language_model.* since transformers 4.52). */
static vlm_status detect_names(const st_archive *a, qwen_names *n) {
    static const qwen_names layouts[] = {
        {"vision_tower.", "language_model.model.", "language_model.lm_head"},
        {"model.visual.", "model.language_model.", "lm_head"},
        {"visual.", "model.", "lm_head"},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
        char name[128];
        snprintf(name, sizeof name, "%sembed_tokens.weight", layouts[i].text);
        if (st_find(a, name)) {
            *n = layouts[i];
            return VLM_OK;
        }
    }
    return vlm_error(VLM_ERR_NOT_FOUND,
                     "missing tensor language_model.model.embed_tokens.weight (also looked for "
                     "model.embed_tokens.weight and model.language_model.embed_tokens.weight)");
}

static vlm_status qwen_load(vlm_model *m) {
    int is_2_5 = !strcmp(m->model_type, "qwen2_5_vl");
    qwen_vl *qv = vlm_calloc(1, sizeof *qv);
    if (!qv) return VLM_ERR_OUT_OF_MEMORY;
    m->arch_state = qv;
    vlm_status st = config_quantization(m->config, &qv->quant);
    if (st == VLM_OK) st = detect_names(m->weights, &qv->names);
    if (st == VLM_OK) st = qwen2_lm_load(&qv->lm, m->config, m->weights, &qv->quant, &qv->names);
    if (st == VLM_OK)
        st = qwen_vision_load(&qv->vision, m->config, m->weights, &qv->quant, qv->names.vision,
                              is_2_5, qv->lm.dim);
    if (st) return st;
    qv->tokens.image_token = (int32_t)config_int(m->config, "image_token_id", 151655);
    qv->tokens.vision_start_token = (int32_t)config_int(m->config, "vision_start_token_id", 151652);
    qv->tokens.spatial_merge_size = qv->vision.merge;
    m->vocab_size = qv->lm.vocab;
    m->max_context = config_text_int(m->config, "max_position_embeddings", 32768);
    return VLM_OK;
}

static void qwen_unload(vlm_model *m) {
    qwen_vl *qv = m->arch_state;
    if (!qv) return;
    qwen2_lm_free(&qv->lm);
    qwen_vision_free(&qv->vision);
    free(qv);
    m->arch_state = NULL;
}

/* ---- sessions ----------------------------------------------------------- */

static void qwen_session_free(model_session *s) {
    if (!s) return;
    kv_cache_free(s->cache);
    qwen2_workspace_free(&s->ws);
    free(s->x);
    free(s);
}

static vlm_status qwen_session_new(vlm_model *m, int64_t max_tokens, model_session **out) {
    const qwen_vl *qv = m->arch_state;
    const qwen2_lm *lm = &qv->lm;
    *out = NULL;
    if (max_tokens <= 0 || max_tokens > m->max_context)
        return vlm_error(VLM_ERR_LIMIT,
                         "%lld tokens requested but the model's context is %lld tokens "
                         "(max_position_embeddings)",
                         (long long)max_tokens, (long long)m->max_context);
    model_session *s = vlm_calloc(1, sizeof *s);
    if (!s) return VLM_ERR_OUT_OF_MEMORY;
    s->model = m, s->qv = qv;
    int64_t rows = max_tokens < PREFILL_MAX_ROWS ? max_tokens : PREFILL_MAX_ROWS;
    vlm_status st = kv_cache_new(lm->n_layers, max_tokens, (int64_t)lm->n_kv_heads * lm->head_dim,
                                 &s->cache);
    if (st == VLM_OK) st = qwen2_workspace_new(lm, rows, &s->ws);
    if (st == VLM_OK && !(s->x = vlm_malloc((size_t)(rows * lm->dim) * sizeof(float))))
        st = VLM_ERR_OUT_OF_MEMORY;
    if (st) {
        qwen_session_free(s);
        return st;
    }
    *out = s;
    return VLM_OK;
}

/* ---- prefill ------------------------------------------------------------ */

static vlm_status check_ids(const qwen2_lm *lm, const int32_t *ids, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= lm->vocab)
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "token id %d at position %lld is outside "
                             "the vocabulary (size %lld)", ids[i], (long long)i, (long long)lm->vocab);
    return VLM_OK;
}

static int64_t count_token(const int32_t *ids, int64_t n, int32_t token) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += ids[i] == token;
    return c;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Vision tower on the images: one feature row per image token in ids. */
static vlm_status encode_images(const qwen_vl *qv, const int32_t *ids, int64_t n,
                                const model_images *images, float **features, double *ms) {
    int n_images = images ? images->n_images : 0;
    int64_t in_prompt = count_token(ids, n, qv->tokens.image_token), needed = 0;
    *features = NULL;
    if (n_images > 0) {
        vlm_status st = qwen_vision_check(&qv->vision, images);
        if (st) return st;
        int64_t unit = (int64_t)qv->vision.merge * qv->vision.merge;
        needed = vision_patch_count((const int64_t(*)[3])images->grid_thw, n_images) / unit;
    }
    if (in_prompt != needed)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                         "the prompt has %lld image tokens but the %d image(s) give %lld",
                         (long long)in_prompt, n_images, (long long)needed);
    if (n_images == 0) return VLM_OK;
    double t0 = now_ms();
    *features = vlm_malloc((size_t)(needed * qv->lm.dim) * sizeof(float));
    if (!*features) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = qwen_vision_encode(&qv->vision, images, *features);
    if (ms) *ms = now_ms() - t0;
    return st;
}

/* Embeddings of rows [0, rows) of ids, image tokens taking the next
 * feature rows (*next_feature advances). */
static void embed_rows(const qwen_vl *qv, const int32_t *ids, int64_t rows, const float *features,
                       int64_t *next_feature, float *x) {
    int64_t dim = qv->lm.dim;
    for (int64_t i = 0; i < rows; i++) {
        if (features && ids[i] == qv->tokens.image_token)
            memcpy(x + i * dim, features + (*next_feature)++ * dim, (size_t)dim * sizeof(float));
        else
            qwen2_lm_embed(&qv->lm, ids + i, 1, x + i * dim);
    }
}

/* M-RoPE positions of the prompt, continuing after what is cached. */
static vlm_status prompt_positions(model_session *s, const int32_t *ids, int64_t n,
                                   const model_images *images, int64_t **pos, int64_t *next_pos) {
    int n_images = images ? images->n_images : 0;
    int64_t delta = 0;
    *pos = vlm_malloc((size_t)(3 * n) * sizeof(int64_t));
    if (!*pos) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = mrope_position_ids(&s->qv->tokens, ids, n,
                                       n_images ? (const int64_t(*)[3])images->grid_thw : NULL,
                                       n_images, *pos, &delta);
    if (st) return st;
    for (int64_t i = 0; i < 3 * n; i++) (*pos)[i] += s->next_pos;
    *next_pos = s->next_pos + n + delta;
    return VLM_OK;
}

static vlm_status run_prompt(model_session *s, const int32_t *ids, int64_t n, const int64_t *pos,
                             const float *features, int64_t chunk, float *logits, int all_logits) {
    const qwen2_lm *lm = &s->qv->lm;
    int64_t step = chunk > 0 && chunk < s->ws.max_rows ? chunk : s->ws.max_rows, next_feature = 0;
    for (int64_t off = 0; off < n; off += step) {
        int64_t rows = n - off < step ? n - off : step;
        embed_rows(s->qv, ids + off, rows, features, &next_feature, s->x);
        vlm_status st = qwen2_lm_forward(lm, &s->ws, s->cache, s->x, rows, pos + off, n);
        if (st) return st;
        if (all_logits) qwen2_lm_logits(lm, s->x, rows, logits + off * lm->vocab);
        else if (off + rows == n) qwen2_lm_logits(lm, s->x + (rows - 1) * lm->dim, 1, logits);
    }
    return VLM_OK;
}

static vlm_status qwen_prefill(model_session *s, const int32_t *ids, int64_t n,
                               const model_images *images, int64_t chunk, float *logits,
                               int all_logits, double *image_encode_ms) {
    const qwen_vl *qv = s->qv;
    float *features = NULL;
    int64_t *pos = NULL, next_pos = 0;
    if (n <= 0) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "empty prompt");
    if (image_encode_ms) *image_encode_ms = 0;
    vlm_status st = check_ids(&qv->lm, ids, n);
    if (st == VLM_OK) st = kv_cache_reserve(s->cache, n);
    if (st == VLM_OK) st = prompt_positions(s, ids, n, images, &pos, &next_pos);
    if (st == VLM_OK) st = encode_images(qv, ids, n, images, &features, image_encode_ms);
    if (st == VLM_OK) st = run_prompt(s, ids, n, pos, features, chunk, logits, all_logits);
    if (st == VLM_OK) s->next_pos = next_pos;
    free(features);
    free(pos);
    return st;
}

/* ---- decode ------------------------------------------------------------- */

static vlm_status qwen_decode(model_session *s, int32_t id, float *logits) {
    const qwen2_lm *lm = &s->qv->lm;
    vlm_status st = check_ids(lm, &id, 1);
    if (st) return st;
    int64_t pos[3] = {s->next_pos, s->next_pos, s->next_pos};
    qwen2_lm_embed(lm, &id, 1, s->x);
    if ((st = qwen2_lm_forward(lm, &s->ws, s->cache, s->x, 1, pos, 1))) return st;
    qwen2_lm_logits(lm, s->x, 1, logits);
    s->next_pos++;
    return VLM_OK;
}

/* ---- prompt expansion --------------------------------------------------- */

static vlm_status qwen_expand_image_tokens(const vlm_model *m, const int32_t *ids, int64_t n,
                                           const model_images *images, int32_t **out,
                                           int64_t *n_out) {
    const qwen_vl *qv = m->arch_state;
    int32_t image = qv->tokens.image_token;
    int n_images = images ? images->n_images : 0;
    int64_t placeholders = count_token(ids, n, image), unit = (int64_t)qv->vision.merge * qv->vision.merge;
    *out = NULL, *n_out = 0;
    if (placeholders != n_images)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                         "the prompt has %lld image placeholder(s) but %d image(s) were given",
                         (long long)placeholders, n_images);
    if (n_images) {
        vlm_status st = qwen_vision_check(&qv->vision, images);
        if (st) return st;
    }
    int64_t total = n - n_images +
                    (n_images ? vision_patch_count((const int64_t(*)[3])images->grid_thw, n_images) / unit : 0);
    int32_t *ex = vlm_malloc((size_t)(total > 0 ? total : 1) * sizeof(int32_t));
    if (!ex) return VLM_ERR_OUT_OF_MEMORY;
    int64_t k = 0;
    for (int64_t i = 0, img = 0; i < n; i++) {
        if (ids[i] != image) {
            ex[k++] = ids[i];
            continue;
        }
        const int64_t *g = images->grid_thw[img++];
        for (int64_t j = 0; j < g[0] * g[1] * g[2] / unit; j++) ex[k++] = image;
    }
    *out = ex, *n_out = k;
    return VLM_OK;
}

/* ---- the two architectures ---------------------------------------------- */

#define QWEN_VL_ARCH(type)                                                         \
    {                                                                              \
        .model_type = type, .load = qwen_load, .unload = qwen_unload,             \
        .session_new = qwen_session_new, .session_free = qwen_session_free,       \
        .prefill = qwen_prefill, .decode = qwen_decode,                            \
        .expand_image_tokens = qwen_expand_image_tokens,                           \
    }

const model_arch qwen2_vl_arch = QWEN_VL_ARCH("qwen2_vl");
const model_arch qwen2_5_vl_arch = QWEN_VL_ARCH("qwen2_5_vl");
