/*
 * tokenizer_vocab.c — the token string <-> id table: one string pool, an
 * id-indexed span array and an open-addressing hash whose 16-byte slots
 * carry each token's length and first 8 bytes next to its id. Most tokens
 * (and most lookups: single characters while encoding, merge parts while
 * loading) are at most 8 bytes, so a probe settles them in the slot
 * itself, one cache miss; longer ones are confirmed in the pool.
 * Lookups of a concatenation (a + b) never build the joined string, which
 * BPE merge loading relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"


uint64_t tok_hash_bytes(uint64_t h, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}

/* A token of at most 8 bytes is hashed from its slot fields (one word),
 * a longer one byte by byte. */
static uint64_t hash_of(const char *a, size_t alen, const char *b, size_t blen, uint64_t prefix) {
    size_t len = alen + blen;
    if (len <= TOK_SLOT_PREFIX) return tok_mix64(prefix + len * 0x9E3779B97F4A7C15ULL);
    return tok_mix64(tok_hash_bytes(tok_hash_bytes(TOK_HASH_SEED, a, alen), b, blen));
}

uint64_t tok_vocab_hash2(const char *a, size_t alen, const char *b, size_t blen) {
    return hash_of(a, alen, b, blen, tok_prefix2(a, alen, b, blen));
}

tok_lookup tok_vocab_query(const char *a, size_t alen, const char *b, size_t blen) {
    uint64_t prefix = tok_prefix2(a, alen, b, blen);
    return (tok_lookup){.a = a, .alen = alen, .b = b, .blen = blen, .prefix = prefix,
                        .hash = hash_of(a, alen, b, blen, prefix)};
}

/* Slots for n tokens at most 5/8 full. */
static size_t slots_for(size_t n) {
    size_t slots = 64;
    while (slots / 8 * 5 < n) slots *= 2;
    return slots;
}

#define EXPECTED_TOKEN_BYTES 12 /* pool bytes reserved per expected token */
#define MAX_EXPECTED ((size_t)1 << 21) /* tokens sized for ahead; more grow as they come */

vlm_status tok_vocab_init(tok_vocab *v, size_t expected) {
    memset(v, 0, sizeof *v);
    if (expected > MAX_EXPECTED) expected = MAX_EXPECTED; /* an estimate from a file's size */
    size_t slots = slots_for(expected);
    v->slots = tok_table_alloc(slots, sizeof *v->slots);
    if (!v->slots) return VLM_ERR_OUT_OF_MEMORY;
    v->mask = slots - 1;
    /* the span array and the pool sized ahead: no copying growth (and
     * few page faults) while a large vocabulary is read */
    for (v->n_ids = 256; v->n_ids < expected; v->n_ids *= 2) {}
    v->pool.cap = v->n_ids * EXPECTED_TOKEN_BYTES;
    if (!(v->span = tok_big_alloc(v->n_ids, sizeof *v->span)) || !(v->pool.data = tok_big_alloc(v->pool.cap, 1)))
        return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < v->n_ids; i++) v->span[i].off = TOK_NO_TOKEN;
    return VLM_OK;
}

