/*
 * attention.c — scaled dot-product attention with grouped KV heads.
 *
 * One task is a block of queries of the query heads that share one KV
 * head (or a slice of them, when there are few tasks per thread). It walks
 * the keys in blocks, so each block of K and V is fetched from memory once
 * and used by every head and query of the task, and keeps an online
 * softmax per (head, query): running maximum, running sum and an
 * unnormalised output row, rescaled whenever the maximum grows.
 * This is exact (no approximation beyond f32 rounding), needs no n_kv-sized
 * buffer, and covers prefill (many queries, causal) and decode (one query
 * against the whole cache) alike. Calls of many queries (the vision tower
 * from 32 queries, causal prefill steps from 256: below those this loop
 * measured faster) go to attention_matmul.c instead, as matrix products.
 */
#include <math.h>

#include "core/kernel_table.h"

enum {
    ATTN_MATMUL_MIN_QUERIES = 32, /* unmasked calls of this many queries: attention_matmul.c */
    ATTN_MATMUL_MIN_CAUSAL = 256, /* causal ones (which waste the masked part of each block) */
    ATTN_KEY_BLOCK = 64,
    ATTN_MAX_QUERY_BLOCK = 16,
    ATTN_STATE_FLOATS = 4096,  /* output rows a task accumulates (16 KB) */
    ATTN_MAX_STATES = 512,      /* (head, query) pairs a task tracks */
};

typedef struct attn_job {
    float *out;
    const float *q, *k, *v;
    int64_t n_q, q_stride, n_kv, kv_stride, causal_offset, query_block;
    int heads_per_task, n_heads, n_kv_heads, head_dim;
    float scale;
    const vlm_kernel_table *t;
} attn_job;

/* Keys query i may see: all, or those up to causal_offset + i. */
static int64_t visible_keys(const attn_job *j, int64_t i) {
    if (j->causal_offset < 0) return j->n_kv;
    int64_t n = j->causal_offset + i + 1;
    return n < j->n_kv ? n : j->n_kv;
}

/* Online-softmax state of one query: running max, sum and output row. */
typedef struct attn_state {
    float max, sum;
    float *acc;
} attn_state;

/* Fold keys [k0, k1) into the state of query row qv of head h. */
static void attend_keys(const attn_job *j, int h, const float *qv, int64_t k0, int64_t k1,
                        attn_state *st) {
    int64_t d = j->head_dim, g = h / (j->n_heads / j->n_kv_heads), n = k1 - k0;
    const float *kb = j->k + k0 * j->kv_stride + g * d, *vb = j->v + k0 * j->kv_stride + g * d;
    float p[ATTN_KEY_BLOCK], block_max = -INFINITY;
    j->t->attn_scores(qv, kb, j->kv_stride, n, d, j->scale, p);
    for (int64_t i = 0; i < n; i++) block_max = p[i] > block_max ? p[i] : block_max;
    if (block_max == -INFINITY) return;
    if (block_max > st->max) { /* rescale what was summed under the old maximum */
        float correction = st->max == -INFINITY ? 0.0f : expf(st->max - block_max);
        st->sum *= correction;
        for (int64_t c = 0; c < d; c++) st->acc[c] *= correction;
        st->max = block_max;
    }
    st->sum += j->t->exp_sum(p, n, st->max);
    j->t->attn_mix(st->acc, p, vb, j->kv_stride, n, d);
}

/* Query rows [q0, q1) of heads [h0, h1) (all sharing one KV head): every
 * block of K and V is fetched once and used by all of them. */
static void attend_block(const attn_job *j, int h0, int h1, int64_t q0, int64_t q1) {
    int d = j->head_dim;
    int64_t nq = q1 - q0;
    float acc[ATTN_STATE_FLOATS]; /* (h1 - h0) * nq * head_dim fit */
    attn_state st[ATTN_MAX_STATES];
    for (int64_t s = 0; s < (h1 - h0) * nq; s++) {
        st[s] = (attn_state){-INFINITY, 0.0f, acc + s * d};
        for (int c = 0; c < d; c++) st[s].acc[c] = 0.0f;
    }
    int64_t last = visible_keys(j, q1 - 1);
    for (int64_t k0 = 0; k0 < last; k0 += ATTN_KEY_BLOCK)
        for (int h = h0; h < h1; h++)
            for (int64_t i = q0; i < q1; i++) {
                int64_t k1 = k0 + ATTN_KEY_BLOCK, seen = visible_keys(j, i);
                if (k1 > seen) k1 = seen;
                if (k1 > k0)
                    attend_keys(j, h, j->q + i * j->q_stride + (int64_t)h * d, k0, k1,
                                &st[(h - h0) * nq + i - q0]);
            }
    for (int h = h0; h < h1; h++)
        for (int64_t i = q0; i < q1; i++) {
            const attn_state *sh = &st[(h - h0) * nq + i - q0];
            float *o = j->out + i * j->n_heads * (int64_t)d + (int64_t)h * d;
            float inv = sh->sum > 0 ? 1.0f / sh->sum : 0.0f;
            for (int c = 0; c < d; c++) o[c] = sh->acc[c] * inv;
        }
}

