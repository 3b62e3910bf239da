/*
 * resample_avx2.c — the 8-bit resampling passes of resample.c with AVX2,
 * computing exactly the same 32-bit integer sums PIL does (8-bit samples
 * times 22-bit fixed-point coefficients).
 *
 * The multiply is _mm256_madd_epi16 (16-bit products, adjacent pairs
 * summed), the fastest exact integer multiply-add on every AVX2 core. A
 * 22-bit coefficient does not fit 16 bits, so each is split as
 * k = hi * 2^11 + lo (lo in 0..2047) and the pass keeps two exact sums,
 * combined as (sum_hi << 11) + sum_lo: the same integer as PIL's.
 *
 * madd pairs two taps, so the operands are laid out as (tap t, tap t+1)
 * byte pairs. Vertical pass: the rows of a tap pair are byte-interleaved.
 * Horizontal pass: eight image rows are transposed so that one vector
 * holds the same sample of eight rows, then each sample is paired with
 * the next one of its channel (3 bytes on) and widened to 16 bits; the
 * results are transposed back into the eight output rows.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/resample.h"

#define HALF (1 << (RESAMPLE_PRECISION_BITS - 1))
#define LO_BITS 11

/* Per output: the taps' coefficients as (hi, lo) 16-bit pairs, two taps
 * per 32-bit word: pair q = taps 2q and 2q+1 (a missing odd tap is 0). */
typedef struct split_taps {
    int pairs;          /* pairs per output (ksize rounded up) */
    int32_t *hi, *lo;   /* [out_size][pairs] */
} split_taps;

static vlm_status split_taps_build(const resample_axis *ax, split_taps *s) {
    s->pairs = (ax->ksize + 1) / 2;
    size_t n = (size_t)ax->out_size * s->pairs;
    s->hi = vlm_malloc(n * sizeof(int32_t));
    s->lo = vlm_malloc(n * sizeof(int32_t));
    if (!s->hi || !s->lo) {
        free(s->hi);
        free(s->lo);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < ax->out_size; i++) {
        const int32_t *k = ax->fixed + (size_t)i * ax->ksize;
        for (int q = 0; q < s->pairs; q++) {
            int32_t k0 = 2 * q < ax->count[i] ? k[2 * q] : 0;
            int32_t k1 = 2 * q + 1 < ax->count[i] ? k[2 * q + 1] : 0;
            uint16_t h0 = (uint16_t)(k0 >> LO_BITS), h1 = (uint16_t)(k1 >> LO_BITS);
            uint16_t l0 = (uint16_t)(k0 & ((1 << LO_BITS) - 1)), l1 = (uint16_t)(k1 & ((1 << LO_BITS) - 1));
            s->hi[(size_t)i * s->pairs + q] = (int32_t)((uint32_t)h1 << 16 | h0);
            s->lo[(size_t)i * s->pairs + q] = (int32_t)((uint32_t)l1 << 16 | l0);
        }
    }
    return VLM_OK;
}

static void split_taps_free(split_taps *s) {
    free(s->hi);
    free(s->lo);
}

/* (sum_hi << 11) + sum_lo + 0.5, shifted and clipped: eight bytes. */
static inline uint64_t finish8(__m256i hi, __m256i lo) {
    __m256i ss = _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(hi, LO_BITS), lo),
                                  _mm256_set1_epi32(HALF));
    __m256i v = _mm256_srai_epi32(ss, RESAMPLE_PRECISION_BITS);
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    return (uint64_t)_mm_cvtsi128_si64(_mm_packus_epi16(w, w));
}

/* ---- horizontal pass ----------------------------------------------------- */

