/*
 * qwen2_vl.h — the Qwen2-VL / Qwen2.5-VL family inside vlm: its vision
 * tower, its Qwen2 language model and the state one loaded model holds.
 *
 * Shared by the three files that implement it:
 *   qwen2_vl_vision.c  pixel patches -> image features (both variants)
 *   qwen2_lm.c         Qwen2 decoder with M-RoPE and a KV cache
 *   qwen2_vl.c         config/weights loading, sessions, prefill/decode
 * Tests use the stage functions directly to compare each stage with the
 * mlx-vlm goldens.
 */
#ifndef VLM_MODELS_QWEN2_VL_H
#define VLM_MODELS_QWEN2_VL_H

#include <stdint.h>

#include "generate/kv_cache.h"
#include "models/blocks.h"
#include "models/model.h"
#include "models/mrope.h"

struct cJSON;

/* Where a checkpoint keeps each part (MLX vs original transformers names). */
typedef struct qwen_names {
    const char *vision;   /* "vision_tower." / "visual." / "model.visual." */
    const char *text;     /* "language_model.model." / "model." / "model.language_model." */
    const char *lm_head;  /* "language_model.lm_head" / "lm_head" */
} qwen_names;

/* ---- vision tower ---------------------------------------------------- */

typedef struct qwen_vision_block {
    norm_layer norm1, norm2;
    vision_attention attn;
    gelu_mlp gelu;     /* Qwen2-VL: fc1 -> quick_gelu -> fc2 */
    swiglu_mlp swiglu; /* Qwen2.5-VL: gate/up/down with biases */
    int full_attention; /* Qwen2.5-VL: 0 = window attention */
} qwen_vision_block;

typedef struct qwen_vision {
    int is_2_5;           /* Qwen2.5-VL (RMSNorm, SwiGLU, windows) */
    int64_t dim;          /* patch embedding width */
    int n_heads, depth;
    int in_chans, temporal_patch, patch, merge;
    int window;           /* window side in merged tokens (Qwen2.5-VL) */
    int64_t out_dim;      /* features per image token (= text hidden size) */
    vlm_weight patch_embed;   /* [dim, C*T*P*P], Conv3d as a matmul */
    int patch_channels_last;  /* MLX layout: kernel is [dim, T, P, P, C] */
    qwen_vision_block *blocks;
    patch_merger merger;
} qwen_vision;

vlm_status qwen_vision_load(qwen_vision *v, const struct cJSON *config, const st_archive *a,
                            const vlm_quant_config *q, const char *prefix, int is_2_5,
                            int64_t text_hidden);
void qwen_vision_free(qwen_vision *v);
/* Check pixel_values [patches, C*T*P*P] and grids fit this tower. */
vlm_status qwen_vision_check(const qwen_vision *v, const model_images *im);
/* pixel_values -> patch embeddings [patches][dim]. */
vlm_status qwen_vision_patch_embed(const qwen_vision *v, const float *pixels, int64_t patches,
                                   float *out);
/* Whole tower: features [patches/merge^2][out_dim] in prompt order. */
vlm_status qwen_vision_encode(const qwen_vision *v, const model_images *im, float *features);

/* ---- language model --------------------------------------------------- */

typedef struct qwen2_layer {
    norm_layer input_norm, post_attention_norm;
    self_attention attn;
    swiglu_mlp mlp;
} qwen2_layer;

typedef struct qwen2_lm {
    int n_layers, n_heads, n_kv_heads, head_dim;
    int64_t dim, hidden, vocab;
    float eps;
    double rope_theta;
    int mrope_section[3];
    vlm_weight embed;       /* [vocab, dim], maybe quantized */
    vlm_weight lm_head;     /* the embedding itself when tied */
    norm_layer norm;
    qwen2_layer *layers;
} qwen2_lm;

/* Activations for up to max_rows tokens per forward call. */
typedef struct qwen2_workspace {
    int64_t max_rows;
    float *normed, *attn_out, *scratch, *cos, *sin;
} qwen2_workspace;

vlm_status qwen2_lm_load(qwen2_lm *lm, const struct cJSON *config, const st_archive *a,
                         const vlm_quant_config *q, const qwen_names *names);
void qwen2_lm_free(qwen2_lm *lm);
vlm_status qwen2_workspace_new(const qwen2_lm *lm, int64_t max_rows, qwen2_workspace *ws);
void qwen2_workspace_free(qwen2_workspace *ws);
/* Token embedding rows. */
void qwen2_lm_embed(const qwen2_lm *lm, const int32_t *ids, int64_t n, float *x);
/* Run n <= ws->max_rows rows x[n][dim] (in place -> final hidden, before the
 * last norm) at positions pos[3][pos_stride]; appends to the cache. */
vlm_status qwen2_lm_forward(const qwen2_lm *lm, qwen2_workspace *ws, kv_cache *cache, float *x,
                            int64_t n, const int64_t *pos, int64_t pos_stride);
/* Final norm + lm_head on n rows: logits[n][vocab]. x is overwritten. */
void qwen2_lm_logits(const qwen2_lm *lm, float *x, int64_t n, float *logits);

/* ---- the model --------------------------------------------------------- */

typedef struct qwen_vl {
    qwen_names names;
    qwen_vision vision;
    qwen2_lm lm;
    mrope_tokens tokens;
    vlm_quant_config quant;
} qwen_vl;

#endif
