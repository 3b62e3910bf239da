/*
 * kv_cache.c — per-layer contiguous key/value cache (see kv_cache.h).
 */
#include "generate/kv_cache.h"

#include <stdlib.h>

#include "core/error.h"

vlm_status kv_cache_new(int n_layers, int64_t capacity, int64_t kv_dim, kv_cache **out) {
    *out = NULL;
    if (n_layers <= 0 || capacity <= 0 || kv_dim <= 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                         "KV cache: bad size (%d layers, %lld positions, %lld floats)", n_layers,
                         (long long)capacity, (long long)kv_dim);
    if ((uint64_t)capacity > (UINT64_C(1) << 40) / (uint64_t)kv_dim / (uint64_t)n_layers)
        return vlm_error(VLM_ERR_LIMIT, "KV cache of %lld positions is too large",
                         (long long)capacity);
    kv_cache *c = vlm_calloc(1, sizeof *c);
    if (!c) return VLM_ERR_OUT_OF_MEMORY;
    size_t count = (size_t)n_layers * (size_t)capacity * (size_t)kv_dim;
    c->n_layers = n_layers;
    c->capacity = capacity;
    c->kv_dim = kv_dim;
    c->keys = vlm_calloc(count, sizeof(float));
    c->values = c->keys ? vlm_calloc(count, sizeof(float)) : NULL;
    if (!c->values) {
        kv_cache_free(c);
        return vlm_error(VLM_ERR_OUT_OF_MEMORY, "KV cache: cannot allocate %llu MB",
                         (unsigned long long)(2 * count * sizeof(float) >> 20));
    }
    *out = c;
    return VLM_OK;
}

void kv_cache_free(kv_cache *c) {
    if (!c) return;
    free(c->keys);
    free(c->values);
    free(c);
}

float *kv_cache_keys(kv_cache *c, int layer) {
    return c->keys + (size_t)layer * (size_t)c->capacity * (size_t)c->kv_dim;
}

float *kv_cache_values(kv_cache *c, int layer) {
    return c->values + (size_t)layer * (size_t)c->capacity * (size_t)c->kv_dim;
}

vlm_status kv_cache_reserve(const kv_cache *c, int64_t n) {
    if (n < 0 || c->length + n > c->capacity)
        return vlm_error(VLM_ERR_LIMIT,
                         "context full: %lld positions cached + %lld new > capacity %lld",
                         (long long)c->length, (long long)n, (long long)c->capacity);
    return VLM_OK;
}

void kv_cache_advance(kv_cache *c, int64_t n) { c->length += n; }

void kv_cache_clear(kv_cache *c) { c->length = 0; }

uint64_t kv_cache_bytes(const kv_cache *c) {
    return 2ull * (uint64_t)c->n_layers * (uint64_t)c->capacity * (uint64_t)c->kv_dim *
           sizeof(float);
}
