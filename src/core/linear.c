/*
 * linear.c — y = x . W^T for dense and MLX affine-quantized weights.
 *
 * Holds the parts that do not depend on the instruction set: the scalar
 * reference (vlm_linear_ref), dequantization of rows (embeddings, tests),
 * and the driver of vlm_linear, which picks GEMV (few input rows: stream
 * W once, fused unpack + FMA per group) or GEMM (many input rows: unpack a
 * panel of W into f32 once and reuse it for every input row), splits W's
 * rows over the thread pool and calls the active kernel table's loops.
 *
 * Quantized GEMV uses  sum_k x_k (s q_k + b) = s * sum_k x_k q_k + b * sum_k x_k
 * per group, with the group sums of x computed once per call.
 *
 * In fast mode (vlm_fast_matmul) 4/8-bit weights that carry quad_params
 * (the language model's: models pack the weights decode uses) take the
 * integer path: x is quantized to int8 once per call and the table's
 * gemv_q8 runs over W rows in parallel (linear_q8.c), a tile of x rows at
 * a time so the tile stays in cache while W streams by. 4-bit weights take
 * it for any number of x rows: it beats the f32 panels at every size on
 * Zen 1 (8960x1536, 2 threads: 74-78 GFLOP/s for 8-256 rows against 20-68;
 * a 512-token prefill 25.3 against 22-23 tok/s). 8-bit weights take it
 * below Q8_MAX_ROWS_8BIT rows: their widening dot products stay at 42-46
 * GFLOP/s, which the f32 GEMM passes between 32 rows (45) and 64 (57).
 * Weights without quad_params (the vision tower's) keep f32.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/kernel_table.h"

enum {
    GEMM_MIN_M = 8,     /* input rows from which unpacking W to panels pays off */
    GEMM_BLOCK_N = 64,  /* W rows per GEMM task (multiple of every gemm_nr) */
    GEMM_BLOCK_K = 256, /* columns per panel (multiple of every group size) */
    GEMV_ROW_QUAD = 4,  /* W rows a GEMV kernel call handles together */
    Q8_ROW_TILE = 32,   /* x rows per pass of the integer path over W */
    Q8_MAX_ROWS_8BIT = 40, /* fewer x rows than this take the integer path with 8-bit weights */
};

/* ---- weight layout ------------------------------------------------------ */

vlm_status vlm_weight_validate(const vlm_weight *w) {
    if (w->rows <= 0 || w->cols <= 0 || !w->data)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "weight: empty shape [%lld, %lld]",
                         (long long)w->rows, (long long)w->cols);
    if (!vlm_weight_is_quantized(w)) {
        if (w->dtype != VLM_DTYPE_F32 && w->dtype != VLM_DTYPE_F16 && w->dtype != VLM_DTYPE_BF16)
            return vlm_error(VLM_ERR_UNSUPPORTED, "weight: dtype %s is not a linear weight type",
                             vlm_dtype_name(w->dtype));
        return VLM_OK;
    }
    if (w->bits != 2 && w->bits != 3 && w->bits != 4 && w->bits != 5 && w->bits != 6 && w->bits != 8)
        return vlm_error(VLM_ERR_UNSUPPORTED, "weight: %d-bit quantization is not supported", w->bits);
    if (w->group_size != 32 && w->group_size != 64 && w->group_size != 128)
        return vlm_error(VLM_ERR_UNSUPPORTED, "weight: group size %d is not 32, 64 or 128",
                         w->group_size);
    if (w->cols % w->group_size)
        return vlm_error(VLM_ERR_FORMAT, "weight: %lld columns are not a multiple of group size %d",
                         (long long)w->cols, w->group_size);
    if (w->scale_dtype != VLM_DTYPE_F32 && w->scale_dtype != VLM_DTYPE_F16 &&
        w->scale_dtype != VLM_DTYPE_BF16)
        return vlm_error(VLM_ERR_UNSUPPORTED, "weight: scales of dtype %s",
                         vlm_dtype_name(w->scale_dtype));
    if (!w->scales || !w->biases)
        return vlm_error(VLM_ERR_FORMAT, "weight: quantized weight without scales/biases");
    return VLM_OK;
}

