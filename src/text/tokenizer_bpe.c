/*
 * tokenizer_bpe.c — the BPE model of tokenizer.json (models/bpe in
 * huggingface/tokenizers): encoding one word (tokenizer_bpe_load.c loads
 * the model).
 *
 * Encoding a word: split it into characters (vocab lookups, with
 * byte_fallback "<0xNN>" tokens or a (fused) unk for unknown ones), then
 * repeatedly apply the lowest-ranked merge, leftmost first — the order
 * tokenizers' Word::merge_all produces. Short words use a flat array with
 * cached pair ranks; long ones a binary heap over a linked list.
 *
 * Speed: a per-call cache of word -> ids, and exact chunking of long words
 * (SentencePiece-style models see whole sentences as one word): a boundary
 * between two in-vocabulary characters that no merge spans (no merge has a
 * left part ending in the first and a right part starting with the second)
 * can never be merged across, so the word splits there with identical
 * results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/kernels.h"
#include "text/tokenizer.h"
#include "text/tokenizer_utf8.h"

#define SMALL_WORD 48          /* symbols: flat-array merging up to here */
#define CHUNK_MIN_BYTES 64     /* words longer than this are chunked */
#define CACHE_MAX_WORD 65536   /* bytes: longer words are not cached */
#define CACHE_MAX_ENTRIES (1u << 18)
#define CACHE_MAX_BYTES (64u << 20) /* word bytes + ids kept per call */
#define NO_RANK UINT32_MAX

/* ---- lookups: merge map and boundary set (filled by tokenizer_bpe_load.c) ---- */

static inline uint32_t merges_get(const bpe_merge_map *mm, int32_t a, int32_t b, int32_t *merged) {
    uint64_t key = bpe_merge_key(a, b);
    for (size_t i = bpe_merge_slot(mm, key);; i = bpe_merge_next(mm, i)) {
        const bpe_merge *e = &mm->slots[i];
        if (e->key == key) {
            *merged = (int32_t)(uint32_t)e->value;
            return (uint32_t)(e->value >> 32);
        }
        if (!e->key) return NO_RANK;
    }
}

static bool boundary_spanned(const bpe_model *m, uint32_t a, uint32_t b) {
    uint64_t key = bpe_boundary_key(a, b);
    for (size_t i = tok_mix64(key) & m->boundary_mask;; i = (i + 1) & m->boundary_mask) {
        uint64_t k = m->boundary_keys[i];
        if (k == key) return true;
        if (!k) return false;
    }
}

/* ---- per-call scratch ---- */

typedef struct heap_item {
    uint32_t rank, pos;
    int32_t merged;
} heap_item;

struct bpe_scratch {
    /* symbols of the word being merged */
    int32_t *id;
    uint32_t *len;
    uint32_t *rank;
    int32_t *merged;
    int32_t *prev, *next;
    size_t cap;
    heap_item *heap;
    size_t heap_cap;
    /* word -> ids cache */
    uint64_t *cache_hash;
    uint32_t *cache_key, *cache_key_len, *cache_ids, *cache_n;
    size_t cache_mask, cache_count;
    tok_buf cache_keys;
    int32_t *ids_pool;
    size_t ids_len, ids_cap;
};

bpe_scratch *bpe_scratch_new(void) { return vlm_calloc(1, sizeof(bpe_scratch)); }

void bpe_scratch_free(bpe_scratch *s) {
    if (!s) return;
    free(s->id);
    free(s->len);
    free(s->rank);
    free(s->merged);
    free(s->prev);
    free(s->next);
    free(s->heap);
    free(s->cache_hash);
    free(s->cache_key);
    free(s->cache_key_len);
    free(s->cache_ids);
    free(s->cache_n);
    tok_buf_free(&s->cache_keys);
    free(s->ids_pool);
    free(s);
}

static vlm_status grow_symbols(bpe_scratch *s, size_t n) {
    if (n <= s->cap) return VLM_OK;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
#define GROW(f)                                                    \
    do {                                                           \
        void *p_ = vlm_realloc(s->f, cap * sizeof *s->f);          \
        if (!p_) return VLM_ERR_OUT_OF_MEMORY;                     \
        s->f = p_;                                                 \
    } while (0)
    GROW(id);
    GROW(len);
    GROW(rank);
    GROW(merged);
    GROW(prev);
    GROW(next);
#undef GROW
    s->cap = cap;
    return VLM_OK;
}

/* ---- word -> initial symbols ---- */

static vlm_status add_symbol(bpe_scratch *s, size_t *n, int32_t id, uint32_t len) {
    vlm_status st = grow_symbols(s, *n + 1);
    if (st) return st;
    s->id[*n] = id;
    s->len[*n] = len;
    (*n)++;
    return VLM_OK;
}

