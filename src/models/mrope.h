/*
 * mrope.h — rotary position embeddings of the Qwen-VL family.
 *
 * Three pieces, all pure functions of token ids, image grids and dims:
 *  - mrope_position_ids: the (t, h, w) position of every prompt token,
 *    exactly as mlx-vlm / transformers get_rope_index computes them (text
 *    advances all three axes together; an image's merged patches get their
 *    frame, row and column offsets), plus rope_delta for decoding;
 *  - mrope_cos_sin: the language model's multimodal rotary table, each
 *    frequency reading the axis its mrope_section assigns ("chunked");
 *  - vision_rotary_cos_sin: the vision tower's 2-D rotary table (row
 *    frequencies then column frequencies for every patch, in the 2x2
 *    merge-block order the patches are stored in).
 * Tables are [rows][head_dim/2] cos and sin, for vlm_rope(half_split=1).
 */
#ifndef VLM_MODELS_MROPE_H
#define VLM_MODELS_MROPE_H

#include <stdint.h>

#include "vlm.h"

/* Token ids that delimit images in a Qwen-VL prompt. */
typedef struct mrope_tokens {
    int32_t image_token;        /* <|image_pad|> */
    int32_t vision_start_token; /* <|vision_start|> */
    int spatial_merge_size;     /* patches merged per side (2) */
} mrope_tokens;

/* pos: 3*n int64 ([axis][token]). grids: n_images (t, h, w) patch grids in
 * prompt order. *rope_delta = max position + 1 - n. Errors when the image
 * groups in ids do not match the grids (count or length). */
vlm_status mrope_position_ids(const mrope_tokens *tk, const int32_t *ids, int64_t n,
                              const int64_t (*grids)[3], int n_images, int64_t *pos,
                              int64_t *rope_delta);

/* Fill cos/sin [n][head_dim/2] for positions pos[3][stride] (columns
 * 0..n-1 used). section: frequencies per axis, summing to head_dim/2. */
void mrope_cos_sin(const int64_t *pos, int64_t stride, int64_t n, const int section[3],
                   int head_dim, double theta, float *cos_out, float *sin_out);

/* Number of patches in the grids (sum of t*h*w). */
int64_t vision_patch_count(const int64_t (*grids)[3], int n_images);
/* Fill cos/sin [patches][head_dim/2] for the vision tower. */
void vision_rotary_cos_sin(const int64_t (*grids)[3], int n_images, int merge, int head_dim,
                           float *cos_out, float *sin_out);

#endif
