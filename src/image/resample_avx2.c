/*
 * resample_avx2.c — the 8-bit resampling passes of resample.c with AVX2,
 * computing exactly the same 32-bit integer sums (products of 8-bit
 * samples and 22-bit coefficients, as PIL does) eight at a time.
 *
 * Vertical pass: one coefficient per source row, so eight consecutive
 * bytes of a row form one vector. Horizontal pass: every output pixel has
 * its own taps, so eight image rows are first interleaved ("transposed":
 * byte j of rows 0..7 side by side) and each tap then multiplies the same
 * column of eight rows at once.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/resample.h"

#define HALF (1 << (RESAMPLE_PRECISION_BITS - 1))

/* Eight 32-bit sums -> eight clipped bytes (PIL's clip8 of ss >> 22). */
static inline uint64_t clip8x8(__m256i ss) {
    __m256i v = _mm256_srai_epi32(ss, RESAMPLE_PRECISION_BITS);
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return (uint64_t)_mm_cvtsi128_si64(_mm_packus_epi16(w, w));
}

static inline __m256i widen8(const uint8_t *p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

/* Transpose 8 bytes of each of 8 rows (pairs of rows already byte-
 * interleaved in t0..t3) into 64 bytes: column-major, 8 rows per column. */
static inline void store_columns(uint8_t *dst, __m128i t0, __m128i t1, __m128i t2, __m128i t3) {
    __m128i u0 = _mm_unpacklo_epi16(t0, t1), u1 = _mm_unpackhi_epi16(t0, t1);
    __m128i u2 = _mm_unpacklo_epi16(t2, t3), u3 = _mm_unpackhi_epi16(t2, t3);
    _mm_storeu_si128((__m128i *)dst + 0, _mm_unpacklo_epi32(u0, u2));
    _mm_storeu_si128((__m128i *)dst + 1, _mm_unpackhi_epi32(u0, u2));
    _mm_storeu_si128((__m128i *)dst + 2, _mm_unpacklo_epi32(u1, u3));
    _mm_storeu_si128((__m128i *)dst + 3, _mm_unpackhi_epi32(u1, u3));
}

/* block[j * 8 + r] = rows[r][j] for j < n. */
static void interleave_rows(uint8_t *block, const uint8_t *const rows[8], int n) {
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        __m128i r[8];
        for (int k = 0; k < 8; k++) r[k] = _mm_loadu_si128((const __m128i *)(rows[k] + j));
        store_columns(block + (size_t)j * 8, _mm_unpacklo_epi8(r[0], r[1]),
                      _mm_unpacklo_epi8(r[2], r[3]), _mm_unpacklo_epi8(r[4], r[5]),
                      _mm_unpacklo_epi8(r[6], r[7]));
        store_columns(block + (size_t)(j + 8) * 8, _mm_unpackhi_epi8(r[0], r[1]),
                      _mm_unpackhi_epi8(r[2], r[3]), _mm_unpackhi_epi8(r[4], r[5]),
                      _mm_unpackhi_epi8(r[6], r[7]));
    }
    for (; j < n; j++)
        for (int k = 0; k < 8; k++) block[(size_t)j * 8 + k] = rows[k][j];
}

/* Resample eight interleaved rows; write the first `valid` of them. */
static void horizontal_block(uint8_t *const out_rows[8], int valid, const uint8_t *block,
                             const resample_axis *ax) {
    for (int i = 0; i < ax->out_size; i++) {
        const int32_t *k = ax->fixed + (size_t)i * ax->ksize;
        const uint8_t *p = block + (size_t)ax->first[i] * 24;
        __m256i s0 = _mm256_set1_epi32(HALF), s1 = s0, s2 = s0;
        for (int t = 0; t < ax->count[i]; t++, p += 24) {
            __m256i kt = _mm256_set1_epi32(k[t]);
            s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(widen8(p), kt));
            s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(widen8(p + 8), kt));
            s2 = _mm256_add_epi32(s2, _mm256_mullo_epi32(widen8(p + 16), kt));
        }
        uint64_t r = clip8x8(s0), g = clip8x8(s1), b = clip8x8(s2);
        for (int row = 0; row < valid; row++) {
            uint8_t *dst = out_rows[row] + (size_t)i * 3;
            dst[0] = (uint8_t)(r >> (8 * row));
            dst[1] = (uint8_t)(g >> (8 * row));
            dst[2] = (uint8_t)(b >> (8 * row));
        }
    }
}

vlm_status resample_horizontal_rgb_avx2(uint8_t *out, const uint8_t *in, int in_w, int rows,
                                        const resample_axis *ax) {
    size_t in_bytes = (size_t)in_w * 3, out_bytes = (size_t)ax->out_size * 3;
    uint8_t *block = vlm_malloc(in_bytes * 8);
    if (!block) return VLM_ERR_OUT_OF_MEMORY;
    for (int y = 0; y < rows; y += 8) {
        int valid = rows - y < 8 ? rows - y : 8;
        const uint8_t *src[8];
        uint8_t *dst[8];
        for (int r = 0; r < 8; r++) {
            int row = y + (r < valid ? r : valid - 1);   /* pad with the last row */
            src[r] = in + (size_t)row * in_bytes;
            dst[r] = out + (size_t)row * out_bytes;
        }
        interleave_rows(block, src, (int)in_bytes);
        horizontal_block(dst, valid, block, ax);
    }
    free(block);
    return VLM_OK;
}

vlm_status resample_vertical_rgb_avx2(uint8_t *out, const uint8_t *in, int row_bytes,
                                      const resample_axis *ax) {
    for (int i = 0; i < ax->out_size; i++) {
        const int32_t *k = ax->fixed + (size_t)i * ax->ksize;
        const uint8_t *src = in + (size_t)ax->first[i] * row_bytes;
        uint8_t *dst = out + (size_t)i * row_bytes;
        int n = ax->count[i], b = 0;
        for (; b + 16 <= row_bytes; b += 16) {
            __m256i lo = _mm256_set1_epi32(HALF), hi = lo;
            for (int t = 0; t < n; t++) {
                const uint8_t *p = src + (size_t)t * row_bytes + b;
                __m256i kt = _mm256_set1_epi32(k[t]);
                lo = _mm256_add_epi32(lo, _mm256_mullo_epi32(widen8(p), kt));
                hi = _mm256_add_epi32(hi, _mm256_mullo_epi32(widen8(p + 8), kt));
            }
            uint64_t a = clip8x8(lo), c = clip8x8(hi);
            memcpy(dst + b, &a, 8);
            memcpy(dst + b + 8, &c, 8);
        }
        for (; b < row_bytes; b++) {
            int32_t ss = HALF;
            for (int t = 0; t < n; t++) ss += src[(size_t)t * row_bytes + b] * k[t];
            int32_t v = ss >> RESAMPLE_PRECISION_BITS;
            dst[b] = v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
        }
    }
    return VLM_OK;
}
