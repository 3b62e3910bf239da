/*
 * sampling.c — logits processors and samplers in mlx-vlm's order (see
 * sampling.h for the exact semantics), plus the seeded PRNG that makes
 * sampling reproducible.
 */
#include "generate/sampling.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---------------------------- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sampler_rng_seed(sampler_rng *rng, uint64_t seed) {
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sampler_rng_next(sampler_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sampler_rng_uniform(sampler_rng *rng) {
    return (double)(sampler_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* ---- setup -------------------------------------------------------------- */

static vlm_status check_params(const vlm_generate_params *p, int64_t vocab) {
    if (!(p->temperature >= 0.0f) || isinf(p->temperature))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "temperature must be >= 0, got %g", p->temperature);
    if (!(p->top_p >= 0.0f && p->top_p <= 1.0f))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "top_p must be in [0, 1], got %g", p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "min_p must be in [0, 1], got %g", p->min_p);
    if (p->top_k < 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "top_k must be >= 0, got %d", p->top_k);
    if (!(p->repetition_penalty >= 0.0f) || isinf(p->repetition_penalty))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "repetition_penalty must be >= 0, got %g",
                         p->repetition_penalty);
    if (p->repetition_context_size < 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "repetition_context_size must be >= 0, got %d",
                         p->repetition_context_size);
    if (!isfinite(p->presence_penalty) || !isfinite(p->frequency_penalty))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "presence/frequency penalties must be finite");
    if (p->n_logit_bias && !p->logit_bias)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "logit_bias is NULL but n_logit_bias = %zu",
                         p->n_logit_bias);
    for (size_t i = 0; i < p->n_logit_bias; i++) {
        if (p->logit_bias[i].token < 0 || p->logit_bias[i].token >= vocab)
            return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                             "logit_bias token %d is outside the vocabulary [0, %lld)",
                             (int)p->logit_bias[i].token, (long long)vocab);
        if (!isfinite(p->logit_bias[i].bias) && !(isinf(p->logit_bias[i].bias) && p->logit_bias[i].bias < 0))
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "logit_bias for token %d is not a number",
                             (int)p->logit_bias[i].token);
    }
    return VLM_OK;
}

static uint64_t clock_seed(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

vlm_status sampler_init(sampler *s, const vlm_generate_params *params, int64_t vocab) {
    memset(s, 0, sizeof *s);
    if (vocab <= 0) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vocabulary size must be > 0");
    vlm_status st = check_params(params, vocab);
    if (st) return st;
    s->params = *params;
    s->vocab = vocab;
    sampler_rng_seed(&s->rng, params->seed ? params->seed : clock_seed());
    s->occurrences = vlm_calloc((size_t)vocab, sizeof *s->occurrences);
    s->order = vlm_malloc((size_t)vocab * sizeof *s->order);
    if (!s->occurrences || !s->order) {
        sampler_free(s);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    return VLM_OK;
}

void sampler_free(sampler *s) {
    vlm_free(s->occurrences);
    vlm_free(s->order);
    s->occurrences = NULL;
    s->order = NULL;
}

/* ---- stage 1: logits processors ----------------------------------------- */

static void apply_logit_bias(const vlm_generate_params *p, float *logits) {
    for (size_t i = 0; i < p->n_logit_bias; i++) logits[p->logit_bias[i].token] += p->logit_bias[i].bias;
}

/* Penalise each distinct recent token once (repetition, presence) and each
 * occurrence (frequency). occurrences[] counts the window and is reset. */
static void apply_penalties(sampler *s, float *logits, const int32_t *recent, size_t n) {
    const vlm_generate_params *p = &s->params;
    int repetition = p->repetition_penalty != 0.0f && p->repetition_penalty != 1.0f;
    for (size_t i = 0; i < n; i++)
        if (recent[i] >= 0 && recent[i] < s->vocab) s->occurrences[recent[i]]++;
    for (size_t i = 0; i < n; i++) {
        int32_t t = recent[i];
        if (t < 0 || t >= s->vocab || s->occurrences[t] == 0) continue; /* done already */
        if (repetition)
            logits[t] = logits[t] < 0 ? logits[t] * p->repetition_penalty
                                      : logits[t] / p->repetition_penalty;
        logits[t] -= p->presence_penalty;
        logits[t] -= p->frequency_penalty * (float)s->occurrences[t];
        s->occurrences[t] = 0;
    }
}

void sampler_process_logits(sampler *s, float *logits, const int32_t *history, size_t n_history) {
    apply_logit_bias(&s->params, logits);
    size_t window = (size_t)s->params.repetition_context_size;
    if (window > n_history) window = n_history;
    apply_penalties(s, logits, history + (n_history - window), window);
}

/* ---- ordering helpers (indices ordered by descending value) ------------- */

static void swap_i32(int32_t *a, int32_t *b) {
    int32_t t = *a;
    *a = *b;
    *b = t;
}

/* Rearrange order[0..n) so its first k entries index the k largest values
 * (in no particular order): iterative quickselect, median-of-three pivot. */
static void select_largest(int32_t *order, int64_t n, int64_t k, const float *v) {
    int64_t lo = 0, hi = n - 1;
    while (hi > lo) {
        int64_t mid = lo + (hi - lo) / 2;
        if (v[order[mid]] > v[order[lo]]) swap_i32(&order[mid], &order[lo]);
        if (v[order[hi]] > v[order[lo]]) swap_i32(&order[hi], &order[lo]);
        if (v[order[hi]] > v[order[mid]]) swap_i32(&order[hi], &order[mid]);
        float pivot = v[order[mid]];  /* median of the three */
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[order[i]] > pivot) i++;
            while (v[order[j]] < pivot) j--;
            if (i <= j) swap_i32(&order[i++], &order[j--]);
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else return;
    }
}

static void sift_down_min(int32_t *h, int64_t n, int64_t i, const float *v) {
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && v[h[c + 1]] < v[h[c]]) c++;
        if (!(v[h[c]] < v[h[i]])) return;
        swap_i32(&h[c], &h[i]);
        i = c;
    }
}

