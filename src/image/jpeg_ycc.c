/*
 * jpeg_ycc.c — portable chroma upsampling and YCbCr -> RGB, operation
 * for operation as libjpeg-turbo 2.1 does them when decompressing
 * (jdsample.c h2v1/h2v2_fancy_upsample, jdcolor.c ycc_rgb_convert), so
 * that raw-data decoding gives the same bytes as JCS_RGB output.
 */
#include "image/jpeg_ycc.h"

#include <string.h>

#include "core/kernels.h"

/* libjpeg's RIGHT_SHIFT(v, 16) (an arithmetic shift) for |v| < 2^24,
 * written without shifting a negative number. */
static inline int shift16(int32_t v) { return (int)((v + (1 << 24)) >> 16) - 256; }

static inline uint8_t range_limit(int v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }

static void column_sums_ref(int16_t *sums, const uint8_t *near, const uint8_t *far, int chroma_width,
                            int v_up) {
    for (int j = 0; j < chroma_width; j++)
        sums[j] = (int16_t)(v_up == 2 ? near[j] * 3 + far[j] : near[j]);
    sums[-1] = sums[0];
    sums[chroma_width] = sums[chroma_width - 1];
}

/* jdcolor.c's tables, evaluated per sample: FIX(1.40200) = 91881,
 * FIX(1.77200) = 116130, FIX(0.71414) = 46802, FIX(0.34414) = 22554,
 * ONE_HALF = 32768, on chroma centred at 128. */
static inline void ycc_pixel(uint8_t *rgb, int y, int cb, int cr) {
    int b = cb - 128, r = cr - 128;
    rgb[0] = range_limit(y + shift16(91881 * r + 32768));
    rgb[1] = range_limit(y + shift16(-22554 * b + 32768 - 46802 * r));
    rgb[2] = range_limit(y + shift16(116130 * b + 32768));
}

/* Triangle filter along the row: 3/4 of the nearer column sum plus 1/4
 * of the further one, with libjpeg's alternating rounding biases (the
 * sums already hold the vertical 3/4 + 1/4 when v_up is 2). */
static inline int upsampled(const int16_t *sums, int x, int v_up) {
    int j = x / 2, here = sums[j] * 3;
    if (x % 2 == 0) return (here + sums[j - 1] + (v_up == 2 ? 8 : 1)) >> (v_up == 2 ? 4 : 2);
    return (here + sums[j + 1] + (v_up == 2 ? 7 : 2)) >> (v_up == 2 ? 4 : 2);
}

void ycc_upsampled_to_rgb_ref(uint8_t *rgb, const uint8_t *y, const int16_t *cb_sums,
                              const int16_t *cr_sums, int n, int v_up) {
    for (int x = 0; x < n; x++, rgb += 3)
        ycc_pixel(rgb, y[x], upsampled(cb_sums, x, v_up), upsampled(cr_sums, x, v_up));
}

void ycc_to_rgb_ref(uint8_t *rgb, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int n) {
    for (int x = 0; x < n; x++, rgb += 3) ycc_pixel(rgb, y[x], cb[x], cr[x]);
}

const ycc_ops *ycc_ops_ref(void) {
    static const ycc_ops ref = {column_sums_ref, ycc_upsampled_to_rgb_ref, ycc_to_rgb_ref};
    return &ref;
}

const ycc_ops *ycc_ops_best(void) {
#if defined(__x86_64__)
    static const ycc_ops avx2 = {ycc_column_sums_avx2, ycc_upsampled_to_rgb_avx2, ycc_to_rgb_avx2};
    if (vlm_cpu()->avx2 && strcmp(vlm_kernels_isa(), "scalar")) return &avx2;
#endif
    return ycc_ops_ref();
}
