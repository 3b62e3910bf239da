/*
 * linear_avx512.c — the AVX-512 (F/BW/VL) kernel table (16 f32 lanes):
 * defines the vector vocabulary linear_simd.h is written in. The GEMM
 * tile is 12 x 32 (24 of the 32 zmm registers accumulate).
 */
#include <immintrin.h>

#include "core/kernel_table.h"

#define SIMD_TABLE vlm_kernels_avx512
#define SIMD_ISA_NAME "avx512"
#define LANES 16
#define GEMM_MR 12
#define SIMD_GEMV_Q8 linear_q8_gemv_x86
#define SIMD_QUANTIZE_Q8 linear_q8_quantize_row_avx2 /* AVX-512 CPUs have AVX2 */
#define SIMD_Q4_PLANES linear_q8_q4_planes_avx2
#define VF __m512
#define VI __m512i

#define vload(p) _mm512_loadu_ps(p)
#define vstore(p, v) _mm512_storeu_ps((p), (v))
#define vset1(f) _mm512_set1_ps(f)
#define vzero() _mm512_setzero_ps()
#define vfma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define vadd(a, b) _mm512_add_ps((a), (b))
#define vset1i(i) _mm512_set1_epi32(i)
#define vand(a, b) _mm512_and_si512((a), (b))
#define vsrli(v, n) _mm512_srli_epi32((v), (n))
#define vcvt(v) _mm512_cvtepi32_ps(v)
#define vload_u8(p) _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define vload_bf16(p) \
    _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(p))), 16))
#define vload_f16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
#define vloadi(p) _mm512_loadu_si512((const void *)(p))
#define vbroadcast16(p) _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define vshuffle(v, c) _mm512_shuffle_epi8((v), (c))
#define vsrlv(v, s) _mm512_srlv_epi32((v), (s))
#define vsub(a, b) _mm512_sub_ps((a), (b))
#define vmul(a, b) _mm512_mul_ps((a), (b))
#define vdiv(a, b) _mm512_div_ps((a), (b))
#define vmin(a, b) _mm512_min_ps((a), (b))
#define vmax(a, b) _mm512_max_ps((a), (b))
#define vround(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define vcvt_f2i(a) _mm512_cvtps_epi32(a)
#define vadd_i(a, b) _mm512_add_epi32((a), (b))
#define vslli(a, n) _mm512_slli_epi32((a), (n))
#define vcast_i2f(a) _mm512_castsi512_ps(a)
#define vhsum(v) _mm512_reduce_add_ps(v)

#include "core/linear_simd.h"
