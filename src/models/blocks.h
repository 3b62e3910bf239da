/*
 * blocks.h — the transformer building blocks architectures are wired from.
 *
 * Each block binds its weights from the checkpoint (never copying large
 * tensors: vlm_weight points into the mmap; only 1-D norm weights and
 * biases become f32 arrays, and models may regroup the scales of weights
 * that decode uses, weights_pack_quads) and runs on f32 activation rows
 * through the shared kernels. Blocks are stateless: callers pass scratch memory whose
 * size each forward function documents, so nothing is allocated per token.
 *
 * Names follow the checkpoint: a block is bound from a tensor-name prefix
 * such as "language_model.model.layers.3.self_attn"; every missing or
 * misshaped tensor is an error that names it.
 */
#ifndef VLM_MODELS_BLOCKS_H
#define VLM_MODELS_BLOCKS_H

#include <stdint.h>

#include "core/kernels.h"
#include "io/config.h"
#include "io/safetensors.h"

/* ---- linear layer ---------------------------------------------------- */

typedef enum { BIAS_NONE, BIAS_REQUIRED, BIAS_OPTIONAL } bias_mode;

typedef struct linear_layer {
    vlm_weight w;  /* [out, in], stored dtype, from the mmap */
    float *bias;   /* [out] f32, or NULL */
} linear_layer;

/* Bind prefix.weight (+ .scales/.biases when quantized, + .bias) and check
 * it is [out, in]. */
vlm_status linear_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                       int64_t out, int64_t in, bias_mode bias, linear_layer *l);
void linear_free(linear_layer *l);
/* y[m][out] = x[m][in] W^T + bias */
void linear_forward(const linear_layer *l, float *y, const float *x, int64_t m);

/* x[i] += y[i] for count floats (the residual connection). */
void residual_add(float *x, const float *y, int64_t count);

/* ---- normalisation --------------------------------------------------- */

typedef enum { NORM_RMS, NORM_LAYER } norm_kind;

typedef struct norm_layer {
    norm_kind kind;
    int64_t dim;
    float eps;
    float *weight; /* [dim] */
    float *bias;   /* [dim], LayerNorm only */
} norm_layer;

vlm_status norm_bind(const st_archive *a, const char *prefix, norm_kind kind, int64_t dim,
                     float eps, norm_layer *n);
void norm_free(norm_layer *n);
void norm_forward(const norm_layer *n, float *y, const float *x, int64_t rows);

/* ---- feed-forward ---------------------------------------------------- */

/* down(silu(gate(x)) * up(x)) — Llama/Qwen MLP. */
typedef struct swiglu_mlp {
    linear_layer gate, up, down;
    int64_t dim, hidden;
} swiglu_mlp;

vlm_status swiglu_mlp_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                           int64_t dim, int64_t hidden, bias_mode bias, swiglu_mlp *mlp);
void swiglu_mlp_free(swiglu_mlp *mlp);
/* scratch: 2 * m * hidden floats. y must not alias x. */
void swiglu_mlp_forward(const swiglu_mlp *mlp, float *y, const float *x, int64_t m, float *scratch);

typedef enum { ACT_GELU_ERF, ACT_GELU_TANH, ACT_QUICK_GELU } activation;

/* fc2(act(fc1(x))) — ViT MLPs and patch-merger projectors. */
typedef struct gelu_mlp {
    linear_layer fc1, fc2;
    int64_t dim, hidden, out;
    activation act;
} gelu_mlp;

/* fc1 / fc2 are full prefixes (e.g. "...mlp.fc1" or "...merger.mlp.0"). */
vlm_status gelu_mlp_bind(const st_archive *a, const vlm_quant_config *q, const char *fc1,
                         const char *fc2, int64_t dim, int64_t hidden, int64_t out,
                         activation act, gelu_mlp *mlp);
void gelu_mlp_free(gelu_mlp *mlp);
/* scratch: m * hidden floats. y must not alias x. */
void gelu_mlp_forward(const gelu_mlp *mlp, float *y, const float *x, int64_t m, float *scratch);

/* ---- attention ------------------------------------------------------- */

/* Rotate n rows (row stride floats) of n_heads head vectors with per-row
 * cos/sin tables [n][head_dim/2] (rotate_half pairing). */
void rope_rows(float *x, int64_t n, int64_t stride, int n_heads, int head_dim, const float *cos,
               const float *sin);

/* Decoder self-attention: separate q/k/v/o projections, grouped KV heads,
 * rotary embedding, causal attention over a KV cache. */
typedef struct self_attention {
    linear_layer q, k, v, o;
    int n_heads, n_kv_heads, head_dim;
    float scale;
} self_attention;

vlm_status self_attention_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                               int64_t dim, int n_heads, int n_kv_heads, int head_dim,
                               bias_mode qkv_bias, bias_mode o_bias, self_attention *att);
void self_attention_free(self_attention *att);
/* x[n][dim] at cache positions [pos0, pos0+n) -> y[n][dim]. The new keys and
 * values are written to rows pos0.. of cache_k / cache_v (kv_dim =
 * n_kv_heads*head_dim floats per row); queries attend causally to every
 * cached row up to their own. scratch: 2 * n * n_heads*head_dim floats. */
void self_attention_forward(const self_attention *att, float *y, const float *x, int64_t n,
                            const float *cos, const float *sin, float *cache_k, float *cache_v,
                            int64_t pos0, float *scratch);

/* ViT attention: fused qkv projection, 2-D rotary, full (non-causal)
 * attention inside each segment [cu[i], cu[i+1]) of rows, output proj. */
typedef struct vision_attention {
    linear_layer qkv, proj;
    int n_heads, head_dim;
} vision_attention;

vlm_status vision_attention_bind(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                                 int64_t dim, int n_heads, vision_attention *att);
void vision_attention_free(vision_attention *att);
/* scratch: 4 * n * dim floats. */
void vision_attention_forward(const vision_attention *att, float *y, const float *x, int64_t n,
                              const float *cos, const float *sin, const int64_t *cu,
                              int n_segments, float *scratch);

/* ---- patch merger ------------------------------------------------------ */

/* Norm each patch, concatenate each run of `unit` consecutive patches
 * (a 2x2 spatial block) into one row, then the projector MLP. */
typedef struct patch_merger {
    norm_layer norm;
    gelu_mlp mlp;
    int unit; /* patches merged into one token (merge_size^2) */
} patch_merger;

/* scratch: n*dim + (n/unit)*mlp.hidden floats. y: (n/unit) * mlp.out. */
void patch_merger_forward(const patch_merger *pm, float *y, const float *x, int64_t n,
                          float *scratch);
void patch_merger_free(patch_merger *pm);

#endif
