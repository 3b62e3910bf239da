/*
 * jpeg_ycc_avx2.c — jpeg_ycc.c's upsampling and YCbCr -> RGB with AVX2,
 * computing the same integers in 16-bit lanes, 32 pixels at a time.
 *
 * libjpeg's conversion terms are (K * x + 32768) >> 16 with x = chroma -
 * 128 and K of 17 bits. K is split as a multiple of 65536 (added as x or
 * 2x) plus a 16-bit remainder: for red and blue the remainder's rounded
 * product is _mm256_mulhrs_epi16 with 13173 (red) and -7471 (blue),
 * checked equal to jdcolor.c's tables for all 256 inputs; green's two
 * products are summed exactly in 32 bits by _mm256_madd_epi16.
 *
 * Lanes: the 32 pixels are held as two vectors, "a" = pixels 0-7 and
 * 16-23, "b" = pixels 8-15 and 24-31, the order in which unpacking the
 * even and odd upsampled chroma samples leaves them; packing a with b
 * then gives pixels 0-31 in order without a cross-lane shuffle (slow on
 * some cores).
 */
#include <immintrin.h>
#include <string.h>

#include "image/jpeg_ycc.h"

void ycc_column_sums_avx2(int16_t *sums, const uint8_t *near, const uint8_t *far, int chroma_width,
                          int v_up) {
    for (int j = 0; j < chroma_width; j += 16) {
        __m256i n = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(near + j)));
        if (v_up == 2) {
            __m256i f = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(far + j)));
            n = _mm256_add_epi16(_mm256_add_epi16(n, _mm256_add_epi16(n, n)), f);
        }
        _mm256_storeu_si256((__m256i *)(sums + j), n);
    }
    sums[-1] = sums[0];
    sums[chroma_width] = sums[chroma_width - 1];
}

/* 32 bytes as 16-bit lanes in the a/b pixel order. */
static inline void widen_ab(const uint8_t *p, __m256i *a, __m256i *b) {
    __m128i lo = _mm_loadu_si128((const __m128i *)p), hi = _mm_loadu_si128((const __m128i *)(p + 16));
    *a = _mm256_cvtepu8_epi16(_mm_unpacklo_epi64(lo, hi));
    *b = _mm256_cvtepu8_epi16(_mm_unpackhi_epi64(lo, hi));
}

/* The upsampled chroma of 32 pixels, centred (minus 128), from the
 * column sums of chroma columns j..j+15 (and their neighbours), in the
 * a/b order. The centring rides on the rounding bias: with an
 * arithmetic shift, (x + bias - 128 * 2^shift) >> shift is
 * ((x + bias) >> shift) - 128. */
static inline void upsample_ab(const int16_t *sums, int v_up, __m256i *a, __m256i *b) {
    int shift = v_up == 2 ? 4 : 2;
    __m256i here = _mm256_loadu_si256((const __m256i *)sums);
    __m256i before = _mm256_loadu_si256((const __m256i *)(sums - 1));
    __m256i after = _mm256_loadu_si256((const __m256i *)(sums + 1));
    __m256i bias_even = _mm256_set1_epi16((int16_t)((v_up == 2 ? 8 : 1) - (128 << shift)));
    __m256i bias_odd = _mm256_set1_epi16((int16_t)((v_up == 2 ? 7 : 2) - (128 << shift)));
    here = _mm256_add_epi16(here, _mm256_add_epi16(here, here));
    __m256i even = _mm256_add_epi16(_mm256_add_epi16(here, before), bias_even);
    __m256i odd = _mm256_add_epi16(_mm256_add_epi16(here, after), bias_odd);
    even = _mm256_sra_epi16(even, _mm_cvtsi32_si128(shift));
    odd = _mm256_sra_epi16(odd, _mm_cvtsi32_si128(shift));
    *a = _mm256_unpacklo_epi16(even, odd);
    *b = _mm256_unpackhi_epi16(even, odd);
}

/* R, G, B in 16-bit lanes (unclamped) from luma and centred chroma. */
static inline void rgb16(__m256i l, __m256i b, __m256i r, __m256i out[3]) {
    /* red: 91881 = 65536 + 26345; blue: 116130 = 131072 - 14942 */
    out[0] = _mm256_add_epi16(_mm256_add_epi16(l, r), _mm256_mulhrs_epi16(r, _mm256_set1_epi16(13173)));
    out[2] = _mm256_add_epi16(_mm256_add_epi16(l, _mm256_add_epi16(b, b)),
                              _mm256_mulhrs_epi16(b, _mm256_set1_epi16(-7471)));
    /* green: -22554 b - 46802 r = -22554 b + 18734 r - 65536 r */
    const __m256i k = _mm256_set1_epi32((int32_t)((uint32_t)18734 << 16 | (uint16_t)-22554));
    const __m256i half = _mm256_set1_epi32(32768);
    __m256i lo = _mm256_madd_epi16(_mm256_unpacklo_epi16(b, r), k);
    __m256i hi = _mm256_madd_epi16(_mm256_unpackhi_epi16(b, r), k);
    lo = _mm256_srai_epi32(_mm256_add_epi32(lo, half), 16);
    hi = _mm256_srai_epi32(_mm256_add_epi32(hi, half), 16);
    out[1] = _mm256_add_epi16(_mm256_sub_epi16(l, r), _mm256_packs_epi32(lo, hi));
}

