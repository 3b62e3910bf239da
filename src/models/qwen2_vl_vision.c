/*
 * qwen2_vl_vision.c — the Qwen2-VL / Qwen2.5-VL vision tower.
 *
 * pixel patches [N, C*T*P*P]
 *   -> Conv3d patch embedding (stride = kernel, so one matmul)
 *   -> blocks: x += attn(norm1(x)) with 2-D rotary, attention kept inside
 *      each image frame (Qwen2.5-VL: inside 4x4-token windows except in the
 *      fullatt_block_indexes blocks); x += mlp(norm2(x))
 *   -> PatchMerger: norm, 2x2 patches -> one row, MLP -> text hidden size.
 * Qwen2-VL uses LayerNorm + quick_gelu MLP; Qwen2.5-VL RMSNorm + SwiGLU.
 * Patches arrive grouped by 2x2 merge block (the processor's order), so a
 * merged token is `merge^2` consecutive rows throughout.
 */
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

static int64_t vision_int(const cJSON *config, const char *key, const char *alt, int64_t def) {
    char path[128];
    snprintf(path, sizeof path, "vision_config.%s", key);
    if (config_get(config, path) || !alt) return config_int(config, path, def);
    snprintf(path, sizeof path, "vision_config.%s", alt);
    return config_int(config, path, def);
}

static vlm_status read_vision_dims(qwen_vision *v, const cJSON *config, int64_t text_hidden,
                                   int64_t *mlp_hidden) {
    v->depth = (int)vision_int(config, "depth", NULL, 32);
    v->n_heads = (int)vision_int(config, "num_heads", NULL, 16);
    v->in_chans = (int)vision_int(config, "in_chans", "in_channels", 3);
    v->patch = (int)vision_int(config, "patch_size", "spatial_patch_size", 14);
    v->temporal_patch = (int)vision_int(config, "temporal_patch_size", NULL, 2);
    v->merge = (int)vision_int(config, "spatial_merge_size", NULL, 2);
    if (v->is_2_5) {
        v->dim = vision_int(config, "hidden_size", NULL, 1280);
        *mlp_hidden = vision_int(config, "intermediate_size", NULL, 3420);
        v->out_dim = vision_int(config, "out_hidden_size", NULL, text_hidden);
        int64_t window = vision_int(config, "window_size", NULL, 112);
        v->window = (int)(window / (v->merge > 0 ? v->merge : 1) / (v->patch > 0 ? v->patch : 1));
    } else {
        v->dim = vision_int(config, "embed_dim", NULL, 1280);
        *mlp_hidden = (int64_t)((double)v->dim * config_float(config, "vision_config.mlp_ratio", 4.0));
        v->out_dim = vision_int(config, "hidden_size", NULL, text_hidden);
    }
    if (v->depth <= 0 || v->n_heads <= 0 || v->dim <= 0 || v->dim % v->n_heads ||
        (v->dim / v->n_heads) % 4 || v->in_chans <= 0 || v->patch <= 0 ||
        v->temporal_patch <= 0 || v->merge <= 0 || *mlp_hidden <= 0 || v->out_dim != text_hidden ||
        (v->is_2_5 && v->window <= 0))
        return vlm_error(VLM_ERR_FORMAT,
                         "config.json vision_config: unsupported dims (depth %d, width %lld, "
                         "heads %d, patch %d, merge %d, output %lld vs text hidden %lld)",
                         v->depth, (long long)v->dim, v->n_heads, v->patch, v->merge,
                         (long long)v->out_dim, (long long)text_hidden);
    return VLM_OK;
}

