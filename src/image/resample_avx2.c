/*
 * resample_avx2.c — the 8-bit resampling passes of resample.c with AVX2,
 * computing exactly the same 32-bit integer sums PIL does (8-bit samples
 * times 22-bit fixed-point coefficients).
 *
 * A 22-bit coefficient is split as k = hi * 2^16 + lo with hi rounded
 * (so lo fits a signed 16-bit word) and the sum kept as two exact parts
 * combined as (sum_hi << 16) + sum_lo, the same integer as PIL's:
 *   - sum_lo: _mm256_madd_epi16 on samples widened to 16 bits;
 *   - sum_hi: hi is small (|hi| <= 76 for every PIL filter and scale), so
 *     _mm256_maddubs_epi16 multiplies the unsigned sample bytes by signed
 *     byte coefficients directly and the sums accumulate in 16 bits.
 *     This is exact while 255 * sum(|hi|) over an output's taps fits
 *     16 bits (at most about 101 is seen); an axis where it would not is
 *     refused (VLM_ERR_UNSUPPORTED) and resample.c uses the portable pass.
 * Both multiplies share the vector multiply unit, the bottleneck of
 * these passes; the byte one does twice the products per instruction.
 *
 * The multiplies pair two taps, so the operands are laid out as (tap t,
 * tap t+1) byte pairs. Vertical pass: the rows of a tap pair are
 * byte-interleaved. Horizontal pass: eight image rows are transposed to
 * columns (8 bytes: one sample of the eight rows), and the kernel
 * interleaves the columns of a pixel and the next one into the pairs;
 * the results are transposed back into the eight output rows. The row
 * is done in segments of outputs, each transposing just the input
 * stretch its taps cover, so the columns stay in L1.
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/resample.h"

#define HALF (1 << (RESAMPLE_PRECISION_BITS - 1))

/* Per output: the taps' coefficients as two per pair q = taps 2q and
 * 2q+1 (a missing odd tap is 0): hi as two signed bytes in 16 bits, lo
 * as two 16-bit words in 32 bits. */
typedef struct split_taps {
    int pairs;          /* pairs per output (ksize rounded up) */
    int16_t *hi;        /* [out_size][pairs] */
    int32_t *lo;        /* [out_size][pairs] */
} split_taps;

static void split_taps_free(split_taps *s) {
    free(s->hi);
    free(s->lo);
    s->hi = NULL;
    s->lo = NULL;
}

/* k = hi * 65536 + lo, lo in [-32768, 32767]; the sum of |hi| of each
 * output goes to *hi_abs_max. */
static void split_output(const int32_t *k, int count, int pairs, int16_t *hi, int32_t *lo,
                         int *hi_abs_max) {
    int hi_abs = 0;
    for (int q = 0; q < pairs; q++) {
        int32_t h[2], l[2];
        for (int e = 0; e < 2; e++) {
            int32_t v = 2 * q + e < count ? k[2 * q + e] : 0;
            h[e] = (int32_t)((v + 32768 + (1 << 30)) >> 16) - (1 << 14);   /* floor, no negative shift */
            l[e] = v - h[e] * 65536;
            hi_abs += h[e] < 0 ? -h[e] : h[e];
        }
        hi[q] = (int16_t)(uint16_t)((uint8_t)(int8_t)h[1] << 8 | (uint8_t)(int8_t)h[0]);
        lo[q] = (int32_t)((uint32_t)(uint16_t)l[1] << 16 | (uint16_t)l[0]);
    }
    if (hi_abs > *hi_abs_max) *hi_abs_max = hi_abs;
}