/* Vocab id of one character with the subword prefix / word suffix the
 * model adds, -1 when absent. */
static int32_t char_id(const bpe_model *m, const char *c, size_t clen, bool first, bool last, tok_buf *tmp) {
    if ((first || !m->subword_prefix) && (!last || !m->word_suffix)) return tok_vocab_find(&m->vocab, c, clen);
    tmp->len = 0;
    if ((!first && m->subword_prefix && tok_buf_append(tmp, m->subword_prefix, strlen(m->subword_prefix))) ||
        tok_buf_append(tmp, c, clen) ||
        (last && m->word_suffix && tok_buf_append(tmp, m->word_suffix, strlen(m->word_suffix))))
        return -1;
    return tok_vocab_find(&m->vocab, tmp->data, tmp->len);
}

static vlm_status split_chars(const bpe_model *m, bpe_scratch *s, const char *w, size_t len, size_t *n_out) {
    size_t n = 0;
    int32_t unk = -1;
    uint32_t unk_len = 0;
    tok_buf tmp = {0};
    vlm_status st = VLM_OK;
    for (size_t i = 0; !st && i < len;) {
        size_t clen = utf8_len((unsigned char)w[i]);
        if (i + clen > len) clen = len - i;
        int32_t id = char_id(m, w + i, clen, i == 0, i + clen == len, &tmp);
        if (id >= 0) {
            if (unk >= 0) st = add_symbol(s, &n, unk, unk_len);
            unk = -1;
            if (!st) st = add_symbol(s, &n, id, (uint32_t)clen);
            i += clen;
            continue;
        }
        bool bytes_ok = m->byte_fallback;
        for (size_t k = 0; bytes_ok && k < clen; k++) bytes_ok = m->byte_token[(unsigned char)w[i + k]] >= 0;
        if (bytes_ok) {
            for (size_t k = 0; !st && k < clen; k++) st = add_symbol(s, &n, m->byte_token[(unsigned char)w[i + k]], 1);
        } else if (m->unk_id >= 0) {
            if (unk >= 0 && m->fuse_unk) {
                unk_len += (uint32_t)clen;
            } else {
                if (unk >= 0) st = add_symbol(s, &n, unk, unk_len);
                unk = m->unk_id;
                unk_len = (uint32_t)clen;
            }
        }
        i += clen;
    }
    if (!st && unk >= 0) st = add_symbol(s, &n, unk, unk_len);
    tok_buf_free(&tmp);
    *n_out = n;
    return st;
}

/* ---- merging ---- */

/* Flat array: ranks of adjacent pairs cached, lowest rank (leftmost on
 * ties) merged until no pair has a merge. */
static size_t merge_small(const bpe_model *m, bpe_scratch *s, size_t n) {
    for (size_t k = 0; k + 1 < n; k++) s->rank[k] = merges_get(&m->merges, s->id[k], s->id[k + 1], &s->merged[k]);
    while (n > 1) {
        size_t best = 0;
        for (size_t k = 1; k + 1 < n; k++)
            if (s->rank[k] < s->rank[best]) best = k;
        if (s->rank[best] == NO_RANK) break;
        s->id[best] = s->merged[best];
        s->len[best] += s->len[best + 1];
        size_t tail = n - best - 2;
        memmove(s->id + best + 1, s->id + best + 2, tail * sizeof *s->id);
        memmove(s->len + best + 1, s->len + best + 2, tail * sizeof *s->len);
        memmove(s->rank + best + 1, s->rank + best + 2, tail * sizeof *s->rank);
        memmove(s->merged + best + 1, s->merged + best + 2, tail * sizeof *s->merged);
        n--;
        if (best + 1 < n) s->rank[best] = merges_get(&m->merges, s->id[best], s->id[best + 1], &s->merged[best]);
        else s->rank[best] = NO_RANK;
        if (best > 0) s->rank[best - 1] = merges_get(&m->merges, s->id[best - 1], s->id[best], &s->merged[best - 1]);
    }
    return n;
}

