/*
 * test_qweight.h — random MLX-quantized weights for the integer-matmul
 * tests: each weight as MLX stores it and the same with quad_params, the
 * shapes the tests sweep (4 and 8 bits, groups 32/64/128, f32/bf16/f16
 * scales, rows not a multiple of four, columns that are not whole 64-column
 * chunks) and activations shaped like real hidden states.
 */
#ifndef VLM_TEST_QWEIGHT_H
#define VLM_TEST_QWEIGHT_H

#include "core/kernel_table.h"
#include "test.h"
#include "test_rng.h"

typedef struct qweight {
    vlm_weight w;      /* as MLX stores it */
    vlm_weight packed; /* the same with quad_params */
    uint32_t *data;
    uint16_t *scales16, *biases16;
    float *scales32, *biases32;
} qweight;

static inline qweight make_weight(int bits, int group, vlm_dtype sdtype, int64_t rows, int64_t cols) {
    qweight q = {{.dtype = VLM_DTYPE_U32, .rows = rows, .cols = cols, .bits = bits,
                  .group_size = group, .scale_dtype = sdtype}, {0}, NULL, NULL, NULL, NULL, NULL};
    int64_t words = rows * cols * bits / 32, groups = rows * cols / group;
    q.data = malloc((size_t)words * 4);
    for (int64_t i = 0; i < words; i++) q.data[i] = rng_u32() ^ (rng_u32() << 16);
    q.scales32 = malloc((size_t)groups * 4);
    q.biases32 = malloc((size_t)groups * 4);
    q.scales16 = malloc((size_t)groups * 2);
    q.biases16 = malloc((size_t)groups * 2);
    for (int64_t g = 0; g < groups; g++) {
        float s = 0.05f * rng_uniform(), b = 0.5f * rng_uniform();
        q.scales16[g] = sdtype == VLM_DTYPE_BF16 ? f32_to_bf16(s) : f32_to_f16(s);
        q.biases16[g] = sdtype == VLM_DTYPE_BF16 ? f32_to_bf16(b) : f32_to_f16(b);
        q.scales32[g] = s;
        q.biases32[g] = b;
    }
    q.w.data = q.data;
    q.w.scales = sdtype == VLM_DTYPE_F32 ? (const void *)q.scales32 : (const void *)q.scales16;
    q.w.biases = sdtype == VLM_DTYPE_F32 ? (const void *)q.biases32 : (const void *)q.biases16;
    q.packed = q.w;
    CHECK_OK(vlm_weight_pack_quads(&q.packed));
    return q;
}

static inline void free_weight(qweight *q) {
    vlm_weight_free_quads(&q->packed);
    free(q->data);
    free(q->scales16);
    free(q->biases16);
    free(q->scales32);
    free(q->biases32);
}

/* Activations with a spread of magnitudes per block, one outlier per row
 * and (row 0) an all-zero block, as real hidden states have. */
static inline float *make_x(int64_t m, int64_t cols) {
    float *x = malloc((size_t)(m * cols) * sizeof(float));
    for (int64_t i = 0; i < m * cols; i++) x[i] = rng_uniform() * (float)(1 + (i / 32) % 5);
    for (int64_t i = 0; i < m; i++) x[i * cols + (rng_u32() % cols)] = 40.0f;
    for (int k = 0; k < LINEAR_Q8_BLOCK && cols > 2 * LINEAR_Q8_BLOCK; k++) x[LINEAR_Q8_BLOCK + k] = 0.0f; /* a zero block */
    return x;
}

typedef struct shape {
    int bits, group;
    vlm_dtype sdtype;
    int64_t rows, cols;
} shape;

static const shape shapes[] = {
    {4, 64, VLM_DTYPE_BF16, 37, 512}, {4, 32, VLM_DTYPE_F32, 13, 96},  {4, 128, VLM_DTYPE_F16, 8, 384},
    {4, 32, VLM_DTYPE_BF16, 9, 160},  {8, 64, VLM_DTYPE_BF16, 21, 256}, {8, 32, VLM_DTYPE_F16, 6, 96},
    {8, 128, VLM_DTYPE_F32, 11, 640}, {4, 64, VLM_DTYPE_BF16, 10, 704}, {8, 64, VLM_DTYPE_F16, 7, 640},
    {4, 32, VLM_DTYPE_BF16, 6, 192},  {8, 32, VLM_DTYPE_F32, 5, 320},  {4, 64, VLM_DTYPE_F16, 11, 448},
    {4, 64, VLM_DTYPE_F32, 6, 64},    {4, 64, VLM_DTYPE_F16, 16, 320}, {4, 64, VLM_DTYPE_F32, 14, 128},
    {4, 64, VLM_DTYPE_BF16, 13, 192}, {4, 64, VLM_DTYPE_BF16, 10, 4160}, {4, 64, VLM_DTYPE_F16, 7, 2112},
};
#endif