/* Conv3d kernel: MLX stores [dim, T, P, P, C], PyTorch [dim, C, T, P, P]. */
static vlm_status bind_patch_embed(qwen_vision *v, const st_archive *a, const char *prefix) {
    char name[NAME_LEN];
    const st_tensor *t;
    snprintf(name, sizeof name, "%spatch_embed.proj.weight", prefix);
    vlm_status st = weights_tensor(a, name, &t);
    if (st) return st;
    int64_t C = v->in_chans, T = v->temporal_patch, P = v->patch;
    int mlx = t->ndim == 5 && t->shape[0] == v->dim && t->shape[1] == T && t->shape[2] == P &&
              t->shape[3] == P && t->shape[4] == C;
    int torch = t->ndim == 5 && t->shape[0] == v->dim && t->shape[1] == C && t->shape[2] == T &&
                t->shape[3] == P && t->shape[4] == P;
    if (!mlx && !torch)
        return vlm_error(VLM_ERR_FORMAT,
                         "tensor %s: expected a Conv3d kernel [%lld, %lld, %lld, %lld, %lld] "
                         "(channels-last) or [%lld, %lld, %lld, %lld, %lld]",
                         name, (long long)v->dim, (long long)T, (long long)P, (long long)P,
                         (long long)C, (long long)v->dim, (long long)C, (long long)T,
                         (long long)P, (long long)P);
    v->patch_channels_last = mlx;
    return weights_dense_flat(a, name, &v->patch_embed);
}

static vlm_status bind_block(qwen_vision *v, qwen_vision_block *b, const st_archive *a,
                             const vlm_quant_config *q, const char *prefix, int i,
                             int64_t mlp_hidden) {
    char p[NAME_LEN], p2[NAME_LEN];
    norm_kind kind = v->is_2_5 ? NORM_RMS : NORM_LAYER;
    vlm_status st;
    snprintf(p, sizeof p, "%sblocks.%d.norm1", prefix, i);
    if ((st = norm_bind(a, p, kind, v->dim, 1e-6f, &b->norm1))) return st;
    snprintf(p, sizeof p, "%sblocks.%d.norm2", prefix, i);
    if ((st = norm_bind(a, p, kind, v->dim, 1e-6f, &b->norm2))) return st;
    snprintf(p, sizeof p, "%sblocks.%d.attn", prefix, i);
    if ((st = vision_attention_bind(a, q, p, v->dim, v->n_heads, &b->attn))) return st;
    if (v->is_2_5) {
        snprintf(p, sizeof p, "%sblocks.%d.mlp", prefix, i);
        return swiglu_mlp_bind(a, q, p, v->dim, mlp_hidden, BIAS_REQUIRED, &b->swiglu);
    }
    snprintf(p, sizeof p, "%sblocks.%d.mlp.fc1", prefix, i);
    snprintf(p2, sizeof p2, "%sblocks.%d.mlp.fc2", prefix, i);
    return gelu_mlp_bind(a, q, p, p2, v->dim, mlp_hidden, v->dim, ACT_QUICK_GELU, &b->gelu);
}

/* Qwen2.5-VL: which blocks attend over the whole frame instead of windows. */
static vlm_status read_full_attention_blocks(qwen_vision *v, const cJSON *config) {
    int64_t *idx = NULL;
    size_t n = 0;
    vlm_status st = config_int_list(config, "vision_config.fullatt_block_indexes", &idx, &n);
    if (st) return st;
    for (int i = 0; i < v->depth; i++) v->blocks[i].full_attention = !v->is_2_5;
    for (size_t i = 0; i < n && v->is_2_5; i++)
        if (idx[i] >= 0 && idx[i] < v->depth) v->blocks[idx[i]].full_attention = 1;
    vlm_free(idx);
    return VLM_OK;
}

static vlm_status bind_merger(qwen_vision *v, const st_archive *a, const vlm_quant_config *q,
                              const char *prefix) {
    char p[NAME_LEN], p2[NAME_LEN];
    int unit = v->merge * v->merge;
    v->merger.unit = unit;
    snprintf(p, sizeof p, "%smerger.ln_q", prefix);
    vlm_status st = norm_bind(a, p, v->is_2_5 ? NORM_RMS : NORM_LAYER, v->dim, 1e-6f, &v->merger.norm);
    if (st) return st;
    snprintf(p, sizeof p, "%smerger.mlp.0", prefix);
    snprintf(p2, sizeof p2, "%smerger.mlp.2", prefix);
    return gelu_mlp_bind(a, q, p, p2, v->dim * unit, v->dim * unit, v->out_dim, ACT_GELU_ERF,
                         &v->merger.mlp);
}

