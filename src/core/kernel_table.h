/*
 * kernel_table.h — the per-ISA kernel set behind kernels.h.
 *
 * linear.c, ops.c and attention.c hold the ISA-independent drivers
 * (blocking, threading, reference math); the inner loops they call come
 * from one vlm_kernel_table, chosen once by cpu.c (scalar, avx2, avx512,
 * neon).
 *
 * Code order. A SIMD table with `lanes` > 0 unpacks quantized rows of
 * bits b in {2, 4, 8} a whole vector of bytes at a time, which yields the
 * codes of a block of lanes*(8/b) consecutive columns in a permuted order:
 * position j*lanes + l of the block holds column l*(8/b) + j. Both the
 * GEMV kernel and the GEMM panel dequantizer produce that order, and the
 * driver permutes x the same way once per call (linear_code_block()).
 * Every other weight (dense, 3/5/6 bits, groups smaller than a block)
 * uses the natural column order.
 *
 * 4-bit GEMV saves a shift per byte: it converts each byte v = e + 16 o
 * (even code e, odd code o) whole, and its low nibble e, and uses
 * x_e e + x_o o = (x_o / 16) v + (x_e - x_o / 16) e; the driver prepares
 * x accordingly (prepare_q4_gemv in linear.c).
 */
#ifndef VLM_CORE_KERNEL_TABLE_H
#define VLM_CORE_KERNEL_TABLE_H

#include "core/kernels.h"

/* One GEMV call: y[i][r] for the m rows of x and W rows [r0, r1). */
typedef struct vlm_gemv_args {
    const vlm_weight *w;
    const float *x;     /* [m][cols], in the table's code order for w */
    const float *xsum;  /* [m][cols/group_size] group sums of x (quantized w) */
    int64_t m;
    float *y;           /* [m][rows] */
    const float *bias;  /* [rows] or NULL */
} vlm_gemv_args;

typedef struct vlm_kernel_table {
    const char *isa;
    int lanes;           /* f32 lanes per vector; 0 = natural code order only */
    int odd_bits;        /* gemv/dequant also unpack 3/5/6-bit rows (natural order) */
    int gemm_mr, gemm_nr; /* micro-tile: rows of x by rows of W (nr <= 32) */
    /* y for W rows [r0, r1) of a dense weight, a quantized weight in this
     * table's code order (see linear_code_block), or, when odd_bits, a
     * 3/5/6-bit weight. */
    void (*gemv)(const vlm_gemv_args *a, int64_t r0, int64_t r1);
    /* Row r, columns [k0, k1) of W as f32 in the table's code order;
     * k0, k1 are multiples of the group size for quantized weights. */
    void (*dequant)(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out);
    /* c[i][j] (+)= sum_k a[i][k] * panel[k][j] for i < mr, j < nr;
     * panel is kc rows of gemm_nr floats (zero padded beyond nr). */
    void (*gemm_tile)(int64_t mr, int64_t nr, int64_t kc, const float *a, int64_t lda,
                      const float *panel, float *c, int64_t ldc, int accumulate);
    float (*dot)(const float *a, const float *b, int64_t n);
    /* Attention: out[j] = scale * q . k[j*stride .. +d) for j < n. */
    void (*attn_scores)(const float *q, const float *k, int64_t stride, int64_t n, int64_t d,
                        float scale, float *out);
    /* Attention: acc[0..d) += sum_j p[j] * v[j*stride .. +d) for j < n. */
    void (*attn_mix)(float *acc, const float *p, const float *v, int64_t stride, int64_t n, int64_t d);
    /* x[i] = exp(x[i] - shift); returns the sum (softmax numerators). */
    float (*exp_sum)(float *x, int64_t n, float shift);
    /* y[i] = x[i] * sigmoid(alpha * x[i]) (* up[i] when up != NULL):
     * SiLU (alpha 1), quick GELU (alpha 1.702), SwiGLU (up). */
    void (*sigmoid_gate)(float *y, const float *x, const float *up, float alpha, int64_t n);
    /* x[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in place. */
    void (*gelu_tanh)(float *x, int64_t n);
} vlm_kernel_table;

/* The table in use (cpu.c). */
const vlm_kernel_table *vlm_kernels_active(void);

/* Codes per permuted block for w under table t, or 0 for natural order. */
int64_t linear_code_block(const vlm_kernel_table *t, const vlm_weight *w);

/* The natural-order row unpacker every table may fall back to (linear.c). */
void linear_dequant_natural(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out);
/* Scalar activations every table may use for tails (kernels_scalar.c). */
float act_sigmoid_gate(float x, float alpha);
float act_gelu_tanh(float x);

/* Element i of an F32/F16/BF16 array as f32. */
static inline float linear_load_float(vlm_dtype dtype, const void *base, int64_t i) {
    switch (dtype) {
    case VLM_DTYPE_F16: return f16_to_f32(((const uint16_t *)base)[i]);
    case VLM_DTYPE_BF16: return bf16_to_f32(((const uint16_t *)base)[i]);
    default: return ((const float *)base)[i];
    }
}

/* Scale factor of group g of row r of a quantized weight (and its bias). */
static inline float linear_group_scale(const vlm_weight *w, int64_t r, int64_t g) {
    return linear_load_float(w->scale_dtype, w->scales, r * (w->cols / w->group_size) + g);
}
static inline float linear_group_bias(const vlm_weight *w, int64_t r, int64_t g) {
    return linear_load_float(w->scale_dtype, w->biases, r * (w->cols / w->group_size) + g);
}

extern const vlm_kernel_table vlm_kernels_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const vlm_kernel_table vlm_kernels_avx2;
extern const vlm_kernel_table vlm_kernels_avx512;
#elif defined(__aarch64__)
extern const vlm_kernel_table vlm_kernels_neon;
#endif

#endif
