/*
 * linear_q8_avx2.c — the integer matmul (int8 activations x 4/8-bit MLX
 * codes) with AVX2 integer dot products; the formula and the activation
 * layout are in linear_q8.c and kernel_table.h.
 *
 * 4-bit: 32 weight bytes hold 64 codes; their low nibbles pair with the
 * chunk's first 32 activation codes and their high nibbles with the next 32
 * (the layout does the interleaving), so one _mm256_maddubs_epi16 per half
 * (u8 code x s8 activation, pairs summed to i16: at most 2*15*127) and one
 * _mm256_madd_epi16 with ones give 8 i32 sums, four per block of 32.
 * 8-bit: codes up to 255 would saturate maddubs, so codes and activations
 * are widened to i16 and multiplied with _mm256_madd_epi16.
 * W rows are taken four at a time so each activation load serves four rows.
 */
#include <immintrin.h>
#include <stdlib.h>

#include "core/kernel_table.h"

#define Q8_INLINE static inline __attribute__((always_inline))

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Scales and biases of nrows W rows as f32, converted once per row set:
 * sb[rr * groups + g] scales, sb[(nrows + rr) * groups + g] biases. The
 * rows' scales are one contiguous stretch of a dense array, which the
 * AVX2 table's row reader converts in one call (biases likewise). */
static void row_scales(const vlm_weight *w, int64_t r, int nrows, float *sb) {
    int64_t groups = w->cols / w->group_size;
    vlm_weight scales = {.dtype = w->scale_dtype, .rows = 1, .cols = w->rows * groups, .data = w->scales};
    vlm_weight biases = scales;
    biases.data = w->biases;
    vlm_kernels_avx2.dequant(&scales, 0, r * groups, (r + nrows) * groups, sb);
    vlm_kernels_avx2.dequant(&biases, 0, r * groups, (r + nrows) * groups, sb + nrows * groups);
}

/* sum over groups of bias * (group sum of x). */
static float bias_term(const float *biases, const float *xsum, int64_t groups) {
    __m256 acc = _mm256_setzero_ps();
    int64_t g = 0;
    for (; g + 8 <= groups; g += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(biases + g), _mm256_loadu_ps(xsum + g), acc);
    float sum = hsum8(acc);
    for (; g < groups; g++) sum += biases[g] * xsum[g];
    return sum;
}

/* The eight i32 partial sums of a 64-code chunk of 4-bit row bytes. */
Q8_INLINE __m256i q4_chunk(const uint8_t *bytes, __m256i xa, __m256i xb) {
    const __m256i nib = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)bytes);
    __m256i lo = _mm256_and_si256(v, nib), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
    __m256i s16 = _mm256_add_epi16(_mm256_maddubs_epi16(lo, xa), _mm256_maddubs_epi16(hi, xb));
    return _mm256_madd_epi16(s16, ones);
}

/* The same for a lone trailing block of 32 codes (16 bytes). */
Q8_INLINE int32_t q4_block(const uint8_t *bytes, const int8_t *xq) {
    const __m128i nib = _mm_set1_epi8(15), ones = _mm_set1_epi16(1);
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)bytes);
    __m128i lo = _mm_and_si128(v, nib), hi = _mm_and_si128(_mm_srli_epi16(v, 4), nib);
    __m128i xe = _mm_loadu_si128((const __m128i *)(const void *)xq);
    __m128i xo = _mm_loadu_si128((const __m128i *)(const void *)(xq + 16));
    __m128i s = _mm_madd_epi16(_mm_add_epi16(_mm_maddubs_epi16(lo, xe), _mm_maddubs_epi16(hi, xo)), ones);
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* y for NROWS 4-bit W rows from r, x row i; sb from row_scales. Spans of
 * max(group, 64) columns: one scale per row and span (two when groups are
 * 32 columns, one per half of the chunk). */