void tok_vocab_free(tok_vocab *v) {
    free(v->pool.data);
    free(v->span);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

/* Whether a slot's length and first bytes match the query's: the whole
 * answer for short tokens. */
static bool slot_matches(const tok_slot *s, size_t len, uint64_t prefix) {
    return s->len == len && s->prefix == prefix;
}

/* Slot index holding a + b (with hash h and first bytes prefix), or of
 * the empty slot where it would go. */
static size_t probe(const tok_vocab *v, uint64_t h, uint64_t prefix, const char *a, size_t alen, const char *b,
                    size_t blen) {
    size_t len = alen + blen;
    for (size_t i = h & v->mask;; i = (i + 1) & v->mask) {
        const tok_slot *s = &v->slots[i];
        if (!s->id1 || (slot_matches(s, len, prefix) &&
                        (len <= TOK_SLOT_PREFIX || tok_same_token(v, (int32_t)s->id1 - 1, a, alen, b, blen))))
            return i;
    }
}

int32_t tok_vocab_find2(const tok_vocab *v, const char *a, size_t alen, const char *b, size_t blen) {
    if (!v->slots) return -1;
    tok_lookup q = tok_vocab_query(a, alen, b, blen);
    return (int32_t)v->slots[probe(v, q.hash, q.prefix, a, alen, b, blen)].id1 - 1;
}

/* The id of a token of at most TOK_SLOT_PREFIX bytes, settled in the
 * slots alone. */
static int32_t find_short(const tok_vocab *v, size_t i, size_t len, uint64_t prefix) {
    for (;; i = (i + 1) & v->mask) {
        const tok_slot *s = &v->slots[i];
        if (!s->id1 || slot_matches(s, len, prefix)) return (int32_t)s->id1 - 1;
    }
}

void tok_vocab_find_batch(const tok_vocab *v, tok_lookup *q, size_t n) {
    size_t long_ones = 0;
    for (size_t k = 0; k < n; k++) { /* fetch the home slot */
        q[k].slot = q[k].hash & v->mask;
        __builtin_prefetch(&v->slots[q[k].slot]);
        long_ones += q[k].alen + q[k].blen > TOK_SLOT_PREFIX;
    }
    for (size_t k = 0; long_ones && k < n; k++) { /* a long token's first candidate: fetch its span */
        size_t len = q[k].alen + q[k].blen, i = q[k].slot;
        if (len <= TOK_SLOT_PREFIX) continue;
        while (v->slots[i].id1 && !slot_matches(&v->slots[i], len, q[k].prefix)) i = (i + 1) & v->mask;
        if (v->slots[i].id1) __builtin_prefetch(&v->span[v->slots[i].id1 - 1]);
        q[k].candidate = i;
    }
    for (size_t k = 0; long_ones && k < n; k++) /* and its string */
        if (q[k].alen + q[k].blen > TOK_SLOT_PREFIX && v->slots[q[k].candidate].id1)
            __builtin_prefetch(v->pool.data + v->span[v->slots[q[k].candidate].id1 - 1].off);
    for (size_t k = 0; k < n; k++) { /* now from cache */
        size_t len = q[k].alen + q[k].blen;
        q[k].id = len <= TOK_SLOT_PREFIX
                      ? find_short(v, q[k].slot, len, q[k].prefix)
                      : (int32_t)v->slots[probe(v, q[k].hash, q[k].prefix, q[k].a, q[k].alen, q[k].b, q[k].blen)].id1 - 1;
    }
}

static tok_slot slot_of(const tok_vocab *v, int32_t id) {
    tok_span sp = v->span[id];
    const char *t = v->pool.data + sp.off;
    return (tok_slot){(uint32_t)id + 1, sp.len, tok_prefix2(t, sp.len, "", 0)};
}

static vlm_status grow_slots(tok_vocab *v) {
    size_t n = (v->mask + 1) * 2;
    tok_slot *slots = tok_table_alloc(n, sizeof *slots);
    if (!slots) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t id = 0; id < v->n_ids; id++) {
        tok_span sp = v->span[id];
        if (sp.off == TOK_NO_TOKEN) continue;
        size_t i = tok_vocab_hash2(v->pool.data + sp.off, sp.len, "", 0) & (n - 1);
        while (slots[i].id1) i = (i + 1) & (n - 1);
        slots[i] = slot_of(v, (int32_t)id);
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
    for (size_t i = v->n_ids; i < n; i++) sp[i].off = TOK_NO_TOKEN;
    v->span = sp;
    v->n_ids = n;
    return VLM_OK;
}

static vlm_status pool_append(tok_vocab *v, const char *s, size_t len, uint32_t *off) {
    if (v->pool.len + len + 1 >= TOK_NO_TOKEN) return vlm_error(VLM_ERR_LIMIT, "vocabulary strings exceed 4 GiB");
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
    uint64_t prefix = tok_prefix2(s, len, "", 0);
    if (id < 0 || id >= INT32_MAX / 2) return vlm_error(VLM_ERR_FORMAT, "token id %d out of range", id);
    vlm_status st = ensure_id(v, (size_t)id);
    if (st) return st;
    if (v->span[id].off != TOK_NO_TOKEN) return vlm_error(VLM_ERR_FORMAT, "token id %d assigned twice", id);
    if ((v->n_tokens + 1) * 8 > (v->mask + 1) * 5 && (st = grow_slots(v))) return st;
    uint32_t off = 0;
    if ((st = pool_append(v, s, len, &off))) return st;
    size_t i = probe(v, h, prefix, s, len, "", 0);
    if (v->slots[i].id1) /* a repeated string: the later id wins, the earlier loses its string */
        v->span[v->slots[i].id1 - 1].off = TOK_NO_TOKEN;
    else
        v->n_tokens++;
    v->span[id] = (tok_span){off, (uint32_t)len};
    v->slots[i] = slot_of(v, id);
    return VLM_OK;
}

