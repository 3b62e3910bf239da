/*
 * linear_q8_neon.c — the integer matmul (int8 activations x 4/8-bit MLX
 * codes) and its activation quantizer for AArch64 NEON; the formula and
 * the activation layout are in linear_q8.c and kernel_table.h.
 *
 * The layout was drawn for AVX2's 256-bit vectors and suits 128-bit ones
 * as well: for 4-bit weights, the 16 bytes of block h of a chunk hold the
 * block's even columns in their low nibbles and its odd columns in the high
 * ones, which are 16 consecutive activation codes each (at h*16 and
 * 32 + h*16); for 8-bit weights each block's codes are four runs of eight.
 *
 * Dot products use SDOT (vdotq_s32) where the compiler targets it (Armv8.2
 * dotprod: Apple M1 and later, Graviton 2 and later; CMake turns it on
 * when the build machine has it) and widening multiplies otherwise; both
 * give the same integer sums. 8-bit codes (0..255) do not fit a signed
 * byte, so they go in as q - 128 and 128 * (sum of the block's activation
 * codes) is added back.
 *
 * W rows go four at a time: pairwise adds fold the four rows' sums of a
 * block into one vector [r0 r1 r2 r3], converted and accumulated with one
 * FMA against the rows' scales times the block scale; the rows' scales and
 * biases come side by side from the weight's quad_params (kernels.h).
 */
#include <arm_neon.h>
#include <stdlib.h>

#include "core/kernel_table.h"

enum { SET = LINEAR_QUAD }; /* W rows per set: a quad of quad_params */

static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#ifdef __ARM_FEATURE_DOTPROD
    return vdotq_s32(acc, a, b);
#else /* products fit in i16 (|a|, |b| <= 128, not both 128) */
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
#endif
}

/* ---- activations ----------------------------------------------------------- */

/* Codes of eight floats times inv, rounded to nearest even (as lrintf). */
static inline int8x8_t codes8(float32x4_t a, float32x4_t b, float inv) {
    int32x4_t ia = vcvtnq_s32_f32(vmulq_n_f32(a, inv)), ib = vcvtnq_s32_f32(vmulq_n_f32(b, inv));
    return vqmovn_s16(vcombine_s16(vqmovn_s32(ia), vqmovn_s32(ib)));
}

/* The same numbers as linear_q8_quantize_row_scalar: the same max, scale,
 * products and rounding; only the block sums add in another order. */
void linear_q8_quantize_row_neon(const float *x, int64_t cols, int bits, int8_t *q, float *d, float *block_sums) {
    for (int64_t b0 = 0; b0 < cols; b0 += LINEAR_Q8_BLOCK) {
        const float *xb = x + b0;
        float32x4_t amax = vdupq_n_f32(0.0f), sum = vdupq_n_f32(0.0f);
        for (int j = 0; j < 8; j++) {
            float32x4_t v = vld1q_f32(xb + 4 * j);
            amax = vmaxq_f32(amax, vabsq_f32(v));
            sum = vaddq_f32(sum, v);
        }
        float mx = vmaxvq_f32(amax), inv = mx > 0 ? 127.0f / mx : 0.0f;
        int64_t b = b0 / LINEAR_Q8_BLOCK, h = b & 1;
        int8_t *chunk = q + (b0 - h * LINEAR_Q8_BLOCK);
        d[b] = mx / 127.0f;
        block_sums[b] = vaddvq_f32(sum);
        if (bits == 4) /* even columns at 16h, odd at 32 + 16h (linear_q8_index) */
            for (int j = 0; j < 2; j++) {
                float32x4x2_t p = vld2q_f32(xb + 16 * j), r = vld2q_f32(xb + 16 * j + 8);
                vst1_s8(chunk + 16 * h + 8 * j, codes8(p.val[0], r.val[0], inv));
                vst1_s8(chunk + 32 + 16 * h + 8 * j, codes8(p.val[1], r.val[1], inv));
            }
        else /* run j of eight columns at 16j + 8h */
            for (int j = 0; j < 4; j++)
                vst1_s8(chunk + 16 * j + 8 * h, codes8(vld1q_f32(xb + 8 * j), vld1q_f32(xb + 8 * j + 4), inv));
    }
}

/* ---- W rows ---------------------------------------------------------------- */

/* A quad of W rows (a short last set repeats its last row, as its
 * quad_params do) and its scales and biases, [groups][8] (kernels.h). */
typedef struct row_set {
    const uint8_t *rows[SET];
    const void *params;
} row_set;

/* Four scales or biases from element i of an F32/F16/BF16 array. */
static inline float32x4_t load4(vlm_dtype dtype, const void *base, int64_t i) {
    if (dtype == VLM_DTYPE_F32) return vld1q_f32((const float *)base + i);
    uint16x4_t h = vld1_u16((const uint16_t *)base + i);
    if (dtype == VLM_DTYPE_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshlq_n_u32(vmovl_u16(h), 16));
}

/* [b0 b1 b2 b3]: for each row of the set, the sum over groups of its bias
 * times the group sum of x. */
static float32x4_t bias_terms(const vlm_weight *w, const row_set *rs, const float *xsum) {
    int64_t groups = w->cols / w->group_size;
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t g = 0; g < groups; g++) acc = vfmaq_n_f32(acc, load4(w->scale_dtype, rs->params, 8 * g + 4), xsum[g]);
    return acc;
}

