/*
 * attention_matmul.c — attention of many queries as matrix products: the
 * vision tower's (unmasked: every patch of an image or window sees every
 * other) and the language model's prefill (causal).
 *
 * The online-softmax loop of attention.c reads each key and value row
 * once per query with one FMA per load. Here a head's keys become a dense
 * weight, so S = Q K^T and O = P V run on the register-blocked f32 GEMM of
 * vlm_linear, which reuses every load across a tile of rows. For a block
 * of queries: S = (scale Q) K^T over the keys the block's last query may
 * see, an exact softmax of each row over that query's own keys (its
 * maximum subtracted, as attention.c does; keys past it get weight 0),
 * then O = P V, divided by the row sums. Heads are spread over the thread
 * pool, each work slot with its own buffers; the products inside run on
 * the calling thread.
 */
#include <stdlib.h>

#include "core/kernel_table.h"

enum { QUERY_BLOCK = 128 }; /* query rows per S block */

typedef struct matmul_job {
    float *out;
    const float *q, *k, *v;
    int64_t n_q, q_stride, n_kv, kv_stride, causal_offset;
    int n_heads, n_kv_heads, head_dim, slots;
    float scale;
    float *buffers; /* slots x slot_floats */
    int64_t slot_floats;
} matmul_job;

/* Keys query i may see (vlm_attention's mask). */
static int64_t visible_keys(const matmul_job *j, int64_t i) {
    if (j->causal_offset < 0 || j->causal_offset + i + 1 > j->n_kv) return j->n_kv;
    return j->causal_offset + i + 1;
}

/* values_t = the head's first n value rows transposed: a weight [d, n]. */
static void transpose_values(const matmul_job *j, int64_t g, int64_t n, float *values_t) {
    int64_t d = j->head_dim;
    for (int64_t r = 0; r < n; r++)
        for (int64_t c = 0; c < d; c++) values_t[c * n + r] = j->v[r * j->kv_stride + g * d + c];
}

/* One head: keys as a weight [n_kv, d], values transposed to a weight
 * [d, keys seen], then query blocks through both products. */
static void attend_head(const matmul_job *j, int h, float *buf) {
    int64_t d = j->head_dim, n = j->n_kv, g = h / (j->n_heads / j->n_kv_heads), vt_cols = 0;
    float *keys = buf, *values_t = keys + n * d, *qs = values_t + n * d, *s = qs + QUERY_BLOCK * d;
    float *o = s + QUERY_BLOCK * n;
    for (int64_t r = 0; r < n; r++)
        for (int64_t c = 0; c < d; c++) keys[r * d + c] = j->k[r * j->kv_stride + g * d + c];
    const vlm_kernel_table *t = vlm_kernels_active();
    for (int64_t q0 = 0; q0 < j->n_q; q0 += QUERY_BLOCK) {
        int64_t m = j->n_q - q0 < QUERY_BLOCK ? j->n_q - q0 : QUERY_BLOCK, seen = visible_keys(j, q0 + m - 1);
        if (seen != vt_cols) transpose_values(j, g, vt_cols = seen, values_t);
        for (int64_t i = 0; i < m; i++)
            for (int64_t c = 0; c < d; c++) qs[i * d + c] = j->q[(q0 + i) * j->q_stride + h * d + c] * j->scale;
        vlm_weight kw = {.dtype = VLM_DTYPE_F32, .rows = seen, .cols = d, .data = keys};
        vlm_linear(s, qs, m, &kw, NULL);
        float inv_sum[QUERY_BLOCK];
        for (int64_t i = 0; i < m; i++) {
            float *row = s + i * seen, max = row[0];
            int64_t own = visible_keys(j, q0 + i);
            for (int64_t c = 1; c < own; c++) max = row[c] > max ? row[c] : max;
            float sum = t->exp_sum(row, own, max);
            for (int64_t c = own; c < seen; c++) row[c] = 0.0f;
            inv_sum[i] = sum > 0 ? 1.0f / sum : 0.0f;
        }
        vlm_weight vw = {.dtype = VLM_DTYPE_F32, .rows = d, .cols = seen, .data = values_t};
        vlm_linear(o, s, m, &vw, NULL);
        for (int64_t i = 0; i < m; i++) {
            float *dst = j->out + (q0 + i) * j->n_heads * d + h * d;
            for (int64_t c = 0; c < d; c++) dst[c] = o[i * d + c] * inv_sum[i];
        }
    }
}

/* Work slot w takes heads w, w + slots, ... with its own buffers. */
static void matmul_task(void *ctx, int64_t w0, int64_t w1) {
    const matmul_job *j = ctx;
    for (int64_t w = w0; w < w1; w++)
        for (int h = (int)w; h < j->n_heads; h += j->slots) attend_head(j, h, j->buffers + w * j->slot_floats);
}

int attention_matmul(float *out, const float *q, int64_t n_q, int64_t q_stride, const float *k, const float *v,
                     int64_t n_kv, int64_t kv_stride, int n_heads, int n_kv_heads, int head_dim,
                     int64_t causal_offset, float scale) {
    int slots = vlm_threads() < n_heads ? vlm_threads() : n_heads;
    int64_t d = head_dim;
    int64_t slot_floats = 2 * n_kv * d + QUERY_BLOCK * (2 * d + n_kv);
    float *buffers = malloc((size_t)(slots * slot_floats) * sizeof(float));
    if (!buffers) return 0;
    matmul_job j = {out, q, k, v, n_q, q_stride, n_kv, kv_stride, causal_offset, n_heads, n_kv_heads, head_dim,
                    slots, scale, buffers, slot_floats};
    vlm_parallel_for(slots, 1, matmul_task, &j);
    free(buffers);
    return 1;
}