/* Code of column c in a row's little-endian bit stream (any width <= 8). */
static unsigned row_code(const uint8_t *row, int64_t row_bytes, int bits, int64_t c) {
    int64_t bit = c * bits, byte = bit >> 3;
    unsigned v = row[byte];
    if (byte + 1 < row_bytes) v |= (unsigned)row[byte + 1] << 8;
    return (v >> (bit & 7)) & ((1u << bits) - 1);
}

/* Codes 8c8 .. 8c8+7 of a row: together they fill exactly `bits` bytes. */
static void row_codes8(const uint8_t *row, int bits, int64_t c8, unsigned *codes) {
    uint64_t v = 0;
    for (int i = 0; i < bits; i++) v |= (uint64_t)row[c8 * bits + i] << (8 * i);
    for (int i = 0; i < 8; i++) codes[i] = (unsigned)(v >> (i * bits)) & ((1u << bits) - 1);
}

static const uint8_t *quant_row(const vlm_weight *w, int64_t r, int64_t *row_bytes) {
    *row_bytes = w->cols * w->bits / 8;
    return (const uint8_t *)w->data + r * *row_bytes;
}

/* Columns [k0, k1) of quantized row r as f32, its codes from row. */
static void dequant_row(const vlm_weight *w, int64_t r, const uint8_t *row, int64_t row_bytes, int64_t k0, int64_t k1,
                        float *out) {
    for (int64_t k = k0; k < k1;) { /* one group (or the part of it in range) */
        int64_t g = k / w->group_size, end = (g + 1) * w->group_size < k1 ? (g + 1) * w->group_size : k1;
        float s = linear_group_scale(w, r, g), b = linear_group_bias(w, r, g);
        while (k < end) {
            if (!(k & 7) && k + 8 <= end) { /* a whole run of 8 codes at once */
                unsigned q[8];
                row_codes8(row, w->bits, k / 8, q);
                for (int i = 0; i < 8; i++) out[k + i - k0] = s * (float)q[i] + b;
                k += 8;
            } else {
                out[k - k0] = s * (float)row_code(row, row_bytes, w->bits, k) + b;
                k++;
            }
        }
    }
}

void linear_dequant_natural(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out) {
    if (!vlm_weight_is_quantized(w)) {
        for (int64_t k = k0; k < k1; k++) out[k - k0] = linear_load_float(w->dtype, w->data, r * w->cols + k);
        return;
    }
    int64_t row_bytes;
    const uint8_t *row = quant_row(w, r, &row_bytes);
    dequant_row(w, r, row, row_bytes, k0, k1, out);
}

/* A whole row reads the quad codes when the weight has them: a loader lets
 * the original code pages go, and an embedding lookup would fault one back
 * for every new token. */
void vlm_weight_row(const vlm_weight *w, int64_t r, float *out) {
    uint8_t stack[4096];
    int64_t row_bytes = w->cols / 2;
    uint8_t *row = !w->quad_codes ? NULL : row_bytes <= (int64_t)sizeof stack ? stack : malloc((size_t)row_bytes);
    if (!row) {
        linear_dequant_natural(w, r, 0, w->cols, out);
        return;
    }
    linear_quad_codes_row(w, r, row);
    dequant_row(w, r, row, row_bytes, 0, w->cols, out);
    if (row != stack) free(row);
}

void vlm_dequantize(const vlm_weight *w, float *out) {
    for (int64_t r = 0; r < w->rows; r++) vlm_weight_row(w, r, out + r * w->cols);
}

/* ---- scalar reference ---------------------------------------------------- */

