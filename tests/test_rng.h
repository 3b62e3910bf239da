/*
 * test_rng.h — the xorshift random numbers of the kernel tests: one
 * deterministic stream per test file (each includer gets its own state),
 * so failures reproduce run after run.
 */
#ifndef VLM_TEST_RNG_H
#define VLM_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static inline uint32_t rng_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Uniform in [-1, 1). */
static inline float rng_uniform(void) { return (float)(rng_u32() & 0xffffff) / 16777216.0f * 2.0f - 1.0f; }

#endif
