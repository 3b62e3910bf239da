/*
 * linear_q8_avx2.c — the integer matmul (int8 activations x 4/8-bit MLX
 * codes) with AVX2 integer dot products, and the activation quantizer of
 * every x86 integer kernel; the formula and the activation layout are in
 * linear_q8.c and kernel_table.h, the W-row loops in linear_q8_x86.h.
 *
 * The quantizer writes x in the order the x86 kernels read it; the AVX2
 * kernel is linear_q8_x86.h with maddubs/madd dot products (see there).
 */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "core/kernel_table.h"

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax4(__m128 m) {
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

/* ---- activations ----------------------------------------------------------- */

/* A chunk's 64 codes (eight vectors of i32, column order) as bytes in
 * linear_q8_index order. packs works within 128-bit halves, leaving runs
 * of four codes that the dword permutation puts back in column order. */
static inline void store_chunk_codes(const __m256i c[8], int bits, int8_t *q) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    __m256i lo = _mm256_packs_epi16(_mm256_packs_epi32(c[0], c[1]), _mm256_packs_epi32(c[2], c[3]));
    __m256i hi = _mm256_packs_epi16(_mm256_packs_epi32(c[4], c[5]), _mm256_packs_epi32(c[6], c[7]));
    lo = _mm256_permutevar8x32_epi32(lo, order); /* columns 0..31 */
    hi = _mm256_permutevar8x32_epi32(hi, order); /* columns 32..63 */
    if (bits == 4) { /* even columns, then odd columns */
        const __m256i split = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                                               0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        lo = _mm256_shuffle_epi8(lo, split); /* [E0 O0 | E1 O1], eight codes each */
        hi = _mm256_shuffle_epi8(hi, split); /* [E2 O2 | E3 O3] */
        __m256i even = _mm256_unpacklo_epi64(lo, hi), odd = _mm256_unpackhi_epi64(lo, hi); /* [E0 E2 | E1 E3] */
        lo = _mm256_permute4x64_epi64(even, 0xd8);
        hi = _mm256_permute4x64_epi64(odd, 0xd8);
    } else { /* runs of eight from each block in turn */
        __m256i a = _mm256_unpacklo_epi64(lo, hi), b = _mm256_unpackhi_epi64(lo, hi);
        lo = _mm256_permute2x128_si256(a, b, 0x20);
        hi = _mm256_permute2x128_si256(a, b, 0x31);
    }
    _mm256_storeu_si256((__m256i *)(void *)q, lo);
    _mm256_storeu_si256((__m256i *)(void *)(q + 32), hi);
}

/* The same numbers as linear_q8_quantize_row_scalar: the same max, scale,
 * products and round-to-nearest-even; only the block sums add in another
 * order. */
void linear_q8_quantize_row_avx2(const float *x, int64_t cols, int bits, int8_t *q, float *d, float *block_sums) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t c0 = 0; c0 < cols; c0 += LINEAR_Q8_CHUNK) {
        __m256i codes[8];
        for (int h = 0; h < 2; h++) { /* the chunk's two blocks */
            __m256 v[4], amax = _mm256_setzero_ps(), sum = _mm256_setzero_ps();
            for (int j = 0; j < 4; j++) {
                v[j] = _mm256_loadu_ps(x + c0 + 32 * h + 8 * j);
                amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[j]));
                sum = _mm256_add_ps(sum, v[j]);
            }
            float mx = hmax4(_mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1)));
            __m256 inv = _mm256_set1_ps(mx > 0 ? 127.0f / mx : 0.0f);
            int64_t b = c0 / LINEAR_Q8_BLOCK + h;
            d[b] = mx / 127.0f;
            block_sums[b] = hsum8(sum);
            for (int j = 0; j < 4; j++) codes[4 * h + j] = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], inv));
        }
        store_chunk_codes(codes, bits, q + c0);
    }
}

/* ---- W rows: linear_q8_x86.h with AVX2 dot products ------------------------ */

#define Q8_GEMV linear_q8_gemv_avx2
#include "core/linear_q8_x86.h"

/* The x planes of one row's 4-bit codes, laid out in memory for the
 * kernel above (q4_x_planes, chunk by chunk). */
void linear_q8_q4_planes_avx2(const int8_t *q, int64_t cols, int8_t *planes) {
    for (int64_t c = 0; c < cols; c += LINEAR_Q8_CHUNK, q += LINEAR_Q8_CHUNK, planes += 8 * 32) {
        __m256i X[8];
        q4_x_planes(q, X);
        for (int p = 0; p < 8; p++) _mm256_store_si256((__m256i *)(void *)planes + p, X[p]);
    }
}
