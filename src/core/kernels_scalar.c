/*
 * kernels_scalar.c — the portable kernel table: plain C loops, natural
 * code order. It is the reference the SIMD tables are tested against and
 * the fallback on CPUs without a SIMD table.
 */
#include <math.h>

#include "core/kernel_table.h"

enum { SCALAR_MR = 4, SCALAR_NR = 16 };

static float dot_scalar(const float *a, const float *b, int64_t n) {
    float acc = 0;
    for (int64_t i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

static void gemm_tile_scalar(int64_t mr, int64_t nr, int64_t kc, const float *a, int64_t lda,
                             const float *panel, float *c, int64_t ldc, int accumulate) {
    for (int64_t i = 0; i < mr; i++) {
        float acc[SCALAR_NR] = {0};
        for (int64_t k = 0; k < kc; k++) {
            float aik = a[i * lda + k];
            for (int j = 0; j < SCALAR_NR; j++) acc[j] += aik * panel[k * SCALAR_NR + j];
        }
        for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[j] : acc[j];
    }
}

static void attn_scores_scalar(const float *q, const float *k, int64_t stride, int64_t n, int64_t d,
                               float scale, float *out) {
    for (int64_t j = 0; j < n; j++) out[j] = scale * dot_scalar(q, k + j * stride, d);
}

static void attn_mix_scalar(float *acc, const float *p, const float *v, int64_t stride, int64_t n,
                            int64_t d) {
    for (int64_t j = 0; j < n; j++)
        for (int64_t c = 0; c < d; c++) acc[c] += p[j] * v[j * stride + c];
}

float act_sigmoid_gate(float x, float alpha) { return x / (1.0f + expf(-alpha * x)); }

float act_gelu_tanh(float x) {
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

static float exp_sum_scalar(float *x, int64_t n, float shift) {
    float sum = 0;
    for (int64_t i = 0; i < n; i++) sum += x[i] = expf(x[i] - shift);
    return sum;
}

static void sigmoid_gate_scalar(float *y, const float *x, const float *up, float alpha, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = act_sigmoid_gate(x[i], alpha) * (up ? up[i] : 1.0f);
}

static void gelu_tanh_scalar(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = act_gelu_tanh(x[i]);
}

const vlm_kernel_table vlm_kernels_scalar = {
    .isa = "scalar",
    .lanes = 0,
    .odd_bits = 0,
    .gemm_mr = SCALAR_MR,
    .gemm_nr = SCALAR_NR,
    .gemv = NULL, /* linear.c's generic dequantize-and-dot path */
    .dequant = linear_dequant_natural,
    .gemm_tile = gemm_tile_scalar,
    .dot = dot_scalar,
    .attn_scores = attn_scores_scalar,
    .attn_mix = attn_mix_scalar,
    .exp_sum = exp_sum_scalar,
    .sigmoid_gate = sigmoid_gate_scalar,
    .gelu_tanh = gelu_tanh_scalar,
    .gemv_q8 = linear_q8_gemv_scalar,
    .quantize_q8 = linear_q8_quantize_row_scalar,
};
