/*
 * jpeg_ycc.h — the last two steps of libjpeg-turbo's decompression,
 * done here on its raw (downsampled YCbCr) output so that one pass per
 * row writes RGB straight where the consumer wants it: fancy chroma
 * upsampling (the triangle filter of jdsample.c for 2:1 horizontal,
 * optionally 2:1 vertical) and YCbCr -> RGB with the fixed-point tables
 * of jdcolor.c. The results are bit-identical to jpeg_read_scanlines
 * with JCS_RGB and the default do_fancy_upsampling, which is what PIL
 * decodes with (libjpeg upsamples to full-size planes first, then
 * converts, which costs about twice as much).
 *
 * decode_jpeg_ycc.c drives these from jpeg_read_raw_data; the portable
 * versions here are the reference that jpeg_ycc_avx2.c matches.
 */
#ifndef VLM_IMAGE_JPEG_YCC_H
#define VLM_IMAGE_JPEG_YCC_H

#include <stdint.h>

/* Bytes past the end that rows handed to these functions must have
 * readable (inputs) or writable (outputs). */
#define YCC_ROW_PAD 64

typedef struct ycc_ops {
    /* Chroma upsampling, vertical step: sums[j] for j < chroma_width is
     * the column sum of one output row, 3 * near[j] + far[j] when v_up is
     * 2 (far is the next nearest row: above for the upper output row,
     * below for the lower one), near[j] when v_up is 1. sums[-1] and
     * sums[chroma_width] are set to the edge columns. sums must have
     * room for chroma_width + YCC_ROW_PAD entries from sums[-1]. */
    void (*column_sums)(int16_t *sums, const uint8_t *near, const uint8_t *far, int chroma_width,
                        int v_up);
    /* Horizontal step and colour conversion: n pixels of a row from its
     * luma samples and the Cb/Cr column sums (2:1 horizontal chroma). */
    void (*upsampled_to_rgb)(uint8_t *rgb, const uint8_t *y, const int16_t *cb_sums,
                             const int16_t *cr_sums, int n, int v_up);
    /* n pixels with full-width chroma (4:4:4) -> interleaved RGB. */
    void (*to_rgb)(uint8_t *rgb, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int n);
} ycc_ops;

/* The fastest implementation this CPU runs (AVX2 or portable). */
const ycc_ops *ycc_ops_best(void);
/* The portable reference. */
const ycc_ops *ycc_ops_ref(void);

/* The AVX2 versions (x86-64 only; ycc_ops_best checks the CPU). */
void ycc_column_sums_avx2(int16_t *sums, const uint8_t *near, const uint8_t *far, int chroma_width,
                          int v_up);
void ycc_upsampled_to_rgb_avx2(uint8_t *rgb, const uint8_t *y, const int16_t *cb_sums,
                               const int16_t *cr_sums, int n, int v_up);
void ycc_to_rgb_avx2(uint8_t *rgb, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int n);
/* Portable versions the AVX2 ones finish row tails with. */
void ycc_upsampled_to_rgb_ref(uint8_t *rgb, const uint8_t *y, const int16_t *cb_sums,
                              const int16_t *cr_sums, int n, int v_up);
void ycc_to_rgb_ref(uint8_t *rgb, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int n);

#endif
