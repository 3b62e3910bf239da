/*
 * kv_cache.h — the attention key/value cache of a decoder.
 *
 * One contiguous f32 block per layer for keys and one for values, each
 * [capacity][kv_dim] (kv_dim = n_kv_heads * head_dim), so a layer's
 * projections write new rows straight into the cache and attention reads
 * all cached rows with one stride. Allocated once per session (pages are
 * touched only as positions fill); nothing is allocated per token.
 *
 * Protocol per forward step of n tokens: kv_cache_reserve(n), then every
 * layer writes rows [length, length+n) of its block, then
 * kv_cache_advance(n).
 */
#ifndef VLM_GENERATE_KV_CACHE_H
#define VLM_GENERATE_KV_CACHE_H

#include <stdint.h>

#include "vlm.h"

typedef struct kv_cache {
    int n_layers;
    int64_t capacity; /* positions each layer can hold */
    int64_t kv_dim;   /* floats per position per layer */
    int64_t length;   /* positions stored (same in every layer) */
    float *keys;      /* (n_layers, capacity, kv_dim) */
    float *values;    /* (n_layers, capacity, kv_dim) */
} kv_cache;

vlm_status kv_cache_new(int n_layers, int64_t capacity, int64_t kv_dim, kv_cache **out);
void kv_cache_free(kv_cache *c);

/* First row of a layer's keys / values. */
float *kv_cache_keys(kv_cache *c, int layer);
float *kv_cache_values(kv_cache *c, int layer);

/* VLM_ERR_LIMIT (naming the sizes) when n more positions do not fit. */
vlm_status kv_cache_reserve(const kv_cache *c, int64_t n);
/* Commit n positions written by every layer. */
void kv_cache_advance(kv_cache *c, int64_t n);
/* Forget all positions (the memory is kept). */
void kv_cache_clear(kv_cache *c);
/* Bytes the cache holds when full. */
uint64_t kv_cache_bytes(const kv_cache *c);

#endif