/* 8x8 transpose of 16-bit words: x[r] word k -> x[k] word r. */
static inline void transpose8x16(__m128i x[8]) {
    __m128i t[8], u[8];
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm_unpacklo_epi16(x[k], x[k + 1]);
        t[k + 1] = _mm_unpackhi_epi16(x[k], x[k + 1]);
    }
    for (int h = 0; h < 8; h += 4) {
        u[h + 0] = _mm_unpacklo_epi32(t[h + 0], t[h + 2]);
        u[h + 1] = _mm_unpackhi_epi32(t[h + 0], t[h + 2]);
        u[h + 2] = _mm_unpacklo_epi32(t[h + 1], t[h + 3]);
        u[h + 3] = _mm_unpackhi_epi32(t[h + 1], t[h + 3]);
    }
    for (int k = 0; k < 4; k++) {
        x[2 * k] = _mm_unpacklo_epi64(u[k], u[k + 4]);
        x[2 * k + 1] = _mm_unpackhi_epi64(u[k], u[k + 4]);
    }
}

/* pairs[j] (16 bytes) = (rows[r][j], rows[r][j + 3]) for r = 0..7: sample
 * j of eight rows, each next to the following pixel's sample of the same
 * channel (0 past the end), the operand layout of the madd kernel. */
static void pair_rows(uint8_t *pairs, const uint8_t *const rows[8], int n) {
    int j = 0;
    for (; j + 19 <= n; j += 16) {
        __m128i lo[8], hi[8];
        for (int r = 0; r < 8; r++) {
            __m128i a = _mm_loadu_si128((const __m128i *)(rows[r] + j));
            __m128i b = _mm_loadu_si128((const __m128i *)(rows[r] + j + 3));
            lo[r] = _mm_unpacklo_epi8(a, b);   /* word k: samples j + k, j + k + 3 */
            hi[r] = _mm_unpackhi_epi8(a, b);
        }
        transpose8x16(lo);
        transpose8x16(hi);
        for (int k = 0; k < 8; k++) {
            _mm_storeu_si128((__m128i *)(pairs + (size_t)(j + k) * 16), lo[k]);
            _mm_storeu_si128((__m128i *)(pairs + (size_t)(j + 8 + k) * 16), hi[k]);
        }
    }
    for (; j < n; j++)
        for (int r = 0; r < 8; r++) {
            pairs[(size_t)j * 16 + 2 * r] = rows[r][j];
            pairs[(size_t)j * 16 + 2 * r + 1] = j + 3 < n ? rows[r][j + 3] : 0;
        }
}

/* Eight rows back from column-major: 16 columns x 8 bytes at columns
 * (column-major) -> 16 bytes of each of the first `valid` rows. */
static inline void untranspose16(uint8_t *const rows[8], int valid, size_t at, const uint8_t *columns) {
    __m128i a[8], b[8], c[8];
    for (int k = 0; k < 8; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(columns + (size_t)k * 16));
        a[k] = _mm_unpacklo_epi8(x, _mm_srli_si128(x, 8));   /* word r: columns 2k, 2k+1 of row r */
    }
    for (int k = 0; k < 8; k += 2) {
        b[k] = _mm_unpacklo_epi16(a[k], a[k + 1]);
        b[k + 1] = _mm_unpackhi_epi16(a[k], a[k + 1]);
    }
    for (int h = 0; h < 2; h++) {   /* h = 0: columns 0..7, 1: columns 8..15 */
        c[4 * h + 0] = _mm_unpacklo_epi32(b[4 * h + 0], b[4 * h + 2]);
        c[4 * h + 1] = _mm_unpackhi_epi32(b[4 * h + 0], b[4 * h + 2]);
        c[4 * h + 2] = _mm_unpacklo_epi32(b[4 * h + 1], b[4 * h + 3]);
        c[4 * h + 3] = _mm_unpackhi_epi32(b[4 * h + 1], b[4 * h + 3]);
    }
    for (int r = 0; r < valid; r++) {
        __m128i lo = c[r / 2], hi = c[4 + r / 2];
        __m128i row = r % 2 ? _mm_unpackhi_epi64(lo, hi) : _mm_unpacklo_epi64(lo, hi);
        _mm_storeu_si128((__m128i *)(rows[r] + at), row);
    }
}