vlm_status qwen_vision_load(qwen_vision *v, const cJSON *config, const st_archive *a,
                            const vlm_quant_config *q, const char *prefix, int is_2_5,
                            int64_t text_hidden) {
    int64_t mlp_hidden = 0;
    memset(v, 0, sizeof *v);
    v->is_2_5 = is_2_5;
    vlm_status st = read_vision_dims(v, config, text_hidden, &mlp_hidden);
    if (st == VLM_OK) st = bind_patch_embed(v, a, prefix);
    if (st) return st;
    v->blocks = vlm_calloc((size_t)v->depth, sizeof *v->blocks);
    if (!v->blocks) return VLM_ERR_OUT_OF_MEMORY;
    if ((st = read_full_attention_blocks(v, config))) return st;
    for (int i = 0; i < v->depth; i++)
        if ((st = bind_block(v, &v->blocks[i], a, q, prefix, i, mlp_hidden))) return st;
    return bind_merger(v, a, q, prefix);
}

void qwen_vision_free(qwen_vision *v) {
    for (int i = 0; v->blocks && i < v->depth; i++) {
        qwen_vision_block *b = &v->blocks[i];
        norm_free(&b->norm1);
        norm_free(&b->norm2);
        vision_attention_free(&b->attn);
        gelu_mlp_free(&b->gelu);
        swiglu_mlp_free(&b->swiglu);
    }
    free(v->blocks);
    patch_merger_free(&v->merger);
    memset(v, 0, sizeof *v);
}

/* ---- input checks ------------------------------------------------------- */

vlm_status qwen_vision_check(const qwen_vision *v, const model_images *im) {
    int64_t row = (int64_t)v->in_chans * v->temporal_patch * v->patch * v->patch;
    if (!im->grid_thw || im->n_images <= 0 || !im->pixel_values || im->ndim != 2 ||
        im->shape[1] != row)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                         "images: expected pixel_values [patches, %lld] with one (t, h, w) grid "
                         "per image", (long long)row);
    for (int i = 0; i < im->n_images; i++) {
        const int64_t *g = im->grid_thw[i];
        if (g[0] <= 0 || g[1] <= 0 || g[2] <= 0 || g[1] % v->merge || g[2] % v->merge ||
            g[0] > 4096 || g[1] > 65536 || g[2] > 65536)
            return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                             "image %d: bad patch grid (%lld, %lld, %lld): h and w must be "
                             "multiples of %d", i, (long long)g[0], (long long)g[1],
                             (long long)g[2], v->merge);
    }
    int64_t patches = vision_patch_count((const int64_t(*)[3])im->grid_thw, im->n_images);
    if (patches != im->shape[0])
        return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                         "images: grids describe %lld patches but pixel_values has %lld rows",
                         (long long)patches, (long long)im->shape[0]);
    return VLM_OK;
}

/* ---- forward ------------------------------------------------------------ */

vlm_status qwen_vision_patch_embed(const qwen_vision *v, const float *pixels, int64_t patches,
                                   float *out) {
    int64_t C = v->in_chans, T = v->temporal_patch, P = v->patch, K = C * T * P * P;
    if (!v->patch_channels_last) {
        vlm_linear(out, pixels, patches, &v->patch_embed, NULL);
        return VLM_OK;
    }
    // reorder each patch from [C, T, P, P] to the kernel's [T, P, P, C]
    float *cl = vlm_malloc((size_t)(patches * K) * sizeof(float));
    if (!cl) return VLM_ERR_OUT_OF_MEMORY;
    for (int64_t n = 0; n < patches; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < T * P * P; i++)
                cl[n * K + i * C + c] = pixels[n * K + c * T * P * P + i];
    vlm_linear(out, cl, patches, &v->patch_embed, NULL);
    free(cl);
    return VLM_OK;
}