/* Block h of chunk c of 4-bit row bytes against the block's codes. */
static inline int32x4_t q4_block(const uint8_t *row, const int8_t *xq, int64_t c, int h) {
    uint8x16_t v = vld1q_u8(row + c * 32 + h * 16);
    int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(15))), hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
    const int8_t *xc = xq + c * 64 + h * 16;
    return dot16(dot16(vdupq_n_s32(0), lo, vld1q_s8(xc)), hi, vld1q_s8(xc + 32));
}

/* The same for 8-bit rows, codes taken as q - 128. */
static inline int32x4_t q8_block(const uint8_t *row, const int8_t *xq, int64_t c, int h) {
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const uint8_t *p = row + c * 64 + h * 32;
    const int8_t *xc = xq + c * 64 + h * 8;
    int8x16_t w0 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p), flip)), w1 = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(p + 16), flip));
    int8x16_t x0 = vcombine_s8(vld1_s8(xc), vld1_s8(xc + 16)), x1 = vcombine_s8(vld1_s8(xc + 32), vld1_s8(xc + 48));
    return dot16(dot16(vdupq_n_s32(0), w0, x0), w1, x1);
}

/* Sum of a block's activation codes (the 8-bit offset correction). */
static int32_t code_sum(const int8_t *xq, int64_t b) {
    const int8_t *xc = xq + (b >> 1) * 64 + (b & 1) * 8;
    int16x8_t s = vaddl_s8(vld1_s8(xc), vld1_s8(xc + 16));
    s = vaddq_s16(s, vaddl_s8(vld1_s8(xc + 32), vld1_s8(xc + 48)));
    return vaddlvq_s16(s);
}

/* [r0 r1 r2 r3]: the set's rows against x row xq, blocks weighted by
 * group scale times block scale d; offsets holds 128 * code_sum per block
 * (8-bit weights). */
static float32x4_t set_sums(const vlm_weight *w, const row_set *rs, const int8_t *xq, const float *d,
                            const int32_t *offsets) {
    int64_t chunks = w->cols / LINEAR_Q8_CHUNK, blocks_per_group = w->group_size / LINEAR_Q8_BLOCK;
    int64_t left = blocks_per_group; /* blocks of the current group still to come */
    int64_t g = 0;
    float32x4_t acc = vdupq_n_f32(0.0f), scales = load4(w->scale_dtype, rs->params, 0);
    for (int64_t c = 0; c < chunks; c++)
        for (int h = 0; h < 2; h++) {
            int32x4_t s[SET];
            for (int k = 0; k < SET; k++)
                s[k] = w->bits == 4 ? q4_block(rs->rows[k], xq, c, h) : q8_block(rs->rows[k], xq, c, h);
            int32x4_t f = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));
            int64_t b = 2 * c + h;
            if (w->bits == 8) f = vaddq_s32(f, vdupq_n_s32(offsets[b]));
            acc = vfmaq_f32(acc, vcvtq_f32_s32(f), vmulq_n_f32(scales, d[b]));
            if (--left == 0 && b + 1 < 2 * chunks) {
                scales = load4(w->scale_dtype, rs->params, 8 * ++g);
                left = blocks_per_group;
            }
        }
    return acc;
}

/* y for W rows [r, min(r + SET, r1)) against every x row; a short last
 * set repeats its last row and drops the copies' outputs. */
static void run_set(const vlm_q8_args *a, row_set *rs, const int32_t *offsets, int64_t r, int64_t r1) {
    const vlm_weight *w = a->w;
    int64_t cols = w->cols, groups = cols / w->group_size, blocks = cols / LINEAR_Q8_BLOCK;
    int64_t row_bytes = cols * w->bits / 8;
    int n = r1 - r < SET ? (int)(r1 - r) : SET;
    for (int k = 0; k < SET; k++) rs->rows[k] = (const uint8_t *)w->data + (r + (k < n ? k : n - 1)) * row_bytes;
    rs->params = linear_quad_params(w, r);
    for (int64_t i = 0; i < a->x->m; i++) {
        float y[SET];
        float32x4_t sums = set_sums(w, rs, a->x->q + i * cols, a->x->d + i * blocks, offsets + i * blocks);
        vst1q_f32(y, vaddq_f32(sums, bias_terms(w, rs, a->x->xsum + i * groups)));
        for (int k = 0; k < n; k++) a->y[i * w->rows + r + k] = y[k] + (a->bias ? a->bias[r + k] : 0.0f);
    }
}

void linear_q8_gemv_neon(const vlm_q8_args *a, int64_t r0, int64_t r1) {
    int64_t m = a->x->m, blocks = a->w->cols / LINEAR_Q8_BLOCK;
    int32_t *offsets = malloc((size_t)(m * blocks) * sizeof(int32_t));
    if (!offsets) { /* out of memory: the plain-C kernel needs no buffer */
        linear_q8_gemv_scalar(a, r0, r1);
        return;
    }
    if (a->w->bits == 8)
        for (int64_t i = 0; i < m; i++)
            for (int64_t b = 0; b < blocks; b++) offsets[i * blocks + b] = 128 * code_sum(a->x->q + i * a->w->cols, b);
    row_set rs;
    for (int64_t r = r0; r < r1; r += SET) run_set(a, &rs, offsets, r, r1);
    free(offsets);
}