static bool heap_less(heap_item a, heap_item b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

static vlm_status heap_push(bpe_scratch *s, size_t *hn, heap_item it) {
    vlm_status st = tok_grow(&s->heap, *hn, &s->heap_cap, sizeof *s->heap, 256);
    if (st) return st;
    size_t i = (*hn)++;
    while (i > 0 && heap_less(it, s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = it;
    return VLM_OK;
}

static heap_item heap_pop(bpe_scratch *s, size_t *hn) {
    heap_item top = s->heap[0], last = s->heap[--(*hn)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *hn) break;
        if (c + 1 < *hn && heap_less(s->heap[c + 1], s->heap[c])) c++;
        if (!heap_less(s->heap[c], last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    s->heap[i] = last;
    return top;
}

static vlm_status push_pair(const bpe_model *m, bpe_scratch *s, size_t *hn, size_t pos) {
    int32_t nx = s->next[pos], merged;
    if (nx < 0) return VLM_OK;
    uint32_t rank = merges_get(&m->merges, s->id[pos], s->id[nx], &merged);
    return rank == NO_RANK ? VLM_OK : heap_push(s, hn, (heap_item){rank, (uint32_t)pos, merged});
}

/* tokenizers' Word::merge_all: a heap of candidate merges over a linked
 * list of symbols; stale entries are skipped. */
static vlm_status merge_large(const bpe_model *m, bpe_scratch *s, size_t n, size_t *n_out) {
    size_t hn = 0;
    vlm_status st = VLM_OK;
    for (size_t k = 0; k < n; k++) {
        s->prev[k] = (int32_t)k - 1;
        s->next[k] = k + 1 < n ? (int32_t)k + 1 : -1;
    }
    for (size_t k = 0; !st && k + 1 < n; k++) st = push_pair(m, s, &hn, k);
    while (!st && hn > 0) {
        heap_item top = heap_pop(s, &hn);
        size_t pos = top.pos;
        int32_t nx = s->next[pos], merged;
        if (s->len[pos] == 0 || nx < 0) continue;
        if (merges_get(&m->merges, s->id[pos], s->id[nx], &merged) == NO_RANK || merged != top.merged) continue;
        s->id[pos] = merged;
        s->len[pos] += s->len[nx];
        s->len[nx] = 0;
        s->next[pos] = s->next[nx];
        if (s->next[nx] >= 0) s->prev[s->next[nx]] = (int32_t)pos;
        if (s->prev[pos] >= 0) st = push_pair(m, s, &hn, (size_t)s->prev[pos]);
        if (!st) st = push_pair(m, s, &hn, pos);
    }
    size_t w = 0;
    for (size_t k = 0; k < n; k++)
        if (s->len[k]) s->id[w++] = s->id[k];
    *n_out = w;
    return st;
}

static vlm_status encode_word(const bpe_model *m, bpe_scratch *s, const char *w, size_t len, int32_t **ids,
                              size_t *n, size_t *cap) {
    if (m->ignore_merges) {
        int32_t whole = tok_vocab_find(&m->vocab, w, len);
        if (whole >= 0) return tok_ids_append(ids, n, cap, &whole, 1);
    }
    size_t count;
    vlm_status st = split_chars(m, s, w, len, &count);
    if (st) return st;
    if (count <= SMALL_WORD) count = merge_small(m, s, count);
    else if ((st = merge_large(m, s, count, &count))) return st;
    return tok_ids_append(ids, n, cap, s->id, count);
}

/* ---- cache ---- */

static uint64_t word_hash(const char *w, size_t len) {
    return tok_mix64(tok_hash_bytes(0xCBF29CE484222325ULL, w, len)) | 1;
}

static vlm_status cache_grow(bpe_scratch *s) {
    size_t n = s->cache_mask ? (s->cache_mask + 1) * 2 : 1024;
    uint64_t *hash = vlm_calloc(n, sizeof *hash);
    uint32_t *key = vlm_malloc(n * sizeof *key), *klen = vlm_malloc(n * sizeof *klen);
    uint32_t *idso = vlm_malloc(n * sizeof *idso), *cnt = vlm_malloc(n * sizeof *cnt);
    if (!hash || !key || !klen || !idso || !cnt) {
        free(hash), free(key), free(klen), free(idso), free(cnt);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; s->cache_hash && i <= s->cache_mask; i++) {
        if (!s->cache_hash[i]) continue;
        size_t j = s->cache_hash[i] & (n - 1);
        while (hash[j]) j = (j + 1) & (n - 1);
        hash[j] = s->cache_hash[i];
        key[j] = s->cache_key[i];
        klen[j] = s->cache_key_len[i];
        idso[j] = s->cache_ids[i];
        cnt[j] = s->cache_n[i];
    }
    free(s->cache_hash), free(s->cache_key), free(s->cache_key_len), free(s->cache_ids), free(s->cache_n);
    s->cache_hash = hash, s->cache_key = key, s->cache_key_len = klen, s->cache_ids = idso, s->cache_n = cnt;
    s->cache_mask = n - 1;
    return VLM_OK;
}

/* Slot of word in the cache: found (true) or the empty slot to fill. */
static bool cache_find(const bpe_scratch *s, uint64_t h, const char *w, size_t len, size_t *slot) {
    size_t i = h & s->cache_mask;
    while (s->cache_hash[i]) {
        if (s->cache_hash[i] == h && s->cache_key_len[i] == len &&
            memcmp(s->cache_keys.data + s->cache_key[i], w, len) == 0) {
            *slot = i;
            return true;
        }
        i = (i + 1) & s->cache_mask;
    }
    *slot = i;
    return false;
}

static vlm_status encode_chunked(const bpe_model *m, bpe_scratch *s, const char *w, size_t len, int32_t **ids,
                                 size_t *n, size_t *cap);

/* Ids of a word from the cache, or encoded (chunked when allowed) and
 * remembered. */
static vlm_status cached_word(const bpe_model *m, bpe_scratch *s, const char *w, size_t len, bool may_chunk,
                              int32_t **ids, size_t *n, size_t *cap) {
    if (len > CACHE_MAX_WORD || s->cache_count >= CACHE_MAX_ENTRIES ||
        s->cache_keys.len + s->ids_len * sizeof(int32_t) > CACHE_MAX_BYTES)
        return may_chunk ? encode_chunked(m, s, w, len, ids, n, cap) : encode_word(m, s, w, len, ids, n, cap);
    vlm_status st;
    if ((s->cache_count + 1) * 2 > s->cache_mask + 1 && (st = cache_grow(s))) return st;
    uint64_t h = word_hash(w, len);
    size_t slot;
    if (cache_find(s, h, w, len, &slot))
        return tok_ids_append(ids, n, cap, s->ids_pool + s->cache_ids[slot], s->cache_n[slot]);
    size_t before = *n;
    st = may_chunk ? encode_chunked(m, s, w, len, ids, n, cap) : encode_word(m, s, w, len, ids, n, cap);
    if (st) return st;
    if ((s->cache_count + 1) * 2 > s->cache_mask + 1 && (st = cache_grow(s))) return st;
    cache_find(s, h, w, len, &slot); /* chunks may have grown the table */
    size_t key_off = s->cache_keys.len, ids_off = s->ids_len;
    if ((st = tok_buf_append(&s->cache_keys, w, len)) ||
        (st = tok_ids_append(&s->ids_pool, &s->ids_len, &s->ids_cap, *n > before ? *ids + before : NULL,
                             *n - before)))
        return st;
    s->cache_hash[slot] = h;
    s->cache_key[slot] = (uint32_t)key_off;
    s->cache_key_len[slot] = (uint32_t)len;
    s->cache_ids[slot] = (uint32_t)ids_off;
    s->cache_n[slot] = (uint32_t)(*n - before);
    s->cache_count++;
    return VLM_OK;
}

/* ---- chunking of long words ---- */

/* True when the boundary before w[i] (after the character at prev) can
 * be cut: both characters are plain vocabulary symbols and no merge spans
 * the pair. */
static bool can_cut(const bpe_model *m, const char *w, size_t prev, size_t prev_len, size_t i, size_t clen) {
    if (tok_vocab_find(&m->vocab, w + prev, prev_len) < 0 || tok_vocab_find(&m->vocab, w + i, clen) < 0) return false;
    return !boundary_spanned(m, bpe_char_bits(w + prev, prev_len), bpe_char_bits(w + i, clen));
}

/* A long word cut where no merge can span; each piece cached. */
static vlm_status encode_chunked(const bpe_model *m, bpe_scratch *s, const char *w, size_t len, int32_t **ids,
                                 size_t *n, size_t *cap) {
    size_t start = 0, prev = 0, prev_len = utf8_len((unsigned char)w[0]);
    for (size_t i = prev_len; i < len;) {
        size_t clen = utf8_len((unsigned char)w[i]);
        if (i + clen > len) break;
        if (can_cut(m, w, prev, prev_len, i, clen)) {
            vlm_status st = cached_word(m, s, w + start, i - start, false, ids, n, cap);
            if (st) return st;
            start = i;
        }
        prev = i;
        prev_len = clen;
        i += clen;
    }
    return start == 0 ? encode_word(m, s, w, len, ids, n, cap) : cached_word(m, s, w + start, len - start, false, ids, n, cap);
}

vlm_status bpe_tokenize(const bpe_model *m, bpe_scratch *s, const char *word, size_t len, int32_t **ids,
                        size_t *n, size_t *cap) {
    if (len == 0) return VLM_OK;
    return cached_word(m, s, word, len, m->can_chunk && len > CHUNK_MIN_BYTES, ids, n, cap);
}
