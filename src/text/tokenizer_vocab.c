/*
 * tokenizer_vocab.c — the token string <-> id table: one string pool, an
 * id-indexed span array and an open-addressing hash whose slots carry a
 * 32-bit hash tag next to the id, so that a probe rarely touches the pool.
 * Lookups of a concatenation (a + b) hash both parts without building the
 * joined string, which BPE merge loading relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

#define NO_TOKEN UINT32_MAX

uint64_t tok_hash_bytes(uint64_t h, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}

uint64_t tok_vocab_hash2(const char *a, size_t alen, const char *b, size_t blen) {
    return tok_mix64(tok_hash_bytes(tok_hash_bytes(TOK_HASH_SEED, a, alen), b, blen));
}

static uint64_t slot_of(uint64_t h, int32_t id) { return (h >> 32) << 32 | (uint32_t)(id + 1); }

vlm_status tok_vocab_init(tok_vocab *v, size_t expected) {
    memset(v, 0, sizeof *v);
    size_t slots = tok_table_size(expected);
    v->slots = tok_table_alloc(slots, sizeof *v->slots);
    if (!v->slots) return VLM_ERR_OUT_OF_MEMORY;
    v->mask = slots - 1;
    return VLM_OK;
}

void tok_vocab_free(tok_vocab *v) {
    free(v->pool.data);
    free(v->span);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

static bool same_token(const tok_vocab *v, int32_t id, const char *a, size_t alen, const char *b, size_t blen) {
    tok_span sp = v->span[id];
    if (sp.len != alen + blen) return false;
    const char *t = v->pool.data + sp.off;
    return memcmp(t, a, alen) == 0 && memcmp(t + alen, b, blen) == 0;
}

/* Slot index holding a + b, or of the empty slot where it would go. */
static size_t probe(const tok_vocab *v, uint64_t h, const char *a, size_t alen, const char *b, size_t blen) {
    uint64_t tag = h >> 32;
    size_t i = h & v->mask;
    for (;;) {
        uint64_t slot = v->slots[i];
        if (!slot || ((slot >> 32) == tag && same_token(v, (int32_t)(uint32_t)slot - 1, a, alen, b, blen)))
            return i;
        i = (i + 1) & v->mask;
    }
}

int32_t tok_vocab_find2(const tok_vocab *v, const char *a, size_t alen, const char *b, size_t blen) {
    if (!v->slots) return -1;
    uint64_t slot = v->slots[probe(v, tok_vocab_hash2(a, alen, b, blen), a, alen, b, blen)];
    return slot ? (int32_t)(uint32_t)slot - 1 : -1;
}

void tok_vocab_find_batch(const tok_vocab *v, tok_lookup *q, size_t n) {
    for (size_t k = 0; k < n; k++) { /* fetch the home slot */
        q[k].slot = q[k].hash & v->mask;
        __builtin_prefetch(&v->slots[q[k].slot]);
    }
    for (size_t k = 0; k < n; k++) { /* first tag match: fetch its span */
        size_t i = q[k].slot;
        while (v->slots[i] && (v->slots[i] >> 32) != (q[k].hash >> 32)) i = (i + 1) & v->mask;
        q[k].slot = i;
        if (v->slots[i]) __builtin_prefetch(&v->span[(uint32_t)v->slots[i] - 1]);
    }
    for (size_t k = 0; k < n; k++) /* fetch its string */
        if (v->slots[q[k].slot]) __builtin_prefetch(v->pool.data + v->span[(uint32_t)v->slots[q[k].slot] - 1].off);
    for (size_t k = 0; k < n; k++) { /* the exact probe, now from cache */
        uint64_t slot = v->slots[probe(v, q[k].hash, q[k].a, q[k].alen, q[k].b, q[k].blen)];
        q[k].id = slot ? (int32_t)(uint32_t)slot - 1 : -1;
    }
}

static vlm_status grow_slots(tok_vocab *v) {
    size_t n = (v->mask + 1) * 2;
    uint64_t *slots = tok_table_alloc(n, sizeof *slots);
    if (!slots) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t id = 0; id < v->n_ids; id++) {
        tok_span sp = v->span[id];
        if (sp.off == NO_TOKEN) continue;
        uint64_t h = tok_vocab_hash2(v->pool.data + sp.off, sp.len, "", 0);
        size_t i = h & (n - 1);
        while (slots[i]) i = (i + 1) & (n - 1);
        slots[i] = slot_of(h, (int32_t)id);
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
    tok_span *sp = vlm_realloc(v->span, n * sizeof *sp);
    if (!sp) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = v->n_ids; i < n; i++) sp[i].off = NO_TOKEN;
    v->span = sp;
    v->n_ids = n;
    return VLM_OK;
}

static vlm_status pool_append(tok_vocab *v, const char *s, size_t len, uint32_t *off) {
    if (v->pool.len + len + 1 >= NO_TOKEN) return vlm_error(VLM_ERR_LIMIT, "vocabulary strings exceed 4 GiB");
    size_t start = v->pool.len;
    vlm_status st = tok_buf_append(&v->pool, s, len);
    if (st) return st;
    *off = (uint32_t)start;
    v->pool.len++; /* keep the NUL tok_buf_append wrote: strings stay C strings */
    return VLM_OK;
}

vlm_status tok_vocab_add(tok_vocab *v, const char *s, size_t len, int32_t id) {
    return tok_vocab_add_hashed(v, s, len, id, tok_vocab_hash2(s, len, "", 0));
}

vlm_status tok_vocab_add_hashed(tok_vocab *v, const char *s, size_t len, int32_t id, uint64_t h) {
    if (id < 0 || id >= INT32_MAX / 2) return vlm_error(VLM_ERR_FORMAT, "token id %d out of range", id);
    vlm_status st = ensure_id(v, (size_t)id);
    if (st) return st;
    if (v->span[id].off != NO_TOKEN) return vlm_error(VLM_ERR_FORMAT, "token id %d assigned twice", id);
    if ((v->n_tokens + 1) * 2 > v->mask + 1 && (st = grow_slots(v))) return st;
    uint32_t off = 0;
    if ((st = pool_append(v, s, len, &off))) return st;
    size_t i = probe(v, h, s, len, "", 0);
    if (v->slots[i]) /* a repeated string: the later id wins, the earlier loses its string */
        v->span[(uint32_t)v->slots[i] - 1].off = NO_TOKEN;
    else
        v->n_tokens++;
    v->span[id] = (tok_span){off, (uint32_t)len};
    v->slots[i] = slot_of(h, id);
    return VLM_OK;
}

const char *tok_vocab_token(const tok_vocab *v, int32_t id, size_t *len) {
    if (id < 0 || (size_t)id >= v->n_ids || v->span[id].off == NO_TOKEN) return NULL;
    if (len) *len = v->span[id].len;
    return v->pool.data + v->span[id].off;
}
