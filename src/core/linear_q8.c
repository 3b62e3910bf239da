/*
 * linear_q8.c — the parts of the integer matmul that do not depend on the
 * instruction set: quantizing activation rows to int8 blocks, and the
 * plain-C kernel (reference for the SIMD ones, scalar table's entry).
 *
 * For an MLX affine weight w = s q + b per group g, with x ~ d x8 per
 * block of LINEAR_Q8_BLOCK columns:
 *   y = sum_g s_g * sum_{blocks in g} d_block * sum_k q_k x8_k
 *     + sum_g b_g * sum_{k in g} x_k
 * The inner sums are exact integers; the bias term uses the f32 group sums
 * of the original x, so only the s q x part carries the int8 error.
 */
#include <math.h>
#include <stdlib.h>

#include "core/kernel_table.h"

int linear_q8_supports(const vlm_weight *w) {
    return vlm_weight_is_quantized(w) && w->quad_params && (w->bits == 4 || w->bits == 8) &&
           w->group_size % LINEAR_Q8_BLOCK == 0 && w->cols % LINEAR_Q8_CHUNK == 0 &&
           (w->bits == 8 || w->quad_codes || !LINEAR_QUAD_CODES);
}

/* One row: d per block, codes round(x / d) in linear_q8_index order. */
void linear_q8_quantize_row_scalar(const float *x, int64_t cols, int bits, int8_t *q, float *d, float *block_sums) {
    for (int64_t b0 = 0; b0 < cols; b0 += LINEAR_Q8_BLOCK) {
        float amax = 0, sum = 0;
        for (int k = 0; k < LINEAR_Q8_BLOCK; k++) {
            amax = fmaxf(amax, fabsf(x[b0 + k]));
            sum += x[b0 + k];
        }
        float inv = amax > 0 ? 127.0f / amax : 0.0f;
        d[b0 / LINEAR_Q8_BLOCK] = amax / 127.0f;
        block_sums[b0 / LINEAR_Q8_BLOCK] = sum;
        for (int k = 0; k < LINEAR_Q8_BLOCK; k++) q[linear_q8_index(bits, b0 + k)] = (int8_t)lrintf(x[b0 + k] * inv);
    }
}

/* Each of n values four times in a row. */
static void four_times(const float *v, int64_t n, float *out) {
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++) out[4 * i + k] = v[i];
}

int linear_q8_quantize(const vlm_kernel_table *t, vlm_q8_acts *acts, const float *x, int64_t m,
                       const vlm_weight *w) {
    int64_t cols = w->cols, blocks = cols / LINEAR_Q8_BLOCK, groups = cols / w->group_size;
    int64_t per_group = w->group_size / LINEAR_Q8_BLOCK;
    int8_t *q = malloc((size_t)(m * cols));
    float *d = malloc((size_t)(m * blocks) * sizeof(float)), *sums = malloc((size_t)(m * blocks) * sizeof(float));
    float *scale_quads = malloc((size_t)(m * blocks * 4) * sizeof(float));
    float *xsum_quads = malloc((size_t)(m * groups * 4) * sizeof(float));
    int want_planes = t->q4_planes && w->bits == 4 && cols <= LINEAR_Q4_PLANES_COLS;
    int8_t *planes = want_planes ? aligned_alloc(32, (size_t)(m * cols) * 4) : NULL;
    *acts = (vlm_q8_acts){m, cols, q, d, sums, scale_quads, xsum_quads, planes};
    if (!q || !d || !sums || !scale_quads || !xsum_quads || (want_planes && !planes)) {
        linear_q8_acts_free(acts);
        return 0;
    }
    for (int64_t i = 0; i < m; i++)
        t->quantize_q8(x + i * cols, cols, w->bits, q + i * cols, d + i * blocks, sums + i * blocks);
    for (int64_t g = 0; g < m * groups; g++) { /* block sums to group sums, in place */
        float s = 0;
        for (int64_t j = 0; j < per_group; j++) s += sums[g * per_group + j];
        sums[g] = s;
    }
    for (int64_t i = 0; planes && i < m; i++) t->q4_planes(q + i * cols, cols, planes + i * cols * 4);
    four_times(d, m * blocks, scale_quads); /* blocks 2c, 2c + 1 are chunk c's halves */
    four_times(sums, m * groups, xsum_quads);
    return 1;
}

void linear_q8_acts_free(vlm_q8_acts *acts) {
    free((void *)acts->q);
    free((void *)acts->d);
    free((void *)acts->xsum);
    free((void *)acts->scale_quads);
    free((void *)acts->xsum_quads);
    free((void *)acts->q4_planes);
    *acts = (vlm_q8_acts){0};
}

/* Code of column c of a 4- or 8-bit row. */
static unsigned weight_code(const uint8_t *row, int bits, int64_t c) {
    return bits == 8 ? row[c] : (row[c >> 1] >> ((c & 1) * 4)) & 15u;
}

/* y[i][r] for one x row and one W row, by the formula in the header. */
static float q8_dot_row(const vlm_q8_args *a, int64_t i, int64_t r) {
    const vlm_weight *w = a->w;
    const vlm_q8_acts *x = a->x;
    int64_t cols = w->cols, groups = cols / w->group_size, blocks = cols / LINEAR_Q8_BLOCK;
    const uint8_t *row = (const uint8_t *)w->data + r * (cols * w->bits / 8);
    const int8_t *xq = x->q + i * cols;
    float acc = 0, bias_term = 0;
    for (int64_t g = 0; g < groups; g++) {
        float part = 0;
        for (int64_t b = g * w->group_size / LINEAR_Q8_BLOCK; b < (g + 1) * w->group_size / LINEAR_Q8_BLOCK; b++) {
            int32_t isum = 0;
            for (int64_t c = b * LINEAR_Q8_BLOCK; c < (b + 1) * LINEAR_Q8_BLOCK; c++)
                isum += (int32_t)weight_code(row, w->bits, c) * xq[linear_q8_index(w->bits, c)];
            part += x->d[i * blocks + b] * (float)isum;
        }
        acc += linear_group_scale(w, r, g) * part;
        bias_term += linear_group_bias(w, r, g) * x->xsum[i * groups + g];
    }
    return acc + bias_term + (a->bias ? a->bias[r] : 0.0f);
}

void linear_q8_gemv_scalar(const vlm_q8_args *a, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++)
        for (int64_t i = 0; i < a->x->m; i++) a->y[i * a->w->rows + r] = q8_dot_row(a, i, r);
}
