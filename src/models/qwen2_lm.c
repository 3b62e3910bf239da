/*
 * qwen2_lm.c — the Qwen2 decoder of Qwen2-VL / Qwen2.5-VL.
 *
 * Per layer (pre-norm, like llama2.c's run.c):
 *   x += o_proj(attention(rope(q_proj(rmsnorm(x))), rope(k_proj(..)), v_proj(..)))
 *   x += down_proj(silu(gate_proj(rmsnorm(x))) * up_proj(rmsnorm(x)))
 * q/k/v have biases, KV heads are grouped (GQA), and the rotary embedding
 * is M-RoPE: each frequency band reads the temporal, height or width
 * position of the token (mrope_section). The output head is lm_head, or
 * the (possibly quantized) embedding matrix when tie_word_embeddings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "io/config.h"
#include "io/weights.h"
#include "models/qwen2_vl.h"

#define NAME_LEN 512

/* ---- loading ------------------------------------------------------------ */

static vlm_status read_mrope_section(qwen2_lm *lm, const cJSON *config) {
    const cJSON *scaling = config_text_get(config, "rope_scaling");
    if (!scaling) scaling = config_text_get(config, "rope_parameters"); /* transformers v5 */
    const cJSON *section = scaling ? cJSON_GetObjectItemCaseSensitive(scaling, "mrope_section") : NULL;
    int half = lm->head_dim / 2;
    if (!section) { /* plain RoPE: every band reads the (shared) temporal axis */
        lm->mrope_section[0] = half, lm->mrope_section[1] = lm->mrope_section[2] = 0;
        return VLM_OK;
    }
    int sum = 0;
    if (!cJSON_IsArray(section) || cJSON_GetArraySize(section) != 3)
        return vlm_error(VLM_ERR_FORMAT, "config.json: rope_scaling.mrope_section must be 3 integers");
    for (int i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetArrayItem(section, i);
        if (!cJSON_IsNumber(v) || v->valuedouble < 0)
            return vlm_error(VLM_ERR_FORMAT, "config.json: rope_scaling.mrope_section[%d] is not a count", i);
        lm->mrope_section[i] = v->valueint;
        sum += v->valueint;
    }
    if (sum != half)
        return vlm_error(VLM_ERR_FORMAT,
                         "config.json: mrope_section sums to %d but head_dim/2 is %d", sum, half);
    return VLM_OK;
}

/* A number of the text config, else of its object `section` (NULL: none;
 * transformers v5 moved rope_theta into rope_parameters): def when absent,
 * an error when it is not a finite number above min (or equal to it, where
 * min_allowed). */
static vlm_status read_number(const cJSON *config, const char *section, const char *key, double def, double min,
                              int min_allowed, double *out) {
    const cJSON *v = config_text_get(config, key);
    if (!v && section) v = cJSON_GetObjectItemCaseSensitive(config_text_get(config, section), key);
    *out = v ? (cJSON_IsNumber(v) ? v->valuedouble : NAN) : def;
    if (isfinite(*out) && (*out > min || (min_allowed && *out == min))) return VLM_OK;
    return vlm_error(VLM_ERR_FORMAT, "config.json: %s must be a number %s %g", key, min_allowed ? ">=" : ">", min);
}

static vlm_status read_text_dims(qwen2_lm *lm, const cJSON *config) {
    lm->dim = config_text_int(config, "hidden_size", 0);
    lm->n_layers = (int)config_text_int(config, "num_hidden_layers", 0);
    lm->hidden = config_text_int(config, "intermediate_size", 0);
    lm->n_heads = (int)config_text_int(config, "num_attention_heads", 0);
    lm->n_kv_heads = (int)config_text_int(config, "num_key_value_heads", lm->n_heads);
    lm->vocab = config_text_int(config, "vocab_size", 0);
    int64_t head_dim = lm->n_heads > 0 ? lm->dim / lm->n_heads : 0;
    lm->head_dim = head_dim <= 65536 ? (int)head_dim : 0;
    if (lm->dim <= 0 || lm->n_layers <= 0 || lm->hidden <= 0 || lm->n_heads <= 0 ||
        lm->n_kv_heads <= 0 || lm->vocab <= 0 || lm->dim % lm->n_heads || lm->head_dim <= 0 ||
        lm->n_heads % lm->n_kv_heads || lm->head_dim % 2 || lm->n_layers > 4096)
        return vlm_error(VLM_ERR_FORMAT,
                         "config.json: unsupported text dims (hidden_size %lld, layers %d, "
                         "heads %d, kv heads %d, intermediate %lld, vocab %lld)",
                         (long long)lm->dim, lm->n_layers, lm->n_heads, lm->n_kv_heads,
                         (long long)lm->hidden, (long long)lm->vocab);
    double eps;
    vlm_status st = read_number(config, NULL, "rms_norm_eps", 1e-6, 0, 1, &eps);
    if (!st) st = read_number(config, "rope_parameters", "rope_theta", 1000000.0, 0, 0, &lm->rope_theta);
    lm->eps = (float)eps;
    return st ? st : read_mrope_section(lm, config);
}