Q8_INLINE void q4_rows(const vlm_q8_args *a, const float *sb, int64_t r, int64_t i, const int NROWS) {
    const vlm_weight *w = a->w;
    int64_t cols = w->cols, row_bytes = cols / 2, gs = w->group_size, groups = cols / gs;
    int64_t span = gs < 64 ? 64 : gs, gstep = span / gs, c0 = 0, g = 0; /* no division in the loop */
    const int8_t *xq = a->x->q + i * cols;
    const float *d = a->x->d + i * (cols / LINEAR_Q8_BLOCK), *xsum = a->x->xsum + i * groups;
    const uint8_t *rows = (const uint8_t *)w->data + r * row_bytes;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (; c0 + span <= cols; c0 += span, g += gstep) {
        __m256 part[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int64_t c = c0; c < c0 + span; c += 64) {
            __m256i xa = _mm256_loadu_si256((const __m256i *)(const void *)(xq + c));
            __m256i xb = _mm256_loadu_si256((const __m256i *)(const void *)(xq + c + 32));
            __m256 dv = _mm256_set_m128(_mm_set1_ps(d[c / 32 + 1]), _mm_set1_ps(d[c / 32]));
            for (int rr = 0; rr < NROWS; rr++) {
                /* the next row set streams in while this one is summed */
                _mm_prefetch((const char *)rows + (NROWS + rr) * row_bytes + c / 2, _MM_HINT_T0);
                part[rr] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_chunk(rows + rr * row_bytes + c / 2, xa, xb)), dv, part[rr]);
            }
        }
        for (int rr = 0; rr < NROWS; rr++) {
            const float *s = sb + rr * groups + g;
            __m256 sv = gs < 64 ? _mm256_set_m128(_mm_set1_ps(s[1]), _mm_set1_ps(s[0])) : _mm256_set1_ps(s[0]);
            acc[rr] = _mm256_fmadd_ps(part[rr], sv, acc[rr]);
        }
    }
    for (int rr = 0; rr < NROWS; rr++) {
        float y = hsum8(acc[rr]) + bias_term(sb + (NROWS + rr) * groups, xsum, groups);
        if (c0 < cols) /* a lone trailing block (32-column groups) */
            y += sb[rr * groups + g] * d[c0 / 32] * (float)q4_block(rows + rr * row_bytes + c0 / 2, xq + c0);
        a->y[i * w->rows + r + rr] = y + (a->bias ? a->bias[r + rr] : 0.0f);
    }
}

/* Eight i32 partial sums of a block of 32 8-bit codes times widened x. */
Q8_INLINE __m256i q8_block(const uint8_t *bytes, __m256i x0, __m256i x1) {
    __m256i w0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)bytes));
    __m256i w1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(bytes + 16)));
    return _mm256_add_epi32(_mm256_madd_epi16(w0, x0), _mm256_madd_epi16(w1, x1));
}

/* y for NROWS 8-bit W rows from r, x row i; sb from row_scales. */
Q8_INLINE void q8_rows(const vlm_q8_args *a, const float *sb, int64_t r, int64_t i, const int NROWS) {
    const vlm_weight *w = a->w;
    int64_t cols = w->cols, gs = w->group_size, groups = cols / gs;
    const int8_t *xq = a->x->q + i * cols;
    const float *d = a->x->d + i * (cols / LINEAR_Q8_BLOCK), *xsum = a->x->xsum + i * groups;
    const uint8_t *rows = (const uint8_t *)w->data + r * cols;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int64_t g = 0; g < groups; g++) {
        __m256 part[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int64_t c = g * gs; c < (g + 1) * gs; c += 32) {
            __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(xq + c)));
            __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(xq + c + 16)));
            __m256 db = _mm256_set1_ps(d[c / 32]);
            for (int rr = 0; rr < NROWS; rr++) {
                _mm_prefetch((const char *)rows + (NROWS + rr) * cols + c, _MM_HINT_T0);
                part[rr] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_block(rows + rr * cols + c, x0, x1)), db, part[rr]);
            }
        }
        for (int rr = 0; rr < NROWS; rr++)
            acc[rr] = _mm256_fmadd_ps(part[rr], _mm256_set1_ps(sb[rr * groups + g]), acc[rr]);
    }
    for (int rr = 0; rr < NROWS; rr++)
        a->y[i * w->rows + r + rr] = hsum8(acc[rr]) + bias_term(sb + (NROWS + rr) * groups, xsum, groups) +
                                     (a->bias ? a->bias[r + rr] : 0.0f);
}

/* NROWS W rows from r against every x row: the rows stay in L1. */
Q8_INLINE void row_set(const vlm_q8_args *a, float *sb, int64_t r, const int BITS, const int NROWS) {
    row_scales(a->w, r, NROWS, sb);
    for (int64_t i = 0; i < a->x->m; i++) BITS == 4 ? q4_rows(a, sb, r, i, NROWS) : q8_rows(a, sb, r, i, NROWS);
}

Q8_INLINE void rows_all_x(const vlm_q8_args *a, float *sb, int64_t r0, int64_t r1, const int BITS) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) row_set(a, sb, r, BITS, 4);
    for (; r < r1; r++) row_set(a, sb, r, BITS, 1);
}

void linear_q8_gemv_avx2(const vlm_q8_args *a, int64_t r0, int64_t r1) {
    float *sb = malloc((size_t)(8 * (a->w->cols / a->w->group_size)) * sizeof(float));
    if (!sb) { /* out of memory: the plain-C kernel needs no buffer */
        linear_q8_gemv_scalar(a, r0, r1);
        return;
    }
    if (a->w->bits == 4) rows_all_x(a, sb, r0, r1, 4);
    else rows_all_x(a, sb, r0, r1, 8);
    free(sb);
}