static vlm_status split_taps_build(const resample_axis *ax, split_taps *s) {
    s->pairs = (ax->ksize + 1) / 2;
    size_t n = (size_t)ax->out_size * s->pairs;
    s->hi = vlm_malloc(n * sizeof *s->hi);
    s->lo = vlm_malloc(n * sizeof *s->lo);
    if (!s->hi || !s->lo) {
        split_taps_free(s);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    int hi_abs_max = 0;
    for (int i = 0; i < ax->out_size; i++)
        split_output(ax->fixed + (size_t)i * ax->ksize, ax->count[i], s->pairs,
                     s->hi + (size_t)i * s->pairs, s->lo + (size_t)i * s->pairs, &hi_abs_max);
    if (hi_abs_max * 255 > INT16_MAX) {   /* the 16-bit hi sums could overflow */
        split_taps_free(s);
        return VLM_ERR_UNSUPPORTED;
    }
    return VLM_OK;
}

/* PIL's clip8((S + 0.5) >> 22) of eight samples with S = sum_hi * 65536
 * + sum_lo (sum_hi as 16-bit words), as 16-bit words before the clip:
 * (sum_hi + ((sum_lo + 0.5) >> 16)) >> 6, nested floor divisions by
 * powers of two being one. The 16-bit add saturates only where the clip
 * gives 0 or 255 anyway. */
static inline __m128i finish8(__m128i hi16, __m256i lo) {
    __m256i t = _mm256_srai_epi32(_mm256_add_epi32(lo, _mm256_set1_epi32(HALF)), 16);
    __m128i t16 = _mm_packs_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
    return _mm_srai_epi16(_mm_adds_epi16(hi16, t16), RESAMPLE_PRECISION_BITS - 16);
}

/* ---- horizontal pass ----------------------------------------------------- */

/* cols[j - j0] (8 bytes) = rows[r][j] for r = 0..7, j in [j0, j1):
 * sample j of eight rows, column-major (0 past the row's n bytes), the
 * layout the multiply kernels pair taps from. */
static void transpose_rows(uint8_t *cols, const uint8_t *const rows[8], int j0, int j1, int n) {
    int j = j0;
    for (; j < j1 && j + 16 <= n; j += 16) {   /* may run 15 samples past j1 */
        __m128i a[8], b[8];
        for (int r = 0; r < 8; r += 2) {
            __m128i x = _mm_loadu_si128((const __m128i *)(rows[r] + j));
            __m128i y = _mm_loadu_si128((const __m128i *)(rows[r + 1] + j));
            a[r] = _mm_unpacklo_epi8(x, y);   /* samples 0-7 of rows r, r+1 */
            a[r + 1] = _mm_unpackhi_epi8(x, y);
        }
        for (int h = 0; h < 2; h++)   /* h: rows 0-3, 4-7 */
            for (int k = 0; k < 2; k++) {   /* k: samples 0-7, 8-15 */
                b[4 * h + 2 * k] = _mm_unpacklo_epi16(a[4 * h + k], a[4 * h + 2 + k]);
                b[4 * h + 2 * k + 1] = _mm_unpackhi_epi16(a[4 * h + k], a[4 * h + 2 + k]);
            }
        uint8_t *dst = cols + (size_t)(j - j0) * 8;
        for (int m = 0; m < 4; m++) {   /* b[m]: 4 samples of rows 0-3, b[m + 4] of rows 4-7 */
            _mm_storeu_si128((__m128i *)(dst + 32 * m), _mm_unpacklo_epi32(b[m], b[m + 4]));
            _mm_storeu_si128((__m128i *)(dst + 32 * m + 16), _mm_unpackhi_epi32(b[m], b[m + 4]));
        }
    }
    for (; j < j1; j++)
        for (int r = 0; r < 8; r++) cols[(size_t)(j - j0) * 8 + r] = j < n ? rows[r][j] : 0;
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

/* The sums of one output of eight rows: sum_hi of R, G and B (16-bit
 * words), sum_lo of R, G and B. */
typedef struct h_sums {
    __m128i hi_r, hi_g, hi_b;
    __m256i lo_r, lo_g, lo_b;
} h_sums;

/* One tap pair's products, from the columns of pixel x at p (R, G, B)
 * and of pixel x + 1 at p + 24, byte-interleaved into (tap, next tap)
 * pairs: the pairs take the byte multiply for sum_hi and, widened, the
 * word multiply for sum_lo. */
static inline h_sums h_tap_pair(const uint8_t *p, int16_t hi, int32_t lo) {
    __m128i ch = _mm_set1_epi16(hi);
    __m256i cl = _mm256_set1_epi32(lo);
    __m128i x = _mm_loadu_si128((const __m128i *)p), x1 = _mm_loadu_si128((const __m128i *)(p + 24));
    __m128i r = _mm_unpacklo_epi8(x, x1), g = _mm_unpackhi_epi8(x, x1);
    __m128i b = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p + 16)),
                                  _mm_loadl_epi64((const __m128i *)(p + 40)));
    h_sums t;
    t.hi_r = _mm_maddubs_epi16(r, ch);
    t.hi_g = _mm_maddubs_epi16(g, ch);
    t.hi_b = _mm_maddubs_epi16(b, ch);
    t.lo_r = _mm256_madd_epi16(_mm256_cvtepu8_epi16(r), cl);
    t.lo_g = _mm256_madd_epi16(_mm256_cvtepu8_epi16(g), cl);
    t.lo_b = _mm256_madd_epi16(_mm256_cvtepu8_epi16(b), cl);
    return t;
}

