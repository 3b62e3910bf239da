/*
 * blocks.c — shared transformer blocks (see blocks.h): binding from the
 * checkpoint and the forward pass of each, built on the kernels.
 */
#include "models/blocks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/weights.h"

#define NAME_MAX_LEN 512

/* "prefix.suffix" into buf; errors when it does not fit. */
static vlm_status join_name(char *buf, const char *prefix, const char *suffix) {
    int len = snprintf(buf, NAME_MAX_LEN, "%s.%s", prefix, suffix);
    if (len < 0 || len >= NAME_MAX_LEN)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "tensor name too long: %s.%s", prefix, suffix);
    return VLM_OK;
}

/* ---- linear layer ---------------------------------------------------- */

vlm_status linear_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                       int64_t out, int64_t in, bias_mode bias, linear_layer *l) {
    memset(l, 0, sizeof *l);
    vlm_status st = weights_linear(a, q, prefix, &l->w);
    if (st) return st;
    if (l->w.rows != out || l->w.cols != in)
        return vlm_error(VLM_ERR_FORMAT, "tensor %s.weight is [%lld, %lld], expected [%lld, %lld]",
                         prefix, (long long)l->w.rows, (long long)l->w.cols, (long long)out,
                         (long long)in);
    if (bias == BIAS_REQUIRED) return weights_bias_f32(a, prefix, out, &l->bias);
    if (bias == BIAS_OPTIONAL) return weights_bias_f32_opt(a, prefix, out, &l->bias);
    return VLM_OK;
}

/* prefix.child as a linear layer. */
static vlm_status linear_bind_child(const st_archive *a, const vlm_quant_config *q,
                                    const char *prefix, const char *child, int64_t out,
                                    int64_t in, bias_mode bias, linear_layer *l) {
    char name[NAME_MAX_LEN];
    vlm_status st = join_name(name, prefix, child);
    return st ? st : linear_bind(a, q, name, out, in, bias, l);
}

void linear_free(linear_layer *l) {
    vlm_weight_free_quads(&l->w);
    free(l->bias);
    l->bias = NULL;
}

void linear_forward(const linear_layer *l, float *y, const float *x, int64_t m) {
    vlm_linear(y, x, m, &l->w, l->bias);
}

void residual_add(float *x, const float *y, int64_t count) {
    for (int64_t i = 0; i < count; i++) x[i] += y[i];
}

/* ---- normalisation --------------------------------------------------- */

vlm_status norm_bind(const st_archive *a, const char *prefix, norm_kind kind, int64_t dim,
                     float eps, norm_layer *n) {
    memset(n, 0, sizeof *n);
    n->kind = kind, n->dim = dim, n->eps = eps;
    vlm_status st = weights_norm_f32(a, prefix, dim, &n->weight);
    if (st == VLM_OK && kind == NORM_LAYER) st = weights_bias_f32(a, prefix, dim, &n->bias);
    return st;
}

void norm_free(norm_layer *n) {
    free(n->weight);
    free(n->bias);
    n->weight = n->bias = NULL;
}

void norm_forward(const norm_layer *n, float *y, const float *x, int64_t rows) {
    if (n->kind == NORM_RMS) vlm_rms_norm(y, x, n->weight, rows, n->dim, n->eps);
    else vlm_layer_norm(y, x, n->weight, n->bias, rows, n->dim, n->eps);
}

/* ---- feed-forward ---------------------------------------------------- */

vlm_status swiglu_mlp_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                           int64_t dim, int64_t hidden, bias_mode bias, swiglu_mlp *mlp) {
    vlm_status st;
    memset(mlp, 0, sizeof *mlp);
    mlp->dim = dim, mlp->hidden = hidden;
    if ((st = linear_bind_child(a, q, prefix, "gate_proj", hidden, dim, bias, &mlp->gate)))
        return st;
    if ((st = linear_bind_child(a, q, prefix, "up_proj", hidden, dim, bias, &mlp->up)))
        return st;
    if ((st = linear_bind_child(a, q, prefix, "down_proj", dim, hidden, bias, &mlp->down)))
        return st;
    return VLM_OK;
}