/* out_columns (n columns of 8 rows) back to the first `valid` rows. */
static void untranspose_rows(uint8_t *const rows[8], int valid, const uint8_t *columns, int n) {
    int j = 0;
    for (; j + 16 <= n; j += 16) untranspose16(rows, valid, (size_t)j, columns + (size_t)j * 8);
    for (; j < n; j++)
        for (int r = 0; r < valid; r++) rows[r][j] = columns[(size_t)j * 8 + r];
}

/* Resample eight paired rows into out_columns (8 bytes per output sample). */
static void horizontal_block(uint8_t *out_columns, const uint8_t *pairs, const resample_axis *ax,
                             const split_taps *s) {
    for (int i = 0; i < ax->out_size; i++) {
        const int32_t *kh = s->hi + (size_t)i * s->pairs, *kl = s->lo + (size_t)i * s->pairs;
        const uint8_t *p = pairs + (size_t)ax->first[i] * 3 * 16;
        int n = (ax->count[i] + 1) / 2;
        __m256i h0 = _mm256_setzero_si256(), h1 = h0, h2 = h0, l0 = h0, l1 = h0, l2 = h0;
        for (int q = 0; q < n; q++, p += 6 * 16) {
            __m256i ch = _mm256_set1_epi32(kh[q]), cl = _mm256_set1_epi32(kl[q]);
            __m256i r = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
            __m256i g = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + 16)));
            __m256i b = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + 32)));
            h0 = _mm256_add_epi32(h0, _mm256_madd_epi16(r, ch));
            l0 = _mm256_add_epi32(l0, _mm256_madd_epi16(r, cl));
            h1 = _mm256_add_epi32(h1, _mm256_madd_epi16(g, ch));
            l1 = _mm256_add_epi32(l1, _mm256_madd_epi16(g, cl));
            h2 = _mm256_add_epi32(h2, _mm256_madd_epi16(b, ch));
            l2 = _mm256_add_epi32(l2, _mm256_madd_epi16(b, cl));
        }
        uint64_t v[3] = {finish8(h0, l0), finish8(h1, l1), finish8(h2, l2)};
        memcpy(out_columns + (size_t)i * 24, v, 24);
    }
}

/* Horizontal workspace: split coefficients, the paired samples of eight
 * source rows, and their eight output rows column-major. (An odd tap
 * count pairs its last tap with the next pixel at weight 0.) */
typedef struct h_workspace {
    split_taps taps;
    size_t in_bytes;
    uint8_t *pairs, *out_columns;
} h_workspace;

void resample_h_avx2_end(void *ws) {
    h_workspace *w = ws;
    if (!w) return;
    split_taps_free(&w->taps);
    free(w->out_columns);
    free(w->pairs);
    free(w);
}

vlm_status resample_h_avx2_begin(const resample_axis *ax, int in_w, void **ws) {
    *ws = NULL;
    h_workspace *w = vlm_calloc(1, sizeof *w);
    if (!w) return VLM_ERR_OUT_OF_MEMORY;
    w->in_bytes = (size_t)in_w * 3;
    vlm_status st = split_taps_build(ax, &w->taps);
    if (!st) {
        w->pairs = vlm_malloc(w->in_bytes * 16);
        w->out_columns = vlm_malloc((size_t)ax->out_size * 3 * 8);
        if (!w->pairs || !w->out_columns) st = VLM_ERR_OUT_OF_MEMORY;
    }
    if (st) {
        resample_h_avx2_end(w);
        return st;
    }
    *ws = w;
    return VLM_OK;
}

