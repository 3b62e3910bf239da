/*
 * linear_neon.c — the AArch64 NEON kernel table (4 f32 lanes): defines
 * the vector vocabulary linear_simd.h is written in. Built on arm64 only.
 */
#include <arm_neon.h>
#include <string.h>

#include "core/kernel_table.h"

#define SIMD_TABLE vlm_kernels_neon
#define SIMD_ISA_NAME "neon"
#define SIMD_GEMV_Q8 linear_q8_gemv_neon
#define SIMD_QUANTIZE_Q8 linear_q8_quantize_row_neon
#define SIMD_Q4_PLANES NULL
#define LANES 4
#define GEMM_MR 8
#define VF float32x4_t
#define VI int32x4_t

#define vload(p) vld1q_f32(p)
#define vstore(p, v) vst1q_f32((p), (v))
#define vset1(f) vdupq_n_f32(f)
#define vzero() vdupq_n_f32(0.0f)
#define vfma(a, b, c) vfmaq_f32((c), (a), (b))
#define vadd(a, b) vaddq_f32((a), (b))
#define vsub(a, b) vsubq_f32((a), (b))
#define vmul(a, b) vmulq_f32((a), (b))
#define vdiv(a, b) vdivq_f32((a), (b))
#define vmin(a, b) vminq_f32((a), (b))
#define vmax(a, b) vmaxq_f32((a), (b))
#define vround(a) vrndnq_f32(a)
#define vcvt_f2i(a) vcvtq_s32_f32(a)
#define vcast_i2f(a) vreinterpretq_f32_s32(a)
#define vset1i(i) vdupq_n_s32(i)
#define vand(a, b) vandq_s32((a), (b))
#define vadd_i(a, b) vaddq_s32((a), (b))
/* shifts by a register count: the count need not be an immediate */
#define vsrli(v, n) vshlq_s32((v), vdupq_n_s32(-(n)))
#define vslli(v, n) vshlq_s32((v), vdupq_n_s32(n))
#define vcvt(v) vcvtq_f32_s32(v)
#define vhsum(v) vaddvq_f32(v)
#define vload_bf16(p) vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(vld1_u16(p)), 16))
#define vload_f16(p) vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#define vloadi(p) vld1q_s32(p)
#define vbroadcast16(p) vreinterpretq_s32_u8(vld1q_u8((const uint8_t *)(p)))
#define vshuffle(v, c) vreinterpretq_s32_u8(vqtbl1q_u8(vreinterpretq_u8_s32(v), vreinterpretq_u8_s32(c)))
#define vsrlv(v, s) vshlq_s32((v), vnegq_s32(s))

/* LANES (4) bytes zero-extended to i32 lanes; reads exactly 4 bytes. */
static inline int32x4_t vload_u8(const void *p) {
    uint32_t word;
    memcpy(&word, p, 4);
    uint8x8_t bytes = vreinterpret_u8_u32(vdup_n_u32(word));
    return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(bytes))));
}

#include "core/linear_simd.h"