void swiglu_mlp_free(swiglu_mlp *mlp) {
    linear_free(&mlp->gate);
    linear_free(&mlp->up);
    linear_free(&mlp->down);
}

void swiglu_mlp_forward(const swiglu_mlp *mlp, float *y, const float *x, int64_t m, float *scratch) {
    float *gate = scratch, *up = scratch + m * mlp->hidden;
    linear_forward(&mlp->gate, gate, x, m);
    linear_forward(&mlp->up, up, x, m);
    vlm_swiglu(gate, up, m * mlp->hidden);
    linear_forward(&mlp->down, y, gate, m);
}

vlm_status gelu_mlp_bind(const st_archive *a, const vlm_quant_config *q, const char *fc1,
                         const char *fc2, int64_t dim, int64_t hidden, int64_t out,
                         activation act, gelu_mlp *mlp) {
    memset(mlp, 0, sizeof *mlp);
    mlp->dim = dim, mlp->hidden = hidden, mlp->out = out, mlp->act = act;
    vlm_status st = linear_bind(a, q, fc1, hidden, dim, BIAS_REQUIRED, &mlp->fc1);
    if (st == VLM_OK) st = linear_bind(a, q, fc2, out, hidden, BIAS_REQUIRED, &mlp->fc2);
    return st;
}

void gelu_mlp_free(gelu_mlp *mlp) {
    linear_free(&mlp->fc1);
    linear_free(&mlp->fc2);
}

static void activate(activation act, float *x, int64_t n) {
    switch (act) {
    case ACT_GELU_ERF: vlm_gelu_erf(x, n); break;
    case ACT_GELU_TANH: vlm_gelu_tanh(x, n); break;
    case ACT_QUICK_GELU: vlm_quick_gelu(x, n); break;
    }
}

void gelu_mlp_forward(const gelu_mlp *mlp, float *y, const float *x, int64_t m, float *scratch) {
    linear_forward(&mlp->fc1, scratch, x, m);
    activate(mlp->act, scratch, m * mlp->hidden);
    linear_forward(&mlp->fc2, y, scratch, m);
}

/* ---- attention ------------------------------------------------------- */

void rope_rows(float *x, int64_t n, int64_t stride, int n_heads, int head_dim, const float *cos,
               const float *sin) {
    int half = head_dim / 2;
    for (int64_t r = 0; r < n; r++)
        for (int h = 0; h < n_heads; h++)
            vlm_rope(x + r * stride + (int64_t)h * head_dim, head_dim, cos + r * half,
                     sin + r * half, 1);
}

vlm_status self_attention_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                               int64_t dim, int n_heads, int n_kv_heads, int head_dim,
                               bias_mode qkv_bias, bias_mode o_bias, self_attention *att) {
    vlm_status st;
    int64_t q_dim = (int64_t)n_heads * head_dim, kv_dim = (int64_t)n_kv_heads * head_dim;
    memset(att, 0, sizeof *att);
    att->n_heads = n_heads, att->n_kv_heads = n_kv_heads, att->head_dim = head_dim;
    att->scale = 1.0f / sqrtf((float)head_dim);
    if ((st = linear_bind_child(a, q, prefix, "q_proj", q_dim, dim, qkv_bias, &att->q)))
        return st;
    if ((st = linear_bind_child(a, q, prefix, "k_proj", kv_dim, dim, qkv_bias, &att->k)))
        return st;
    if ((st = linear_bind_child(a, q, prefix, "v_proj", kv_dim, dim, qkv_bias, &att->v)))
        return st;
    if ((st = linear_bind_child(a, q, prefix, "o_proj", dim, q_dim, o_bias, &att->o)))
        return st;
    return VLM_OK;
}

void self_attention_free(self_attention *att) {
    linear_free(&att->q);
    linear_free(&att->k);
    linear_free(&att->v);
    linear_free(&att->o);
}