/* Heap sort order[0..n) by descending value. */
static void sort_descending(int32_t *order, int64_t n, const float *v) {
    for (int64_t i = n / 2 - 1; i >= 0; i--) sift_down_min(order, n, i, v);
    for (int64_t end = n - 1; end > 0; end--) {
        swap_i32(&order[0], &order[end]);  /* smallest goes to the back */
        sift_down_min(order, end, 0, v);
    }
}

static void identity_order(int32_t *order, int64_t n) {
    for (int64_t i = 0; i < n; i++) order[i] = (int32_t)i;
}

static void mask_from(float *logprobs, const int32_t *order, int64_t begin, int64_t n) {
    for (int64_t i = begin; i < n; i++) logprobs[order[i]] = -INFINITY;
}

/* ---- stage 2: filters and draw ------------------------------------------ */

void sampler_log_softmax(float *x, int64_t n) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > max) max = x[i];
    if (max == -INFINITY) return;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += exp((double)x[i] - max);
    float lse = max + (float)log(sum);
    for (int64_t i = 0; i < n; i++) x[i] -= lse;
}

/* mlx: keep token i when the ascending cumulative probability up to and
 * including i exceeds 1 - top_p, i.e. walking tokens by descending
 * probability, keep while total - (mass before i) > 1 - top_p. Only the
 * needed head of the ordering is sorted (quickselect, doubling). */
void sampler_apply_top_p(sampler *s, float *logprobs, float top_p) {
    int64_t n = s->vocab;
    double total = 0;
    for (int64_t i = 0; i < n; i++) total += exp((double)logprobs[i]);
    identity_order(s->order, n);
    for (int64_t k = 64;; k *= 2) {
        if (k > n) k = n;
        select_largest(s->order, n, k, logprobs);
        sort_descending(s->order, k, logprobs);
        double before = 0;
        for (int64_t j = 0; j < k; j++) {
            if (total - before <= 1.0 - (double)top_p) {
                mask_from(logprobs, s->order, j, n);
                return;
            }
            before += exp((double)logprobs[s->order[j]]);
        }
        if (k == n) return;
    }
}

void sampler_apply_min_p(float *logprobs, int64_t n, float min_p) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (logprobs[i] > max) max = logprobs[i];
    float threshold = max + logf(min_p);
    for (int64_t i = 0; i < n; i++)
        if (logprobs[i] < threshold) logprobs[i] = -INFINITY;
}

void sampler_apply_top_k(sampler *s, float *logprobs, int top_k) {
    int64_t n = s->vocab;
    if (top_k <= 0 || top_k >= n) return;  /* mlx rejects these; here they mean "off" */
    identity_order(s->order, n);
    select_largest(s->order, n, top_k, logprobs);
    mask_from(logprobs, s->order, top_k, n);
}

static int32_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return (int32_t)best;
}

/* Draw from softmax(logprobs / temperature). */
static int32_t categorical(sampler *s, const float *logprobs, float temperature) {
    int64_t n = s->vocab;
    int32_t best = argmax(logprobs, n);
    double max = logprobs[best] / temperature, sum = 0;
    for (int64_t i = 0; i < n; i++) sum += exp(logprobs[i] / temperature - max);
    double target = sampler_rng_uniform(&s->rng) * sum, acc = 0;
    for (int64_t i = 0; i < n; i++) {
        acc += exp(logprobs[i] / temperature - max);
        if (acc > target) return (int32_t)i;
    }
    return best;  /* rounding left target just above the total */
}

int32_t sampler_pick(sampler *s, float *logits) {
    const vlm_generate_params *p = &s->params;
    if (p->temperature == 0.0f) return argmax(logits, s->vocab);
    sampler_log_softmax(logits, s->vocab);
    if (p->top_p > 0.0f && p->top_p < 1.0f) sampler_apply_top_p(s, logits, p->top_p);
    if (p->min_p != 0.0f) sampler_apply_min_p(logits, s->vocab, p->min_p);
    if (p->top_k > 0) sampler_apply_top_k(s, logits, p->top_k);
    return categorical(s, logits, p->temperature);
}
