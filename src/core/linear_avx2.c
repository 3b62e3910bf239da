/*
 * linear_avx2.c — the AVX2 + FMA + F16C kernel table (8 f32 lanes):
 * defines the vector vocabulary linear_simd.h is written in.
 */
#include <immintrin.h>

#include "core/kernel_table.h"

#define SIMD_TABLE vlm_kernels_avx2
#define SIMD_ISA_NAME "avx2"
#define LANES 8
#define GEMM_MR 6
#define SIMD_GEMV_Q8 linear_q8_gemv_x86
#define SIMD_QUANTIZE_Q8 linear_q8_quantize_row_avx2
#define SIMD_Q4_PLANES linear_q8_q4_planes_avx2
#define VF __m256
#define VI __m256i

#define vload(p) _mm256_loadu_ps(p)
#define vstore(p, v) _mm256_storeu_ps((p), (v))
#define vset1(f) _mm256_set1_ps(f)
#define vzero() _mm256_setzero_ps()
#define vfma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define vadd(a, b) _mm256_add_ps((a), (b))
#define vset1i(i) _mm256_set1_epi32(i)
#define vand(a, b) _mm256_and_si256((a), (b))
#define vsrli(v, n) _mm256_srli_epi32((v), (n))
#define vcvt(v) _mm256_cvtepi32_ps(v)
#define vload_u8(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p)))
#define vload_bf16(p) \
    _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))), 16))
#define vload_f16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define vloadi(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define vbroadcast16(p) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define vshuffle(v, c) _mm256_shuffle_epi8((v), (c))
#define vsrlv(v, s) _mm256_srlv_epi32((v), (s))
#define vsub(a, b) _mm256_sub_ps((a), (b))
#define vmul(a, b) _mm256_mul_ps((a), (b))
#define vdiv(a, b) _mm256_div_ps((a), (b))
#define vmin(a, b) _mm256_min_ps((a), (b))
#define vmax(a, b) _mm256_max_ps((a), (b))
#define vround(a) _mm256_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define vcvt_f2i(a) _mm256_cvtps_epi32(a)
#define vadd_i(a, b) _mm256_add_epi32((a), (b))
#define vslli(a, n) _mm256_slli_epi32((a), (n))
#define vcast_i2f(a) _mm256_castsi256_ps(a)

static inline float vhsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The integer matmul for both x86 tables: VNNI dot products where the CPU
 * has them, else AVX2's (same activations, same integers). */
void linear_q8_gemv_x86(const vlm_q8_args *a, int64_t r0, int64_t r1) {
    const vlm_cpu_features *f = vlm_cpu();
    if (f->avx512vnni && f->avx512vl) linear_q8_gemv_vnni(a, r0, r1);
    else if (f->avxvnni) linear_q8_gemv_avxvnni(a, r0, r1);
    else linear_q8_gemv_avx2(a, r0, r1);
}

#include "core/linear_simd.h"