/* Task t = (query block, KV head, slice of that KV head's query heads). */
static void attention_task(void *ctx, int64_t t0, int64_t t1) {
    const attn_job *j = ctx;
    int group = j->n_heads / j->n_kv_heads;
    int64_t slices = (group + j->heads_per_task - 1) / j->heads_per_task;
    for (int64_t t = t0; t < t1; t++) {
        int64_t slice = t % slices, g = t / slices % j->n_kv_heads, qb = t / slices / j->n_kv_heads;
        int h0 = (int)(g * group + slice * j->heads_per_task);
        int h1 = h0 + j->heads_per_task < (int)(g + 1) * group ? h0 + j->heads_per_task : (int)(g + 1) * group;
        int64_t q0 = qb * j->query_block;
        int64_t q1 = q0 + j->query_block < j->n_q ? q0 + j->query_block : j->n_q;
        attend_block(j, h0, h1, q0, q1);
    }
}

void vlm_attention(float *out, const float *q, int64_t n_q, int64_t q_stride, const float *k,
                   const float *v, int64_t n_kv, int64_t kv_stride, int n_heads, int n_kv_heads,
                   int head_dim, int64_t causal_offset, float scale) {
    if (n_q <= 0 || n_heads <= 0 || head_dim <= 0) return;
    int valid = head_dim <= VLM_ATTENTION_MAX_HEAD_DIM && n_kv_heads > 0 && n_heads % n_kv_heads == 0;
    if (!valid || n_kv <= 0) { /* nothing to attend to (or unusable shape): zeros */
        for (int64_t i = 0; i < n_q * n_heads * (int64_t)head_dim; i++) out[i] = 0.0f;
        return;
    }
    int64_t matmul_min = causal_offset < 0 ? ATTN_MATMUL_MIN_QUERIES : ATTN_MATMUL_MIN_CAUSAL;
    if (n_q >= matmul_min && attention_matmul(out, q, n_q, q_stride, k, v, n_kv, kv_stride, n_heads, n_kv_heads,
                                              head_dim, causal_offset, scale))
        return;
    /* Heads per task: the whole group shares K/V loads, but split it while
     * there would be fewer than two tasks per thread. */
    int group = n_heads / n_kv_heads, per_task = group;
    int64_t query_blocks_min = (n_q + ATTN_MAX_QUERY_BLOCK - 1) / ATTN_MAX_QUERY_BLOCK;
    while (per_task > 1 && query_blocks_min * n_kv_heads * ((group + per_task - 1) / per_task) <
                               2 * (int64_t)vlm_threads())
        per_task = (per_task + 1) / 2;
    while (per_task > 1 && ((int64_t)per_task * head_dim > ATTN_STATE_FLOATS / 2 ||
                            per_task * ATTN_MAX_QUERY_BLOCK > ATTN_MAX_STATES))
        per_task /= 2;
    int64_t query_block = ATTN_STATE_FLOATS / ((int64_t)per_task * head_dim);
    if (query_block > ATTN_MAX_QUERY_BLOCK) query_block = ATTN_MAX_QUERY_BLOCK;
    attn_job j = {out, q, k, v, n_q, q_stride, n_kv, kv_stride, causal_offset, query_block, per_task,
                  n_heads, n_kv_heads, head_dim, scale, vlm_kernels_active()};
    int64_t blocks = (n_q + query_block - 1) / query_block;
    int64_t slices = (group + per_task - 1) / per_task;
    vlm_parallel_for(blocks * n_kv_heads * slices, 1, attention_task, &j);
}