/* The definition, element by element: y = sum_k x_k * (s q_k + b). */
void vlm_linear_ref(float *y, const float *x, int64_t m, const vlm_weight *w, const float *bias) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t r = 0; r < w->rows; r++) {
            float acc = 0, wk;
            for (int64_t k = 0; k < w->cols; k++) {
                linear_dequant_natural(w, r, k, k + 1, &wk);
                acc += x[i * w->cols + k] * wk;
            }
            y[i * w->rows + r] = acc + (bias ? bias[r] : 0.0f);
        }
}

/* ---- code order ---------------------------------------------------------- */

int64_t linear_code_block(const vlm_kernel_table *t, const vlm_weight *w) {
    if (!t->lanes || !vlm_weight_is_quantized(w)) return 0;
    if (w->bits != 2 && w->bits != 4 && w->bits != 8) return 0;
    int64_t block = (int64_t)t->lanes * (8 / w->bits);
    return w->group_size % block ? 0 : block;
}

/* x rows rearranged into the kernel's code order (see kernel_table.h). */
static void permute_x(float *dst, const float *x, int64_t n, int64_t block, int per) {
    int64_t lanes = block / per;
    for (int64_t b0 = 0; b0 < n; b0 += block)
        for (int j = 0; j < per; j++)
            for (int64_t l = 0; l < lanes; l++) dst[b0 + j * lanes + l] = x[b0 + l * per + j];
}

/* x of 4-bit GEMV, from code order: even slot x_e - x_o/16, odd slot x_o/16
 * (see kernel_table.h). */
static void prepare_q4_gemv(float *xp, int64_t n, int64_t lanes) {
    for (int64_t b0 = 0; b0 < n; b0 += 2 * lanes)
        for (int64_t l = 0; l < lanes; l++) {
            float xe = xp[b0 + l], xo = xp[b0 + lanes + l];
            xp[b0 + l] = xe - xo * 0.0625f;
            xp[b0 + lanes + l] = xo * 0.0625f;
        }
}

/* ---- GEMV: stream W once per call ---------------------------------------- */

typedef struct gemv_job {
    vlm_gemv_args args;
    const vlm_kernel_table *t;
    float (*dot)(const float *, const float *, int64_t);
} gemv_job;

/* Natural-order fallback: dequantize a stretch of the row, dot it with x. */
static void gemv_generic(const gemv_job *job, int64_t r0, int64_t r1) {
    const vlm_gemv_args *a = &job->args;
    const vlm_weight *w = a->w;
    int64_t stretch = vlm_weight_is_quantized(w) ? (GEMM_BLOCK_K / w->group_size) * w->group_size
                                                 : GEMM_BLOCK_K;
    float wrow[GEMM_BLOCK_K];
    for (int64_t r = r0; r < r1; r++) {
        for (int64_t i = 0; i < a->m; i++) a->y[i * w->rows + r] = a->bias ? a->bias[r] : 0.0f;
        for (int64_t k0 = 0; k0 < w->cols; k0 += stretch) {
            int64_t k1 = k0 + stretch < w->cols ? k0 + stretch : w->cols;
            linear_dequant_natural(w, r, k0, k1, wrow);
            for (int64_t i = 0; i < a->m; i++)
                a->y[i * w->rows + r] += job->dot(wrow, a->x + i * w->cols + k0, k1 - k0);
        }
    }
}

static void gemv_task(void *ctx, int64_t q0, int64_t q1) {
    const gemv_job *job = ctx;
    int64_t rows = job->args.w->rows;
    int64_t r0 = q0 * GEMV_ROW_QUAD, r1 = q1 * GEMV_ROW_QUAD < rows ? q1 * GEMV_ROW_QUAD : rows;
    const vlm_weight *w = job->args.w;
    int odd = w->bits == 3 || w->bits == 5 || w->bits == 6;
    int simd = job->t->gemv && (!vlm_weight_is_quantized(w) || linear_code_block(job->t, w) ||
                                (odd && job->t->odd_bits));
    if (simd) job->t->gemv(&job->args, r0, r1);
    else gemv_generic(job, r0, r1);
}

/* ---- GEMM: unpack a panel of W once, reuse it for every input row -------- */