/* Qwen2.5-VL windows: order of merged tokens grouped window by window
 * (window_index) and the window boundaries in patches (cu). Returns the
 * number of windows. */
static int window_order(const qwen_vision *v, const model_images *im, int64_t *window_index,
                        int64_t *cu) {
    int64_t W = v->window, unit = (int64_t)v->merge * v->merge, k = 0, base = 0;
    int n_windows = 0;
    cu[0] = 0;
    for (int img = 0; img < im->n_images; img++) {
        int64_t gt = im->grid_thw[img][0], lh = im->grid_thw[img][1] / v->merge,
                lw = im->grid_thw[img][2] / v->merge;
        for (int64_t t = 0; t < gt; t++)
            for (int64_t wh = 0; wh < (lh + W - 1) / W; wh++)
                for (int64_t ww = 0; ww < (lw + W - 1) / W; ww++) {
                    int64_t count = 0;
                    for (int64_t i = wh * W; i < (wh + 1) * W && i < lh; i++)
                        for (int64_t j = ww * W; j < (ww + 1) * W && j < lw; j++, count++)
                            window_index[k++] = base + (t * lh + i) * lw + j;
                    cu[n_windows + 1] = cu[n_windows] + count * unit;
                    n_windows++;
                }
        base += gt * lh * lw;
    }
    return n_windows;
}

/* Frame boundaries in patches: attention never crosses images or frames. */
static int frame_bounds(const model_images *im, int64_t *cu) {
    int n = 0;
    cu[0] = 0;
    for (int img = 0; img < im->n_images; img++)
        for (int64_t t = 0; t < im->grid_thw[img][0]; t++, n++)
            cu[n + 1] = cu[n] + im->grid_thw[img][1] * im->grid_thw[img][2];
    return n;
}

/* Reorder groups of `width` floats: dst[i] = src[order[i]]. */
static void gather_groups(float *dst, const float *src, const int64_t *order, int64_t n,
                          int64_t width) {
    for (int64_t i = 0; i < n; i++)
        memcpy(dst + i * width, src + order[i] * width, (size_t)width * sizeof(float));
}

typedef struct vision_buffers {
    float *x, *normed, *out, *scratch, *cos, *sin;
    int64_t *window_index, *window_cu, *frame_cu;
} vision_buffers;

static void free_buffers(vision_buffers *b) {
    free(b->x), free(b->normed), free(b->out), free(b->scratch), free(b->cos), free(b->sin);
    free(b->window_index), free(b->window_cu), free(b->frame_cu);
}

static vlm_status alloc_buffers(const qwen_vision *v, const model_images *im, int64_t P,
                                vision_buffers *b) {
    int64_t half = v->dim / v->n_heads / 2, frames = 0, hidden = 0;
    for (int i = 0; i < im->n_images; i++) frames += im->grid_thw[i][0];
    hidden = v->is_2_5 ? 2 * v->blocks[0].swiglu.hidden : v->blocks[0].gelu.hidden;
    int64_t scratch = 4 * v->dim, out = P * v->dim;
    if (hidden > scratch) scratch = hidden;
    if (P / (v->merge * v->merge) * v->out_dim > out) out = P / (v->merge * v->merge) * v->out_dim;
    memset(b, 0, sizeof *b);
    b->x = malloc((size_t)(P * v->dim) * sizeof(float));
    b->normed = malloc((size_t)(P * v->dim) * sizeof(float));
    b->out = malloc((size_t)out * sizeof(float));
    b->scratch = malloc((size_t)(P * scratch) * sizeof(float));
    b->cos = malloc((size_t)(P * half) * sizeof(float));
    b->sin = malloc((size_t)(P * half) * sizeof(float));
    b->window_index = malloc((size_t)P * sizeof(int64_t));
    b->window_cu = malloc((size_t)(P + 1) * sizeof(int64_t));
    b->frame_cu = malloc((size_t)(frames + 1) * sizeof(int64_t));
    if (!b->x || !b->normed || !b->out || !b->scratch || !b->cos || !b->sin ||
        !b->window_index || !b->window_cu || !b->frame_cu) {
        free_buffers(b);
        return vlm_error(VLM_ERR_OUT_OF_MEMORY, "vision tower: out of memory for %lld patches",
                         (long long)P);
    }
    return VLM_OK;
}

