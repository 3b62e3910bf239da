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
/* Image.resize fed row by row, as a decoder produces them: each batch of
 * rows goes through the horizontal pass, and each output row is made as
 * soon as its vertical window has arrived, so neither the full-size image
 * nor an intermediate one is held. Same bits as image_resize. Separable
 * filters only (not NEAREST). */
typedef struct resize_stream resize_stream;
vlm_status resize_stream_new(int in_w, int in_h, int out_w, int out_h, resample_filter filter,
                             resize_stream **out);
/* The next n source rows (in order), in_w RGB pixels each. */
vlm_status resize_stream_push(resize_stream *s, const uint8_t *const *rows, int n);
/* After all in_h rows: the resized image. */
vlm_status resize_stream_finish(resize_stream *s, vlm_image **out);
void resize_stream_free(resize_stream *s);

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

/* AVX2 8-bit passes over interleaved RGB rows. Horizontal: begin makes a
 * workspace for the axis and source width; rows resamples n source rows
 * into n consecutive rows of ax->out_size pixels at out. Vertical: row
 * makes output row i (row_bytes) from the count[i] rows of its window.
 * Both begins return VLM_ERR_UNSUPPORTED (no message) for coefficients
 * their exact arithmetic cannot take; the portable pass runs instead. */
vlm_status resample_h_avx2_begin(const resample_axis *ax, int in_w, void **ws);
void resample_h_avx2_rows(void *ws, const resample_axis *ax, uint8_t *out,
                          const uint8_t *const *rows, int n);
void resample_h_avx2_end(void *ws);
vlm_status resample_v_avx2_begin(const resample_axis *ax, void **ws);
void resample_v_avx2_row(void *ws, const resample_axis *ax, int i, uint8_t *out,
                         const uint8_t *const *rows, int row_bytes);
void resample_v_avx2_end(void *ws);

#endif