typedef struct gemm_job {
    const vlm_kernel_table *t;
    const vlm_weight *w;
    const float *x; /* in code order */
    int64_t m;
    float *y;
    const float *bias;
} gemm_job;

/* Panels of nr W rows, k-major: panel[p][k][j] = W[n0 + p*nr + j][k0 + k].
 * Rows are unpacked nr at a time into rows[j][k] (L1), then written out
 * in panel order; rows past the edge are zero. */
static void gemm_pack_panels(const gemm_job *job, int64_t n0, int64_t nb, int64_t k0, int64_t kc,
                             float *panels) {
    int64_t nr = job->t->gemm_nr;
    _Alignas(64) float rows[32 * GEMM_BLOCK_K]; /* nr <= 32 */
    for (int64_t j0 = 0; j0 < nb; j0 += nr) {
        float *panel = panels + (j0 / nr) * GEMM_BLOCK_K * nr;
        for (int64_t j = 0; j < nr; j++) {
            if (j0 + j < nb) job->t->dequant(job->w, n0 + j0 + j, k0, k0 + kc, rows + j * kc);
            else memset(rows + j * kc, 0, (size_t)kc * sizeof(float));
        }
        for (int64_t k = 0; k < kc; k++)
            for (int64_t j = 0; j < nr; j++) panel[k * nr + j] = rows[j * kc + k];
    }
}

static void gemm_task(void *ctx, int64_t b0, int64_t b1) {
    const gemm_job *job = ctx;
    const vlm_kernel_table *t = job->t;
    int64_t rows = job->w->rows, cols = job->w->cols, nr = t->gemm_nr, mr = t->gemm_mr;
    _Alignas(64) float panels[GEMM_BLOCK_N * GEMM_BLOCK_K];
    for (int64_t n0 = b0 * GEMM_BLOCK_N; n0 < b1 * GEMM_BLOCK_N && n0 < rows; n0 += GEMM_BLOCK_N) {
        int64_t nb = rows - n0 < GEMM_BLOCK_N ? rows - n0 : GEMM_BLOCK_N;
        for (int64_t k0 = 0; k0 < cols; k0 += GEMM_BLOCK_K) {
            int64_t kc = cols - k0 < GEMM_BLOCK_K ? cols - k0 : GEMM_BLOCK_K;
            gemm_pack_panels(job, n0, nb, k0, kc, panels);
            for (int64_t i0 = 0; i0 < job->m; i0 += mr)
                for (int64_t j0 = 0; j0 < nb; j0 += nr)
                    t->gemm_tile(job->m - i0 < mr ? job->m - i0 : mr, nb - j0 < nr ? nb - j0 : nr, kc,
                                 job->x + i0 * cols + k0, cols, panels + (j0 / nr) * GEMM_BLOCK_K * nr,
                                 job->y + i0 * rows + n0 + j0, rows, k0 > 0);
        }
        if (job->bias)
            for (int64_t i = 0; i < job->m; i++)
                for (int64_t j = 0; j < nb; j++) job->y[i * rows + n0 + j] += job->bias[n0 + j];
    }
}

/* ---- driver -------------------------------------------------------------- */

/* sums[i][g] = sum of x row i over the columns of group g of w. */
static void group_sums(const vlm_weight *w, const float *x, int64_t m, float *sums) {
    int64_t groups = w->cols / w->group_size;
    for (int64_t i = 0; i < m; i++)
        for (int64_t g = 0; g < groups; g++) {
            const float *xg = x + i * w->cols + g * w->group_size;
            float s = 0;
            for (int k = 0; k < w->group_size; k++) s += xg[k];
            sums[i * groups + g] = s;
        }
}

/* ---- integer path: int8 activations ---------------------------------------- */

typedef struct q8_job {
    vlm_q8_args args;
    void (*kernel)(const vlm_q8_args *a, int64_t r0, int64_t r1);
} q8_job;