/* Interleaving 16 pixels' R, G, B bytes (per lane) into 48 bytes: byte
 * 16c + t of the output (chunk c, position t) is plane (c + t) % 3. Each
 * position t takes plane p in exactly one chunk, c = (p - t) mod 3, so
 * one shuffle per plane (place[p][t] = (16c + t) / 3) puts every byte of
 * p where its chunk wants it, and a chunk is two blends of the shuffled
 * planes: pick[k] marks the positions with t % 3 == k. */
typedef struct rgb_interleave {
    __m256i place[3], pick[3];
} rgb_interleave;

#define LANES(...) _mm256_broadcastsi128_si256(_mm_setr_epi8(__VA_ARGS__))

static inline rgb_interleave interleave_masks(void) {
    const char o = -128;
    return (rgb_interleave){
        .place = {LANES(0, 11, 6, 1, 12, 7, 2, 13, 8, 3, 14, 9, 4, 15, 10, 5),
                  LANES(5, 0, 11, 6, 1, 12, 7, 2, 13, 8, 3, 14, 9, 4, 15, 10),
                  LANES(10, 5, 0, 11, 6, 1, 12, 7, 2, 13, 8, 3, 14, 9, 4, 15)},
        .pick = {LANES(o, 0, 0, o, 0, 0, o, 0, 0, o, 0, 0, o, 0, 0, o),
                 LANES(0, o, 0, 0, o, 0, 0, o, 0, 0, o, 0, 0, o, 0, 0),
                 LANES(0, 0, o, 0, 0, o, 0, 0, o, 0, 0, o, 0, 0, o, 0)}};
}

/* 32 pixels from their a/b-ordered R, G, B: clamped to bytes and stored
 * as 96 bytes of interleaved RGB. */
static inline void store_rgb(uint8_t *rgb, const __m256i a[3], const __m256i b[3],
                             const rgb_interleave *m) {
    __m256i s[3];
    for (int p = 0; p < 3; p++)   /* pixels 0..31, then placed */
        s[p] = _mm256_shuffle_epi8(_mm256_packus_epi16(a[p], b[p]), m->place[p]);
    for (int c = 0; c < 3; c++) {
        __m256i x = _mm256_blendv_epi8(_mm256_blendv_epi8(s[c], s[(c + 1) % 3], m->pick[1]),
                                       s[(c + 2) % 3], m->pick[2]);
        _mm_storeu_si128((__m128i *)(rgb + 16 * c), _mm256_castsi256_si128(x));
        _mm_storeu_si128((__m128i *)(rgb + 48 + 16 * c), _mm256_extracti128_si256(x, 1));
    }
}

/* 32 pixels from their luma bytes and a/b-ordered chroma. */
static inline void convert32(uint8_t *rgb, const uint8_t *y, const __m256i cb[2], const __m256i cr[2],
                             const rgb_interleave *m) {
    __m256i l[2], a[3], b[3];
    widen_ab(y, &l[0], &l[1]);
    rgb16(l[0], cb[0], cr[0], a);
    rgb16(l[1], cb[1], cr[1], b);
    store_rgb(rgb, a, b, m);
}

void ycc_upsampled_to_rgb_avx2(uint8_t *rgb, const uint8_t *y, const int16_t *cb_sums,
                               const int16_t *cr_sums, int n, int v_up) {
    const rgb_interleave m = interleave_masks();
    __m256i cb[2], cr[2];
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        upsample_ab(cb_sums + i / 2, v_up, &cb[0], &cb[1]);
        upsample_ab(cr_sums + i / 2, v_up, &cr[0], &cr[1]);
        convert32(rgb + (size_t)i * 3, y + i, cb, cr, &m);
    }
    ycc_upsampled_to_rgb_ref(rgb + (size_t)i * 3, y + i, cb_sums + i / 2, cr_sums + i / 2, n - i, v_up);
}

void ycc_to_rgb_avx2(uint8_t *rgb, const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int n) {
    const __m256i centre = _mm256_set1_epi16(128);
    const rgb_interleave m = interleave_masks();
    __m256i b[2], r[2];
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        widen_ab(cb + i, &b[0], &b[1]);
        widen_ab(cr + i, &r[0], &r[1]);
        for (int k = 0; k < 2; k++) {
            b[k] = _mm256_sub_epi16(b[k], centre);
            r[k] = _mm256_sub_epi16(r[k], centre);
        }
        convert32(rgb + (size_t)i * 3, y + i, b, r, &m);
    }
    ycc_to_rgb_ref(rgb + (size_t)i * 3, y + i, cb + i, cr + i, n - i);
}
