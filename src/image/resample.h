/*
 * resample.h — PIL-exact Image.resize (libImaging/Resample.c and the
 * nearest-neighbour affine path of Geometry.c).
 *
 * Filters use PIL's numeric codes, the values preprocessor_config.json's
 * "resample" holds. On 8-bit images the result is bit-identical to
 * Pillow 9.4: separable filter, support widened by the downscale factor
 * (antialiasing), coefficients normalised then rounded to 22-bit fixed
 * point, horizontal pass first with rounding and clipping between passes.
 * The float version follows PIL's mode "F" (double accumulation).
 */
#ifndef VLM_IMAGE_RESAMPLE_H
#define VLM_IMAGE_RESAMPLE_H

#include <stdint.h>

#include "vlm.h"

typedef enum resample_filter {
    RESAMPLE_NEAREST = 0,
    RESAMPLE_LANCZOS = 1,
    RESAMPLE_BILINEAR = 2,
    RESAMPLE_BICUBIC = 3,
    RESAMPLE_BOX = 4,
    RESAMPLE_HAMMING = 5,
} resample_filter;

/* "NEAREST", "BICUBIC", ...; NULL for an unknown code. */
const char *resample_filter_name(int filter);

/* Image.resize((width, height), filter) of an RGB image. */
vlm_status image_resize(const vlm_image *in, int width, int height, resample_filter filter,
                        vlm_image **out);
/* The same on the portable scalar path only (the reference the SIMD
 * passes are tested against). */
vlm_status image_resize_ref(const vlm_image *in, int width, int height, resample_filter filter,
                            vlm_image **out);
/* Mode "F" resize of one float plane in[in_h][in_w] into out[out_h][out_w]. */
vlm_status resample_plane_f32(const float *in, int in_w, int in_h, float *out, int out_w,
                              int out_h, resample_filter filter);

/* ---- internals shared with the SIMD passes ------------------------------ */

#define RESAMPLE_PRECISION_BITS (32 - 8 - 2)

/* One axis' filter taps: output i reads `count` inputs from `first`,
 * weighted by fixed[i * ksize + t] (22-bit) or weight[...] (double). */
typedef struct resample_axis {
    int out_size, ksize;
    int *first, *count;
    double *weight;
    int32_t *fixed;
} resample_axis;

/* 8-bit passes over interleaved RGB rows. Horizontal: rows rows of in_w
 * pixels -> rows of ax->out_size pixels. Vertical: reads rows
 * ax->first[i] .. + count[i] of `in` (row_bytes per row) for output row i. */
vlm_status resample_horizontal_rgb_avx2(uint8_t *out, const uint8_t *in, int in_w, int rows,
                                        const resample_axis *ax);
vlm_status resample_vertical_rgb_avx2(uint8_t *out, const uint8_t *in, int row_bytes,
                                      const resample_axis *ax);

#endif