static vlm_status bind_layer(qwen2_lm *lm, qwen2_layer *l, const st_archive *a,
                             const vlm_quant_config *q, const char *text, int i) {
    char p[NAME_LEN];
    vlm_status st;
    snprintf(p, sizeof p, "%slayers.%d.input_layernorm", text, i);
    if ((st = norm_bind(a, p, NORM_RMS, lm->dim, lm->eps, &l->input_norm))) return st;
    snprintf(p, sizeof p, "%slayers.%d.post_attention_layernorm", text, i);
    if ((st = norm_bind(a, p, NORM_RMS, lm->dim, lm->eps, &l->post_attention_norm))) return st;
    snprintf(p, sizeof p, "%slayers.%d.self_attn", text, i);
    if ((st = self_attention_bind(a, q, p, lm->dim, lm->n_heads, lm->n_kv_heads, lm->head_dim,
                                  BIAS_REQUIRED, BIAS_NONE, &l->attn)))
        return st;
    snprintf(p, sizeof p, "%slayers.%d.mlp", text, i);
    if ((st = swiglu_mlp_bind(a, q, p, lm->dim, lm->hidden, BIAS_NONE, &l->mlp))) return st;
    /* decode runs these one token at a time: regroup their scales for the
     * integer path (the vision tower's big batches never take it) */
    linear_layer *all[] = {&l->attn.q, &l->attn.k, &l->attn.v, &l->attn.o, &l->mlp.gate, &l->mlp.up, &l->mlp.down};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        if ((st = weights_pack_quads(a, &all[k]->w))) return st;
    return VLM_OK;
}

/* lm_head, or the embedding when the config ties them. */
static vlm_status bind_head(qwen2_lm *lm, const cJSON *config, const st_archive *a,
                            const vlm_quant_config *q, const qwen_names *names) {
    const cJSON *tie = config_text_get(config, "tie_word_embeddings");
    char name[NAME_LEN];
    snprintf(name, sizeof name, "%s.weight", names->lm_head);
    int tied = tie ? cJSON_IsTrue(tie) : !st_find(a, name);
    if (tied) {
        lm->lm_head = lm->embed;
        return VLM_OK;
    }
    vlm_status st = weights_linear(a, q, names->lm_head, &lm->lm_head);
    if (st == VLM_OK && (lm->lm_head.rows != lm->vocab || lm->lm_head.cols != lm->dim))
        return vlm_error(VLM_ERR_FORMAT, "tensor %s is [%lld, %lld], expected [%lld, %lld]", name,
                         (long long)lm->lm_head.rows, (long long)lm->lm_head.cols,
                         (long long)lm->vocab, (long long)lm->dim);
    return st ? st : weights_pack_quads(a, &lm->lm_head);
}

vlm_status qwen2_lm_load(qwen2_lm *lm, const cJSON *config, const st_archive *a,
                         const vlm_quant_config *q, const qwen_names *names) {
    char p[NAME_LEN];
    memset(lm, 0, sizeof *lm);
    vlm_status st = read_text_dims(lm, config);
    if (st) return st;
    snprintf(p, sizeof p, "%sembed_tokens", names->text);
    if ((st = weights_linear(a, q, p, &lm->embed))) return st;
    if (lm->embed.rows != lm->vocab || lm->embed.cols != lm->dim)
        return vlm_error(VLM_ERR_FORMAT, "tensor %s.weight is [%lld, %lld], expected [%lld, %lld]",
                         p, (long long)lm->embed.rows, (long long)lm->embed.cols,
                         (long long)lm->vocab, (long long)lm->dim);
    if ((st = weights_pack_quads(a, &lm->embed))) return st;
    lm->layers = vlm_calloc((size_t)lm->n_layers, sizeof *lm->layers);
    if (!lm->layers) return VLM_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < lm->n_layers; i++)
        if ((st = bind_layer(lm, &lm->layers[i], a, q, names->text, i))) return st;
    snprintf(p, sizeof p, "%snorm", names->text);
    if ((st = norm_bind(a, p, NORM_RMS, lm->dim, lm->eps, &lm->norm))) return st;
    return bind_head(lm, config, a, q, names);
}

