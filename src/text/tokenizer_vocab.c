/*
 * tokenizer_vocab.c — the token string <-> id table: one string pool, an
 * id-indexed offset array and an open-addressing hash of ids keyed by
 * their strings. Lookups of a concatenation (a + b) hash both parts
 * without building the joined string, which BPE merge loading relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

#define HASH_SEED 0x9E3779B97F4A7C15ULL

uint64_t tok_hash_bytes(uint64_t h, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}

vlm_status tok_vocab_init(tok_vocab *v, size_t expected) {
    memset(v, 0, sizeof *v);
    size_t slots = tok_table_size(expected);
    v->slots = vlm_calloc(slots, sizeof *v->slots);
    if (!v->slots) return VLM_ERR_OUT_OF_MEMORY;
    v->mask = slots - 1;
    return VLM_OK;
}

void tok_vocab_free(tok_vocab *v) {
    free(v->pool);
    free(v->offset);
    free(v->length);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

static bool same_token(const tok_vocab *v, int32_t id, const char *a, size_t alen, const char *b,
                       size_t blen) {
    if (v->length[id] != alen + blen) return false;
    const char *t = v->pool + v->offset[id];
    return memcmp(t, a, alen) == 0 && memcmp(t + alen, b, blen) == 0;
}

int32_t tok_vocab_find2(const tok_vocab *v, const char *a, size_t alen, const char *b, size_t blen) {
    if (!v->slots) return -1;
    size_t i = tok_mix64(tok_hash_bytes(tok_hash_bytes(HASH_SEED, a, alen), b, blen)) & v->mask;
    for (;;) {
        int32_t slot = v->slots[i];
        if (!slot) return -1;
        if (same_token(v, slot - 1, a, alen, b, blen)) return slot - 1;
        i = (i + 1) & v->mask;
    }
}

static vlm_status grow_slots(tok_vocab *v) {
    size_t n = (v->mask + 1) * 2;
    int32_t *slots = vlm_calloc(n, sizeof *slots);
    if (!slots) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t id = 0; id < v->n_ids; id++) {
        if (v->offset[id] == UINT32_MAX) continue;
        const char *t = v->pool + v->offset[id];
        size_t i = tok_mix64(tok_hash_bytes(HASH_SEED, t, v->length[id])) & (n - 1);
        while (slots[i]) i = (i + 1) & (n - 1);
        slots[i] = (int32_t)id + 1;
    }
    free(v->slots);
    v->slots = slots;
    v->mask = n - 1;
    return VLM_OK;
}

static vlm_status ensure_id(tok_vocab *v, size_t id) {
    if (id < v->n_ids) return VLM_OK;
    size_t n = v->n_ids ? v->n_ids : 256;
    while (n <= id) n *= 2;
    uint32_t *off = vlm_realloc(v->offset, n * sizeof *off);
    if (!off) return VLM_ERR_OUT_OF_MEMORY;
    v->offset = off;
    uint32_t *len = vlm_realloc(v->length, n * sizeof *len);
    if (!len) return VLM_ERR_OUT_OF_MEMORY;
    v->length = len;
    for (size_t i = v->n_ids; i < n; i++) off[i] = UINT32_MAX;
    v->n_ids = n;
    return VLM_OK;
}

static vlm_status pool_append(tok_vocab *v, const char *s, size_t len, uint32_t *off) {
    if (v->pool_len + len + 1 > UINT32_MAX)
        return vlm_error(VLM_ERR_LIMIT, "vocabulary strings exceed 4 GiB");
    if (v->pool_len + len + 1 > v->pool_cap) {
        size_t cap = v->pool_cap ? v->pool_cap : 4096;
        while (cap < v->pool_len + len + 1) cap *= 2;
        char *p = vlm_realloc(v->pool, cap);
        if (!p) return VLM_ERR_OUT_OF_MEMORY;
        v->pool = p;
        v->pool_cap = cap;
    }
    memcpy(v->pool + v->pool_len, s, len);
    v->pool[v->pool_len + len] = 0;
    *off = (uint32_t)v->pool_len;
    v->pool_len += len + 1;
    return VLM_OK;
}

vlm_status tok_vocab_add(tok_vocab *v, const char *s, size_t len, int32_t id) {
    if (id < 0 || id >= INT32_MAX / 2) return vlm_error(VLM_ERR_FORMAT, "token id %d out of range", id);
    if (len >= UINT32_MAX) return vlm_error(VLM_ERR_LIMIT, "token too long");
    vlm_status st = ensure_id(v, (size_t)id);
    if (st) return st;
    if (v->offset[id] != UINT32_MAX)
        return vlm_error(VLM_ERR_FORMAT, "token id %d assigned twice", id);
    int32_t old = tok_vocab_find(v, s, len);
    uint32_t off = 0;
    if ((st = pool_append(v, s, len, &off))) return st;
    v->offset[id] = off;
    v->length[id] = (uint32_t)len;
    if (old >= 0) { /* the later entry wins, the earlier id loses its string */
        v->offset[old] = UINT32_MAX;
        size_t i = tok_mix64(tok_hash_bytes(HASH_SEED, s, len)) & v->mask;
        while (v->slots[i] != old + 1) i = (i + 1) & v->mask;
        v->slots[i] = id + 1;
        return VLM_OK;
    }
    v->n_tokens++;
    if (v->n_tokens * 2 > v->mask + 1 && (st = grow_slots(v))) return st;
    if (v->n_tokens * 2 <= v->mask + 1 && tok_vocab_find(v, s, len) < 0) {
        size_t i = tok_mix64(tok_hash_bytes(HASH_SEED, s, len)) & v->mask;
        while (v->slots[i]) i = (i + 1) & v->mask;
        v->slots[i] = id + 1;
    }
    return VLM_OK;
}

const char *tok_vocab_token(const tok_vocab *v, int32_t id, size_t *len) {
    if (id < 0 || (size_t)id >= v->n_ids || v->offset[id] == UINT32_MAX) return NULL;
    if (len) *len = v->length[id];
    return v->pool + v->offset[id];
}
