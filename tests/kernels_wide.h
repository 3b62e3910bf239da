/*
 * kernels_wide.h — the SIMD kernel source (src/core/linear_simd.h) built
 * at 16 lanes, AVX-512's width, in plain C, so its 16-lane paths (12 x 32
 * GEMM tiles, 16-code unpacking, tails) run on any machine; the test
 * machine may have no AVX-512. Each vocabulary word does what its
 * linear_avx512.c intrinsic does, lane by lane (shuffles within 128-bit
 * lanes, FMA with one rounding, conversion rounding to nearest even).
 * Kernel tests sweep it as the set "wide16" next to the library's own.
 */
#ifndef VLM_TEST_KERNELS_WIDE_H
#define VLM_TEST_KERNELS_WIDE_H

#include <math.h>
#include <string.h>

#include "core/dtype.h"
#include "core/kernel_table.h"

#define SIMD_TABLE vlm_kernels_wide16
#define SIMD_ISA_NAME "wide16"
#define LANES 16
#define GEMM_MR 12
#define SIMD_GEMV_Q8 NULL
#define SIMD_Q4_PLANES NULL
#define SIMD_QUANTIZE_Q8 NULL

typedef struct wide_f {
    float v[LANES];
} wide_f;
typedef struct wide_i {
    int32_t v[LANES];
} wide_i;
#define VF wide_f
#define VI wide_i

#define WIDE_MAP_F(name, expr)                          \
    static inline wide_f name(wide_f a, wide_f b) {     \
        wide_f r;                                       \
        for (int l = 0; l < LANES; l++) r.v[l] = (expr); \
        return r;                                       \
    }
WIDE_MAP_F(vadd, a.v[l] + b.v[l])
WIDE_MAP_F(vsub, a.v[l] - b.v[l])
WIDE_MAP_F(vmul, a.v[l] * b.v[l])
WIDE_MAP_F(vdiv, a.v[l] / b.v[l])
WIDE_MAP_F(vmin, a.v[l] < b.v[l] ? a.v[l] : b.v[l]) /* x86: b when unordered */
WIDE_MAP_F(vmax, a.v[l] > b.v[l] ? a.v[l] : b.v[l])
#undef WIDE_MAP_F

static inline wide_f vload(const float *p) {
    wide_f r;
    memcpy(r.v, p, sizeof r.v);
    return r;
}
static inline void vstore(float *p, wide_f a) { memcpy(p, a.v, sizeof a.v); }
static inline wide_f vset1(float f) {
    wide_f r;
    for (int l = 0; l < LANES; l++) r.v[l] = f;
    return r;
}
static inline wide_f vzero(void) { return vset1(0.0f); }
static inline wide_f vfma(wide_f a, wide_f b, wide_f c) {
    for (int l = 0; l < LANES; l++) c.v[l] = fmaf(a.v[l], b.v[l], c.v[l]);
    return c;
}
static inline wide_f vround(wide_f a) {
    for (int l = 0; l < LANES; l++) a.v[l] = nearbyintf(a.v[l]);
    return a;
}
static inline float vhsum(wide_f a) {
    float s = 0;
    for (int l = 0; l < LANES; l++) s += a.v[l];
    return s;
}

static inline wide_i vset1i(int32_t i) {
    wide_i r;
    for (int l = 0; l < LANES; l++) r.v[l] = i;
    return r;
}
static inline wide_i vloadi(const int32_t *p) {
    wide_i r;
    memcpy(r.v, p, sizeof r.v);
    return r;
}
static inline wide_i vand(wide_i a, wide_i b) {
    for (int l = 0; l < LANES; l++) a.v[l] &= b.v[l];
    return a;
}
static inline wide_i vadd_i(wide_i a, wide_i b) {
    for (int l = 0; l < LANES; l++) a.v[l] = (int32_t)((uint32_t)a.v[l] + (uint32_t)b.v[l]);
    return a;
}
static inline wide_i vsrli(wide_i a, int n) {
    for (int l = 0; l < LANES; l++) a.v[l] = (int32_t)((uint32_t)a.v[l] >> n);
    return a;
}
static inline wide_i vslli(wide_i a, int n) {
    for (int l = 0; l < LANES; l++) a.v[l] = (int32_t)((uint32_t)a.v[l] << n);
    return a;
}
static inline wide_i vsrlv(wide_i a, wide_i s) { /* counts of 32 and more give 0 */
    for (int l = 0; l < LANES; l++) a.v[l] = (uint32_t)s.v[l] > 31 ? 0 : (int32_t)((uint32_t)a.v[l] >> s.v[l]);
    return a;
}
static inline wide_f vcvt(wide_i a) {
    wide_f r;
    for (int l = 0; l < LANES; l++) r.v[l] = (float)a.v[l];
    return r;
}
static inline wide_i vcvt_f2i(wide_f a) {
    wide_i r;
    for (int l = 0; l < LANES; l++) r.v[l] = (int32_t)lrintf(a.v[l]);
    return r;
}
static inline wide_f vcast_i2f(wide_i a) {
    wide_f r;
    memcpy(r.v, a.v, sizeof r.v);
    return r;
}

/* 16 bytes, each zero-extended to a lane. */
static inline wide_i vload_u8(const void *p) {
    const uint8_t *b = p;
    wide_i r;
    for (int l = 0; l < LANES; l++) r.v[l] = b[l];
    return r;
}
static inline wide_f vload_bf16(const uint16_t *p) {
    wide_f r;
    for (int l = 0; l < LANES; l++) r.v[l] = bf16_to_f32(p[l]);
    return r;
}
static inline wide_f vload_f16(const uint16_t *p) {
    wide_f r;
    for (int l = 0; l < LANES; l++) r.v[l] = f16_to_f32(p[l]);
    return r;
}
/* The same 16 bytes in every 128-bit lane (four i32 lanes). */
static inline wide_i vbroadcast16(const void *p) {
    wide_i r;
    for (int q = 0; q < LANES / 4; q++) memcpy(r.v + 4 * q, p, 16);
    return r;
}
/* Byte shuffle within each 128-bit lane: a control byte with bit 7 set
 * gives 0, else the lane's byte at its low four bits. */
static inline wide_i vshuffle(wide_i a, wide_i c) {
    uint8_t src[4 * LANES], ctrl[4 * LANES], out[4 * LANES];
    memcpy(src, a.v, sizeof src);
    memcpy(ctrl, c.v, sizeof ctrl);
    for (int i = 0; i < 4 * LANES; i++) out[i] = ctrl[i] & 0x80 ? 0 : src[(i & ~15) | (ctrl[i] & 15)];
    memcpy(a.v, out, sizeof out);
    return a;
}

extern const vlm_kernel_table vlm_kernels_wide16;
#include "core/linear_simd.h"

/* The kernel sets a test sweeps, best first. */
static const char *const test_isas[] = {"avx512", "avx2", "neon", "wide16", "scalar"};

/* Put the named kernel set in use; 0 when this machine can't run it. */
static inline int test_select_isa(const char *isa) {
    if (strcmp(isa, "wide16")) return vlm_kernels_select(isa);
    vlm_kernels_use(&vlm_kernels_wide16);
    return 1;
}

#endif
