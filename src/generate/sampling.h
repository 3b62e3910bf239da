/*
 * sampling.h — turning next-token logits into a token, as mlx-vlm does.
 *
 * Two stages, in mlx-vlm's order (mlx_vlm/generate + mlx_lm sample_utils):
 *  1. logits processors, on raw logits, in this order: logit_bias (added),
 *     repetition_penalty (sign-aware multiplicative, each distinct token of
 *     the recent context once), presence_penalty (subtracted once per
 *     distinct recent token), frequency_penalty (subtracted once per
 *     occurrence). "Recent context" is the last repetition_context_size ids
 *     of prompt + generated tokens.
 *  2. the sampler, on log-probabilities (log_softmax of the processed
 *     logits): temperature 0 = argmax (first index on ties); otherwise the
 *     filters top_p, then min_p, then top_k mask tokens to -inf, and a token
 *     is drawn from softmax(logprobs / temperature).
 *
 * Randomness comes from a seeded xoshiro256** generator owned by the
 * sampler, so a given seed reproduces the same tokens (mlx's own RNG is not
 * reproduced: same seed, different stream than mlx-vlm).
 */
#ifndef VLM_GENERATE_SAMPLING_H
#define VLM_GENERATE_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "vlm.h"

/* xoshiro256** state, seeded through splitmix64. */
typedef struct sampler_rng {
    uint64_t s[4];
} sampler_rng;

void sampler_rng_seed(sampler_rng *rng, uint64_t seed);
uint64_t sampler_rng_next(sampler_rng *rng);
/* Uniform double in [0, 1) with 53 random bits. */
double sampler_rng_uniform(sampler_rng *rng);

typedef struct sampler {
    vlm_generate_params params;   /* logit_bias points at the caller's array */
    int64_t vocab;
    sampler_rng rng;
    int32_t *occurrences;         /* [vocab] counts of recent tokens, kept zero between calls */
    int32_t *order;               /* [vocab] token indices, scratch for top-p / top-k */
} sampler;

/* Validate params against the vocabulary size and allocate scratch.
 * seed 0 in params means "from the clock". */
vlm_status sampler_init(sampler *s, const vlm_generate_params *params, int64_t vocab);
void sampler_free(sampler *s);

/* Stage 1: apply logit_bias and the penalties in place. history holds the
 * prompt and generated ids so far (only the last repetition_context_size
 * are used; ids outside the vocabulary are ignored). */
void sampler_process_logits(sampler *s, float *logits, const int32_t *history, size_t n_history);

/* Stage 2: logits (already processed) -> token id. Overwrites logits with
 * the masked log-probabilities. */
int32_t sampler_pick(sampler *s, float *logits);

/* The filters on their own (in place on log-probabilities; masked = -inf),
 * exposed for tests. */
void sampler_log_softmax(float *x, int64_t n);
void sampler_apply_top_p(sampler *s, float *logprobs, float top_p);
void sampler_apply_min_p(float *logprobs, int64_t n, float min_p);
void sampler_apply_top_k(sampler *s, float *logprobs, int top_k);

#endif