static void q8_task(void *ctx, int64_t q0, int64_t q1) {
    const q8_job *job = ctx;
    int64_t rows = job->args.w->rows;
    int64_t r1 = q1 * GEMV_ROW_QUAD < rows ? q1 * GEMV_ROW_QUAD : rows;
    job->kernel(&job->args, q0 * GEMV_ROW_QUAD, r1);
}

/* y by the integer path; returns 0 (y untouched) on allocation failure. */
static int linear_q8(const vlm_kernel_table *t, float *y, const float *x, int64_t m, const vlm_weight *w,
                     const float *bias) {
    vlm_q8_acts acts;
    if (!linear_q8_quantize(t, &acts, x, m, w)) return 0;
    int64_t blocks = w->cols / LINEAR_Q8_BLOCK, groups = w->cols / w->group_size;
    int64_t quads = (w->rows + GEMV_ROW_QUAD - 1) / GEMV_ROW_QUAD;
    for (int64_t i = 0; i < m; i += Q8_ROW_TILE) {
        vlm_q8_acts tile = {m - i < Q8_ROW_TILE ? m - i : Q8_ROW_TILE, w->cols, acts.q + i * w->cols,
                            acts.d + i * blocks, acts.xsum + i * groups, acts.scale_quads + i * blocks * 4,
                            acts.xsum_quads + i * groups * 4, acts.q4_planes ? acts.q4_planes + i * w->cols * 4 : NULL};
        q8_job job = {{w, &tile, y + i * w->rows, bias}, t->gemv_q8};
        vlm_parallel_for(quads, 8, q8_task, &job);
    }
    linear_q8_acts_free(&acts);
    return 1;
}

/* x in the table's code order plus per-group sums; NULL when x can be used
 * as is (dense weights). Returns 0 on allocation failure. */
static int prepare_x(const vlm_kernel_table *t, const vlm_weight *w, const float *x, int64_t m,
                     int gemv, float **buf, const float **xo, const float **xsum) {
    *buf = NULL;
    *xo = x;
    *xsum = NULL;
    if (!vlm_weight_is_quantized(w)) return 1;
    int64_t groups = w->cols / w->group_size, block = linear_code_block(t, w);
    *buf = malloc((size_t)(m * (groups + (block ? w->cols : 0))) * sizeof(float));
    if (!*buf) return 0;
    float *sums = *buf;
    group_sums(w, x, m, sums);
    *xsum = sums;
    if (block) {
        float *xp = sums + m * groups;
        for (int64_t i = 0; i < m; i++) {
            permute_x(xp + i * w->cols, x + i * w->cols, w->cols, block, 8 / w->bits);
            if (gemv && w->bits == 4) prepare_q4_gemv(xp + i * w->cols, w->cols, t->lanes);
        }
        *xo = xp;
    }
    return 1;
}

void vlm_linear(float *y, const float *x, int64_t m, const vlm_weight *w, const float *bias) {
    if (m <= 0 || w->rows <= 0) return;
    const vlm_kernel_table *t = vlm_kernels_active();
    if (t->gemv_q8 && vlm_fast_matmul() && linear_q8_supports(w) && (w->bits == 4 || m < Q8_MAX_ROWS_8BIT) &&
        linear_q8(t, y, x, m, w, bias))
        return;
    float *buf;
    const float *xo, *xsum;
    if (!prepare_x(t, w, x, m, m < GEMM_MIN_M, &buf, &xo, &xsum)) {
        vlm_linear_ref(y, x, m, w, bias); /* out of memory: slow but correct */
        return;
    }
    if (m < GEMM_MIN_M) {
        gemv_job job = {{w, xo, xsum, m, y, bias}, t, t->dot};
        int64_t quads = (w->rows + GEMV_ROW_QUAD - 1) / GEMV_ROW_QUAD;
        vlm_parallel_for(quads, 8, gemv_task, &job);
    } else {
        gemm_job job = {t, w, xo, m, y, bias};
        vlm_parallel_for((w->rows + GEMM_BLOCK_N - 1) / GEMM_BLOCK_N, 1, gemm_task, &job);
    }
    free(buf);
}