/* One output's finish: 24 bytes, R, G, B of rows 0..7. A function of
 * its own (the sums arrive in registers): after the sum loop in the same
 * function, GCC 12 copies every sum once per loop iteration. */
static __attribute__((noinline)) void h_finish(uint8_t *dst, __m128i hi_r, __m128i hi_g, __m128i hi_b,
                                               __m256i lo_r, __m256i lo_g, __m256i lo_b) {
    __m128i r = finish8(hi_r, lo_r), g = finish8(hi_g, lo_g), b = finish8(hi_b, lo_b);
    _mm_storeu_si128((__m128i *)dst, _mm_packus_epi16(r, g));
    _mm_storel_epi64((__m128i *)(dst + 16), _mm_packus_epi16(b, b));
}

/* Outputs [i0, i1) of eight transposed rows (columns start at sample j0)
 * into out_columns, 24 bytes per output. The first tap pair starts the
 * sums (started from zeros, GCC copies them around the loop as well). */
static void horizontal_block(uint8_t *out_columns, const uint8_t *cols, int j0, int i0, int i1,
                             const resample_axis *ax, const split_taps *s) {
    for (int i = i0; i < i1; i++) {
        const int16_t *kh = s->hi + (size_t)i * s->pairs;
        const int32_t *kl = s->lo + (size_t)i * s->pairs;
        const uint8_t *p = cols + (size_t)(ax->first[i] * 3 - j0) * 8;
        int n = (ax->count[i] + 1) / 2;
        h_sums sum = h_tap_pair(p, kh[0], kl[0]);
        for (int q = 1; q < n; q++) {
            h_sums t = h_tap_pair(p + (size_t)q * 6 * 8, kh[q], kl[q]);
            sum.hi_r = _mm_add_epi16(sum.hi_r, t.hi_r);
            sum.hi_g = _mm_add_epi16(sum.hi_g, t.hi_g);
            sum.hi_b = _mm_add_epi16(sum.hi_b, t.hi_b);
            sum.lo_r = _mm256_add_epi32(sum.lo_r, t.lo_r);
            sum.lo_g = _mm256_add_epi32(sum.lo_g, t.lo_g);
            sum.lo_b = _mm256_add_epi32(sum.lo_b, t.lo_b);
        }
        h_finish(out_columns + (size_t)i * 24, sum.hi_r, sum.hi_g, sum.hi_b, sum.lo_r, sum.lo_g, sum.lo_b);
    }
}

/* Outputs per segment of the horizontal pass. */
enum { H_SEGMENT = 64 };

/* Horizontal workspace: split coefficients, the paired samples of one
 * segment of eight source rows, and the eight output rows column-major.
 * (An odd tap count pairs its last tap with the next pixel at weight 0.) */
typedef struct h_workspace {
    split_taps taps;
    int in_bytes;
    uint8_t *cols, *out_columns;
} h_workspace;

/* The input samples [j0, j1) that outputs [i0, i1) read. */
static void segment_span(const resample_axis *ax, int i0, int i1, int *j0, int *j1) {
    int lo = ax->first[i0], hi = 0;
    for (int i = i0; i < i1; i++) {
        if (ax->first[i] < lo) lo = ax->first[i];
        int end = ax->first[i] + (ax->count[i] + 1) / 2 * 2;   /* past the last pair's second pixel */
        if (end > hi) hi = end;
    }
    *j0 = lo * 3;
    *j1 = hi * 3;
}

void resample_h_avx2_end(void *ws) {
    h_workspace *w = ws;
    if (!w) return;
    split_taps_free(&w->taps);
    free(w->out_columns);
    free(w->cols);
    free(w);
}