void self_attention_forward(const self_attention *att, float *y, const float *x, int64_t n,
                            const float *cos, const float *sin, float *cache_k, float *cache_v,
                            int64_t pos0, float *scratch) {
    int64_t q_dim = (int64_t)att->n_heads * att->head_dim;
    int64_t kv_dim = (int64_t)att->n_kv_heads * att->head_dim;
    float *q = scratch, *ctx = scratch + n * q_dim;
    float *k_new = cache_k + pos0 * kv_dim, *v_new = cache_v + pos0 * kv_dim;
    // q, k, v projections (new keys/values go straight into the cache)
    linear_forward(&att->q, q, x, n);
    linear_forward(&att->k, k_new, x, n);
    linear_forward(&att->v, v_new, x, n);
    // rotary position embedding
    rope_rows(q, n, q_dim, att->n_heads, att->head_dim, cos, sin);
    rope_rows(k_new, n, kv_dim, att->n_kv_heads, att->head_dim, cos, sin);
    // causal attention over everything cached so far
    vlm_attention(ctx, q, n, q_dim, cache_k, cache_v, pos0 + n, kv_dim, att->n_heads,
                  att->n_kv_heads, att->head_dim, pos0, att->scale);
    // output projection
    linear_forward(&att->o, y, ctx, n);
}

vlm_status vision_attention_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                                 int64_t dim, int n_heads, vision_attention *att) {
    vlm_status st;
    memset(att, 0, sizeof *att);
    att->n_heads = n_heads, att->head_dim = (int)(dim / n_heads);
    if ((st = linear_bind_child(a, q, prefix, "qkv", 3 * dim, dim, BIAS_REQUIRED, &att->qkv)))
        return st;
    if ((st = linear_bind_child(a, q, prefix, "proj", dim, dim, BIAS_REQUIRED, &att->proj)))
        return st;
    return VLM_OK;
}

void vision_attention_free(vision_attention *att) {
    linear_free(&att->qkv);
    linear_free(&att->proj);
}

void vision_attention_forward(const vision_attention *att, float *y, const float *x, int64_t n,
                              const float *cos, const float *sin, const int64_t *cu,
                              int n_segments, float *scratch) {
    int64_t dim = (int64_t)att->n_heads * att->head_dim;
    float *qkv = scratch, *ctx = scratch + 3 * n * dim;
    // fused q|k|v projection: row = [q (dim) | k (dim) | v (dim)]
    linear_forward(&att->qkv, qkv, x, n);
    // 2-D rotary embedding on q and k
    rope_rows(qkv, n, 3 * dim, att->n_heads, att->head_dim, cos, sin);
    rope_rows(qkv + dim, n, 3 * dim, att->n_heads, att->head_dim, cos, sin);
    // full attention within each segment (an image, a frame or a window)
    float scale = 1.0f / sqrtf((float)att->head_dim);
    for (int s = 0; s < n_segments; s++) {
        int64_t begin = cu[s], len = cu[s + 1] - cu[s];
        const float *seg = qkv + begin * 3 * dim;
        vlm_attention(ctx + begin * dim, seg, len, 3 * dim, seg + dim, seg + 2 * dim, len, 3 * dim,
                      att->n_heads, att->n_heads, att->head_dim, -1, scale);
    }
    // output projection
    linear_forward(&att->proj, y, ctx, n);
}

/* ---- patch merger ------------------------------------------------------ */

void patch_merger_forward(const patch_merger *pm, float *y, const float *x, int64_t n,
                          float *scratch) {
    // norm each patch; `unit` consecutive normed patches are one merged row
    norm_forward(&pm->norm, scratch, x, n);
    gelu_mlp_forward(&pm->mlp, y, scratch, n / pm->unit, scratch + n * pm->norm.dim);
}

void patch_merger_free(patch_merger *pm) {
    norm_free(&pm->norm);
    gelu_mlp_free(&pm->mlp);
}