void resample_h_avx2_rows(void *ws, const resample_axis *ax, uint8_t *out,
                          const uint8_t *const *rows, int n) {
    h_workspace *w = ws;
    size_t out_bytes = (size_t)ax->out_size * 3;
    for (int y = 0; y < n; y += 8) {
        int valid = n - y < 8 ? n - y : 8;
        const uint8_t *src[8];
        uint8_t *dst[8];
        for (int r = 0; r < 8; r++) {
            int row = y + (r < valid ? r : valid - 1);   /* pad with the last row */
            src[r] = rows[row];
            dst[r] = out + (size_t)row * out_bytes;
        }
        pair_rows(w->pairs, src, (int)w->in_bytes);
        horizontal_block(w->out_columns, w->pairs, ax, &w->taps);
        untranspose_rows(dst, valid, w->out_columns, (int)out_bytes);
    }
}

/* ---- vertical pass --------------------------------------------------------- */

/* madd of one 16-byte slice of a row pair into two 8-lane sums each. */
static inline void vertical_step(__m128i a, __m128i b, __m256i ch, __m256i cl, __m256i acc[4]) {
    __m256i lo8 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b));
    __m256i hi8 = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b));
    acc[0] = _mm256_add_epi32(acc[0], _mm256_madd_epi16(lo8, ch));
    acc[1] = _mm256_add_epi32(acc[1], _mm256_madd_epi16(lo8, cl));
    acc[2] = _mm256_add_epi32(acc[2], _mm256_madd_epi16(hi8, ch));
    acc[3] = _mm256_add_epi32(acc[3], _mm256_madd_epi16(hi8, cl));
}

static inline void vertical_store16(uint8_t *dst, const __m256i acc[4]) {
    uint64_t first = finish8(acc[0], acc[1]), second = finish8(acc[2], acc[3]);
    memcpy(dst, &first, 8);
    memcpy(dst + 8, &second, 8);
}

/* 32 output bytes at column b of output row i: tap pairs are two source
 * rows, byte-interleaved. A row past the window (odd count) has weight 0
 * and is replaced by the first row of the pair. */
static inline void vertical32(uint8_t *dst, const uint8_t *const *rows, size_t b, int count,
                              const int32_t *kh, const int32_t *kl) {
    __m256i x[4], y[4];
    for (int k = 0; k < 4; k++) x[k] = y[k] = _mm256_setzero_si256();
    for (int t = 0; t < count; t += 2) {
        const uint8_t *ra = rows[t] + b, *rb = (t + 1 < count ? rows[t + 1] : rows[t]) + b;
        __m256i ch = _mm256_set1_epi32(kh[t / 2]), cl = _mm256_set1_epi32(kl[t / 2]);
        vertical_step(_mm_loadu_si128((const __m128i *)ra), _mm_loadu_si128((const __m128i *)rb), ch, cl, x);
        vertical_step(_mm_loadu_si128((const __m128i *)(ra + 16)),
                      _mm_loadu_si128((const __m128i *)(rb + 16)), ch, cl, y);
    }
    vertical_store16(dst, x);
    vertical_store16(dst + 16, y);
}

vlm_status resample_v_avx2_begin(const resample_axis *ax, void **ws) {
    *ws = NULL;
    split_taps *s = vlm_calloc(1, sizeof *s);
    if (!s) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = split_taps_build(ax, s);
    if (st) {
        free(s);
        return st;
    }
    *ws = s;
    return VLM_OK;
}

void resample_v_avx2_end(void *ws) {
    if (!ws) return;
    split_taps_free(ws);
    free(ws);
}

void resample_v_avx2_row(void *ws, const resample_axis *ax, int i, uint8_t *out,
                         const uint8_t *const *rows, int row_bytes) {
    const split_taps *s = ws;
    const int32_t *k = ax->fixed + (size_t)i * ax->ksize;
    int n = ax->count[i], b = 0;
    for (; b + 32 <= row_bytes; b += 32)
        vertical32(out + b, rows, (size_t)b, n, s->hi + (size_t)i * s->pairs, s->lo + (size_t)i * s->pairs);
    for (; b < row_bytes; b++) {
        int32_t ss = HALF;
        for (int t = 0; t < n; t++) ss += rows[t][b] * k[t];
        int32_t v = ss >> RESAMPLE_PRECISION_BITS;
        out[b] = v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
    }
}