vlm_status resample_h_avx2_begin(const resample_axis *ax, int in_w, void **ws) {
    *ws = NULL;
    h_workspace *w = vlm_calloc(1, sizeof *w);
    if (!w) return VLM_ERR_OUT_OF_MEMORY;
    w->in_bytes = in_w * 3;
    vlm_status st = split_taps_build(ax, &w->taps);
    int widest = 0;
    for (int i0 = 0; i0 < ax->out_size; i0 += H_SEGMENT) {
        int j0, j1, i1 = i0 + H_SEGMENT < ax->out_size ? i0 + H_SEGMENT : ax->out_size;
        segment_span(ax, i0, i1, &j0, &j1);
        if (j1 - j0 > widest) widest = j1 - j0;
    }
    if (!st) {
        w->cols = vlm_malloc((size_t)(widest + 16) * 8);
        w->out_columns = vlm_malloc((size_t)ax->out_size * 3 * 8);
        if (!w->cols || !w->out_columns) st = VLM_ERR_OUT_OF_MEMORY;
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
        for (int i0 = 0; i0 < ax->out_size; i0 += H_SEGMENT) {
            int j0, j1, i1 = i0 + H_SEGMENT < ax->out_size ? i0 + H_SEGMENT : ax->out_size;
            segment_span(ax, i0, i1, &j0, &j1);
            transpose_rows(w->cols, src, j0, j1, w->in_bytes);
            horizontal_block(w->out_columns, w->cols, j0, i0, i1, ax, &w->taps);
        }
        untranspose_rows(dst, valid, w->out_columns, (int)out_bytes);
    }
}

/* ---- vertical pass --------------------------------------------------------- */

/* The sums of 32 columns of one output row: sum_hi as 16-bit words (x:
 * columns 0-7 and 16-23, y: 8-15 and 24-31, as the in-lane unpacks
 * leave them), sum_lo of columns 0-7, 8-15, 16-23, 24-31. */
typedef struct v_sums {
    __m256i hi_x, hi_y, lo[4];
} v_sums;

/* One tap pair: the two source rows' 32 bytes at a and b, byte-interleaved. */
static inline v_sums v_tap_pair(const uint8_t *a, const uint8_t *b, int16_t hi, int32_t lo) {
    __m256i ch = _mm256_set1_epi16(hi), cl = _mm256_set1_epi32(lo);
    __m256i ra = _mm256_loadu_si256((const __m256i *)a), rb = _mm256_loadu_si256((const __m256i *)b);
    __m256i x = _mm256_unpacklo_epi8(ra, rb), y = _mm256_unpackhi_epi8(ra, rb);
    v_sums t;
    t.hi_x = _mm256_maddubs_epi16(x, ch);
    t.hi_y = _mm256_maddubs_epi16(y, ch);
    t.lo[0] = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(x)), cl);
    t.lo[1] = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(y)), cl);
    t.lo[2] = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(x, 1)), cl);
    t.lo[3] = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(y, 1)), cl);
    return t;
}

/* 32 output bytes from the sums, columns in order. Not inlined, like
 * h_finish. */
static __attribute__((noinline)) void v_finish(uint8_t *dst, __m256i hi_x, __m256i hi_y, __m256i lo0,
                                               __m256i lo1, __m256i lo2, __m256i lo3) {
    __m128i c0 = finish8(_mm256_castsi256_si128(hi_x), lo0);
    __m128i c1 = finish8(_mm256_castsi256_si128(hi_y), lo1);
    __m128i c2 = finish8(_mm256_extracti128_si256(hi_x, 1), lo2);
    __m128i c3 = finish8(_mm256_extracti128_si256(hi_y, 1), lo3);
    _mm_storeu_si128((__m128i *)dst, _mm_packus_epi16(c0, c1));
    _mm_storeu_si128((__m128i *)(dst + 16), _mm_packus_epi16(c2, c3));
}

/* 32 output bytes at column b from the count rows of a window. A row
 * past the window (odd count) has weight 0 and is replaced by the first
 * row of its pair. */
static inline void vertical32(uint8_t *dst, const uint8_t *const *rows, size_t b, int count,
                              const int16_t *kh, const int32_t *kl) {
    v_sums sum = v_tap_pair(rows[0] + b, (count > 1 ? rows[1] : rows[0]) + b, kh[0], kl[0]);
    for (int t = 2; t < count; t += 2) {
        v_sums u = v_tap_pair(rows[t] + b, (t + 1 < count ? rows[t + 1] : rows[t]) + b, kh[t / 2], kl[t / 2]);
        sum.hi_x = _mm256_add_epi16(sum.hi_x, u.hi_x);
        sum.hi_y = _mm256_add_epi16(sum.hi_y, u.hi_y);
        for (int k = 0; k < 4; k++) sum.lo[k] = _mm256_add_epi32(sum.lo[k], u.lo[k]);
    }
    v_finish(dst, sum.hi_x, sum.hi_y, sum.lo[0], sum.lo[1], sum.lo[2], sum.lo[3]);
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
