/*
 * ops.c — the elementwise and normalisation kernels: softmax, RMSNorm,
 * LayerNorm, the activation functions, SwiGLU and rotary embeddings.
 *
 * The exp-based ones (softmax, the sigmoid family, tanh-GELU) run on the
 * active kernel table's vectorised exp; the rest are plain C loops.
 * Statistics of a row are accumulated in double so long rows lose nothing
 * to summation order.
 * Formulas follow MLX/PyTorch exactly (eps inside the square root, biased
 * variance, tanh-approximate GELU as nn.gelu_approx).
 */
#include <math.h>

#include "core/kernel_table.h"

void vlm_softmax(float *x, int64_t n) {
    if (n <= 0) return;
    float max = x[0];
    for (int64_t i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    if (max == -INFINITY) { /* every entry masked: no probability mass anywhere */
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    float inv = 1.0f / vlm_kernels_active()->exp_sum(x, n, max);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void vlm_rms_norm(float *y, const float *x, const float *weight, int64_t rows, int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double ss = 0;
        for (int64_t i = 0; i < n; i++) ss += (double)xr[i] * xr[i];
        float inv = (float)(1.0 / sqrt(ss / (double)n + eps));
        for (int64_t i = 0; i < n; i++) yr[i] = xr[i] * inv * (weight ? weight[i] : 1.0f);
    }
}

void vlm_layer_norm(float *y, const float *x, const float *weight, const float *bias, int64_t rows,
                    int64_t n, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double sum = 0, ss = 0;
        for (int64_t i = 0; i < n; i++) sum += xr[i];
        double mean = sum / (double)n;
        for (int64_t i = 0; i < n; i++) ss += ((double)xr[i] - mean) * ((double)xr[i] - mean);
        float inv = (float)(1.0 / sqrt(ss / (double)n + eps)), mu = (float)mean;
        for (int64_t i = 0; i < n; i++)
            yr[i] = (xr[i] - mu) * inv * (weight ? weight[i] : 1.0f) + (bias ? bias[i] : 0.0f);
    }
}

void vlm_silu(float *x, int64_t n) { vlm_kernels_active()->sigmoid_gate(x, x, NULL, 1.0f, n); }

void vlm_gelu_erf(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

void vlm_gelu_tanh(float *x, int64_t n) { vlm_kernels_active()->gelu_tanh(x, n); }

void vlm_quick_gelu(float *x, int64_t n) { vlm_kernels_active()->sigmoid_gate(x, x, NULL, 1.702f, n); }

void vlm_swiglu(float *gate, const float *up, int64_t n) {
    vlm_kernels_active()->sigmoid_gate(gate, gate, up, 1.0f, n);
}

void vlm_rope(float *x, int head_dim, const float *cos, const float *sin, int half_split) {
    int half = head_dim / 2;
    for (int i = 0; i < half; i++) {
        int a = half_split ? i : 2 * i, b = half_split ? i + half : 2 * i + 1;
        float x0 = x[a], x1 = x[b];
        x[a] = x0 * cos[i] - x1 * sin[i];
        x[b] = x1 * cos[i] + x0 * sin[i];
    }
}