void qwen2_lm_free(qwen2_lm *lm) {
    for (int i = 0; lm->layers && i < lm->n_layers; i++) {
        qwen2_layer *l = &lm->layers[i];
        norm_free(&l->input_norm);
        norm_free(&l->post_attention_norm);
        self_attention_free(&l->attn);
        swiglu_mlp_free(&l->mlp);
    }
    free(lm->layers);
    norm_free(&lm->norm);
    if (lm->lm_head.quad_params != lm->embed.quad_params) vlm_weight_free_quads(&lm->lm_head);
    vlm_weight_free_quads(&lm->embed);
    memset(lm, 0, sizeof *lm);
}

/* ---- workspace ---------------------------------------------------------- */

vlm_status qwen2_workspace_new(const qwen2_lm *lm, int64_t max_rows, qwen2_workspace *ws) {
    int64_t q_dim = (int64_t)lm->n_heads * lm->head_dim, half = lm->head_dim / 2;
    int64_t scratch = 2 * (q_dim > lm->hidden ? q_dim : lm->hidden);
    memset(ws, 0, sizeof *ws);
    ws->max_rows = max_rows;
    ws->normed = vlm_malloc((size_t)(max_rows * lm->dim) * sizeof(float));
    ws->attn_out = vlm_malloc((size_t)(max_rows * lm->dim) * sizeof(float));
    ws->scratch = vlm_malloc((size_t)(max_rows * scratch) * sizeof(float));
    ws->cos = vlm_malloc((size_t)(max_rows * half) * sizeof(float));
    ws->sin = vlm_malloc((size_t)(max_rows * half) * sizeof(float));
    if (!ws->normed || !ws->attn_out || !ws->scratch || !ws->cos || !ws->sin) {
        qwen2_workspace_free(ws);
        return vlm_error(VLM_ERR_OUT_OF_MEMORY, "out of memory for %lld-token activations",
                         (long long)max_rows);
    }
    return VLM_OK;
}

void qwen2_workspace_free(qwen2_workspace *ws) {
    free(ws->normed), free(ws->attn_out), free(ws->scratch), free(ws->cos), free(ws->sin);
    memset(ws, 0, sizeof *ws);
}

/* ---- forward ------------------------------------------------------------ */

void qwen2_lm_embed(const qwen2_lm *lm, const int32_t *ids, int64_t n, float *x) {
    for (int64_t i = 0; i < n; i++) vlm_weight_row(&lm->embed, ids[i], x + i * lm->dim);
}

vlm_status qwen2_lm_forward(const qwen2_lm *lm, qwen2_workspace *ws, kv_cache *cache, float *x,
                            int64_t n, const int64_t *pos, int64_t pos_stride) {
    if (n > ws->max_rows)
        return vlm_error(VLM_ERR_INTERNAL, "forward of %lld rows exceeds workspace of %lld",
                         (long long)n, (long long)ws->max_rows);
    vlm_status st = kv_cache_reserve(cache, n);
    if (st) return st;
    int64_t pos0 = cache->length;
    mrope_cos_sin(pos, pos_stride, n, lm->mrope_section, lm->head_dim, lm->rope_theta, ws->cos,
                  ws->sin);
    for (int i = 0; i < lm->n_layers; i++) {
        const qwen2_layer *l = &lm->layers[i];
        // attention: x += o_proj(attn(rope(q), rope(k), v)) on rmsnorm(x)
        norm_forward(&l->input_norm, ws->normed, x, n);
        self_attention_forward(&l->attn, ws->attn_out, ws->normed, n, ws->cos, ws->sin,
                               kv_cache_keys(cache, i), kv_cache_values(cache, i), pos0,
                               ws->scratch);
        residual_add(x, ws->attn_out, n * lm->dim);
        // feed-forward: x += swiglu_mlp(rmsnorm(x))
        norm_forward(&l->post_attention_norm, ws->normed, x, n);
        swiglu_mlp_forward(&l->mlp, ws->attn_out, ws->normed, n, ws->scratch);
        residual_add(x, ws->attn_out, n * lm->dim);
    }
    kv_cache_advance(cache, n);
    return VLM_OK;
}

void qwen2_lm_logits(const qwen2_lm *lm, float *x, int64_t n, float *logits) {
    norm_forward(&lm->norm, x, x, n);
    vlm_linear(logits, x, n, &lm->lm_head, NULL);
}