/* Qwen2.5-VL: put patches (and their rotary rows) in window order. */
static void to_window_order(const qwen_vision *v, vision_buffers *b, int64_t tokens) {
    int64_t unit = (int64_t)v->merge * v->merge, half = v->dim / v->n_heads / 2;
    gather_groups(b->out, b->x, b->window_index, tokens, unit * v->dim);
    memcpy(b->x, b->out, (size_t)(tokens * unit * v->dim) * sizeof(float));
    gather_groups(b->out, b->cos, b->window_index, tokens, unit * half);
    memcpy(b->cos, b->out, (size_t)(tokens * unit * half) * sizeof(float));
    gather_groups(b->out, b->sin, b->window_index, tokens, unit * half);
    memcpy(b->sin, b->out, (size_t)(tokens * unit * half) * sizeof(float));
}

static void run_block(const qwen_vision *v, const qwen_vision_block *blk, vision_buffers *b,
                      int64_t P, const int64_t *cu, int n_segments) {
    // attention: x += attn(norm1(x))
    norm_forward(&blk->norm1, b->normed, b->x, P);
    vision_attention_forward(&blk->attn, b->out, b->normed, P, b->cos, b->sin, cu, n_segments,
                             b->scratch);
    residual_add(b->x, b->out, P * v->dim);
    // feed-forward: x += mlp(norm2(x))
    norm_forward(&blk->norm2, b->normed, b->x, P);
    if (v->is_2_5) swiglu_mlp_forward(&blk->swiglu, b->out, b->normed, P, b->scratch);
    else gelu_mlp_forward(&blk->gelu, b->out, b->normed, P, b->scratch);
    residual_add(b->x, b->out, P * v->dim);
}

vlm_status qwen_vision_encode(const qwen_vision *v, const model_images *im, float *features) {
    vlm_status st = qwen_vision_check(v, im);
    if (st) return st;
    const int64_t(*grids)[3] = (const int64_t(*)[3])im->grid_thw;
    int64_t P = im->shape[0], unit = (int64_t)v->merge * v->merge, tokens = P / unit;
    vision_buffers b;
    if ((st = alloc_buffers(v, im, P, &b))) return st;
    // patch embedding and 2-D rotary table
    if ((st = qwen_vision_patch_embed(v, im->pixel_values, P, b.x))) {
        free_buffers(&b);
        return st;
    }
    vision_rotary_cos_sin(grids, im->n_images, v->merge, (int)(v->dim / v->n_heads), b.cos, b.sin);
    int n_frames = frame_bounds(im, b.frame_cu), n_windows = 0;
    if (v->is_2_5) {
        n_windows = window_order(v, im, b.window_index, b.window_cu);
        to_window_order(v, &b, tokens);
    }
    // transformer blocks
    for (int i = 0; i < v->depth; i++) {
        const qwen_vision_block *blk = &v->blocks[i];
        if (blk->full_attention) run_block(v, blk, &b, P, b.frame_cu, n_frames);
        else run_block(v, blk, &b, P, b.window_cu, n_windows);
    }
    // patch merger, then undo the window order
    if (!v->is_2_5) {
        patch_merger_forward(&v->merger, features, b.x, P, b.scratch);
    } else {
        patch_merger_forward(&v->merger, b.out, b.x, P, b.scratch);
        for (int64_t r = 0; r < tokens; r++)
            memcpy(features + b.window_index[r] * v->out_dim, b.out + r * v->out_dim,
                   (size_t)v->out_dim * sizeof(float));
    }
    free_buffers(&b);
    return VLM_OK;
}
