/*
 * tokenizer_added.c — added tokens (special and not): found in the text
 * before the model runs and emitted as their own ids, exactly as
 * tokenizers' AddedVocabulary does: tokens with normalized=false are
 * matched on the raw input, those with normalized=true on the normalized
 * text; matching is leftmost-longest; single_word, lstrip and rstrip
 * adjust or reject a match.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/error.h"
#include "text/tokenizer.h"
#include "text/tokenizer_utf8.h"

/* ---- byte trie ---- */

static vlm_status trie_new_node(tok_trie *t, int32_t *out) {
    vlm_status st = tok_grow(&t->terminal, t->n_nodes, &t->cap_nodes, sizeof *t->terminal, 64);
    if (st) return st;
    t->terminal[t->n_nodes] = -1;
    *out = (int32_t)t->n_nodes++;
    return VLM_OK;
}

static int32_t trie_edge(const tok_trie *t, int32_t node, unsigned char b) {
    if (!t->edge_keys) return -1;
    uint64_t key = ((uint64_t)node << 8 | b) + 1;
    size_t i = tok_mix64(key) & t->edge_mask;
    for (;;) {
        if (t->edge_keys[i] == key) return t->edge_next[i];
        if (!t->edge_keys[i]) return -1;
        i = (i + 1) & t->edge_mask;
    }
}

static vlm_status trie_grow_edges(tok_trie *t) {
    size_t n = t->edge_keys ? (t->edge_mask + 1) * 2 : 256;
    uint64_t *keys = vlm_calloc(n, sizeof *keys);
    int32_t *next = vlm_malloc(n * sizeof *next);
    if (!keys || !next) {
        free(keys);
        free(next);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; t->edge_keys && i <= t->edge_mask; i++) {
        if (!t->edge_keys[i]) continue;
        size_t j = tok_mix64(t->edge_keys[i]) & (n - 1);
        while (keys[j]) j = (j + 1) & (n - 1);
        keys[j] = t->edge_keys[i];
        next[j] = t->edge_next[i];
    }
    free(t->edge_keys);
    free(t->edge_next);
    t->edge_keys = keys;
    t->edge_next = next;
    t->edge_mask = n - 1;
    return VLM_OK;
}

static vlm_status trie_child(tok_trie *t, int32_t node, unsigned char b, int32_t *out) {
    int32_t c = node < 0 ? t->root[b] - 1 : trie_edge(t, node, b);
    if (c >= 0) {
        *out = c;
        return VLM_OK;
    }
    vlm_status st = trie_new_node(t, &c);
    if (st) return st;
    if (node < 0) {
        t->root[b] = c + 1;
    } else {
        if ((t->n_edges + 1) * 2 > (t->edge_keys ? t->edge_mask + 1 : 0) && (st = trie_grow_edges(t))) return st;
        uint64_t key = ((uint64_t)node << 8 | b) + 1;
        size_t i = tok_mix64(key) & t->edge_mask;
        while (t->edge_keys[i]) i = (i + 1) & t->edge_mask;
        t->edge_keys[i] = key;
        t->edge_next[i] = c;
        t->n_edges++;
    }
    *out = c;
    return VLM_OK;
}

static vlm_status trie_insert(tok_trie *t, const char *s, size_t len, int32_t index) {
    int32_t node = -1;
    for (size_t i = 0; i < len; i++) {
        vlm_status st = trie_child(t, node, (unsigned char)s[i], &node);
        if (st) return st;
    }
    if (node >= 0) t->terminal[node] = index;
    return VLM_OK;
}

static void trie_free(tok_trie *t) {
    free(t->edge_keys);
    free(t->edge_next);
    free(t->terminal);
    memset(t, 0, sizeof *t);
}

/* Longest token starting at s[0]: its index and length, or -1. */
static int32_t trie_longest(const tok_trie *t, const char *s, size_t len, size_t *match_len) {
    int32_t node = t->root[(unsigned char)s[0]] - 1, best = -1;
    for (size_t i = 1; node >= 0; i++) {
        if (t->terminal[node] >= 0) {
            best = t->terminal[node];
            *match_len = i;
        }
        if (i >= len) break;
        node = trie_edge(t, node, (unsigned char)s[i]);
    }
    return best;
}

/* ---- the set of added tokens ---- */

vlm_status tok_added_add(tok_added *a, const tok_added_token *t) {
    vlm_status st;
    if (!a->by_content.slots && (st = tok_vocab_init(&a->by_content, 64))) return st;
    if (t->len == 0) return vlm_error(VLM_ERR_FORMAT, "added token %d has empty content", t->id);
    if (t->id < 0 || t->id > INT32_MAX / 4) return vlm_error(VLM_ERR_FORMAT, "added token id %d out of range", t->id);
    const tok_added_token *old = tok_added_by_content(a, t->content, t->len);
    if (old) { /* a re-declaration updates the flags and keeps the id */
        tok_added_token *o = &a->tokens[old - a->tokens];
        bool special = o->special || t->special;
        char *content = o->content;
        int32_t id = o->id;
        *o = *t;
        o->content = content;
        o->id = id;
        o->special = special;
        return VLM_OK;
    }
    if ((st = tok_grow(&a->tokens, a->n, &a->cap, sizeof *a->tokens, 32))) return st;
    tok_added_token *dst = &a->tokens[a->n];
    *dst = *t;
    dst->content = vlm_malloc(t->len + 1);
    if (!dst->content) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(dst->content, t->content, t->len);
    dst->content[t->len] = 0;
    if ((st = tok_vocab_add(&a->by_content, dst->content, t->len, (int32_t)a->n))) {
        free(dst->content);
        return st;
    }
    a->n++;
    return VLM_OK;
}

static vlm_status index_ids(tok_added *a) {
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        if ((size_t)a->tokens[i].id + 1 > n) n = (size_t)a->tokens[i].id + 1;
    free(a->by_id);
    a->by_id = vlm_malloc((n ? n : 1) * sizeof *a->by_id);
    if (!a->by_id) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++) a->by_id[i] = -1;
    for (size_t i = 0; i < a->n; i++) a->by_id[a->tokens[i].id] = (int32_t)i;
    a->n_by_id = n;
    return VLM_OK;
}

vlm_status tok_added_build(tok_added *a, const tok_normalizer *normalizer) {
    vlm_status st = index_ids(a);
    if (st) return st;
    trie_free(&a->raw_trie);
    trie_free(&a->norm_trie);
    tok_matcher m = {0};
    tok_buf norm = {0};
    if ((st = tok_matcher_init(&m))) return st;
    for (size_t i = 0; !st && i < a->n; i++) {
        const tok_added_token *t = &a->tokens[i];
        if (!t->normalized || !normalizer) {
            st = trie_insert(&a->raw_trie, t->content, t->len, (int32_t)i);
        } else if (!(st = tok_normalize(normalizer, &m, t->content, t->len, &norm, NULL))) {
            st = trie_insert(&a->norm_trie, norm.data, norm.len, (int32_t)i);
        }
    }
    tok_buf_free(&norm);
    tok_matcher_free(&m);
    return st;
}

void tok_added_free(tok_added *a) {
    for (size_t i = 0; i < a->n; i++) free(a->tokens[i].content);
    free(a->tokens);
    free(a->by_id);
    tok_vocab_free(&a->by_content);
    trie_free(&a->raw_trie);
    trie_free(&a->norm_trie);
    memset(a, 0, sizeof *a);
}

const tok_added_token *tok_added_by_id(const tok_added *a, int32_t id) {
    if (id < 0 || (size_t)id >= a->n_by_id || a->by_id[id] < 0) return NULL;
    return &a->tokens[a->by_id[id]];
}

const tok_added_token *tok_added_by_content(const tok_added *a, const char *s, size_t len) {
    int32_t i = tok_vocab_find(&a->by_content, s, len);
    return i < 0 ? NULL : &a->tokens[i];
}

/* ---- splitting text around added tokens ---- */

/* Rust regex \\w: alphabetic, marks, decimal digits, connector
 * punctuation, the joiners U+200C/U+200D. */
static bool is_word_char(uint32_t cp) {
    if (cp == 0x200C || cp == 0x200D) return true;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) || c == UTF8PROC_CATEGORY_ND ||
           c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_PC;
}

static size_t char_start_before(const char *s, size_t i) {
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;
    return i > 0 ? i - 1 : 0;
}

static uint32_t char_before(const char *s, size_t i) {
    size_t k = char_start_before(s, i);
    return utf8_next(s, &k);
}

static vlm_status push_segment(tok_segment **segs, size_t *n, size_t *cap, size_t start, size_t end, int32_t id) {
    vlm_status st = tok_grow(segs, *n, cap, sizeof **segs, 16);
    if (st) return st;
    (*segs)[(*n)++] = (tok_segment){start, end, id};
    return VLM_OK;
}

/* Apply single_word / lstrip / rstrip to a match [*start, *stop); false
 * when the match must be ignored. */
static bool adjust_match(const tok_added_token *t, const char *s, size_t len, size_t floor, size_t *start,
                         size_t *stop) {
    if (t->single_word) {
        bool word_before = *start > 0 && is_word_char(char_before(s, *start));
        size_t k = *stop;
        bool word_after = *stop < len && is_word_char(utf8_next(s, &k));
        if (word_before || word_after) return false;
    }
    if (t->lstrip) {
        size_t k = *start;
        while (k > floor && unicode_is_white_space(char_before(s, k))) k = char_start_before(s, k);
        *start = k;
    }
    if (t->rstrip) {
        size_t k = *stop;
        while (k < len) {
            size_t next = k;
            if (!unicode_is_white_space(utf8_next(s, &next))) break;
            k = next;
        }
        *stop = k;
    }
    return true;
}

vlm_status tok_added_split(const tok_added *a, bool normalized, const char *s, size_t len, tok_segment **segs,
                           size_t *n, size_t *cap) {
    const tok_trie *t = normalized ? &a->norm_trie : &a->raw_trie;
    size_t done = 0; /* end of the last emitted segment */
    vlm_status st = VLM_OK;
    for (size_t i = 0; !st && i < len;) {
        size_t mlen = 0;
        int32_t idx = t->root[(unsigned char)s[i]] ? trie_longest(t, s + i, len - i, &mlen) : -1;
        if (idx < 0) {
            i++;
            continue;
        }
        const tok_added_token *tok = &a->tokens[idx];
        size_t start = i, stop = i + mlen;
        if (!adjust_match(tok, s, len, done, &start, &stop)) {
            i += mlen;
            continue;
        }
        if (start > done) st = push_segment(segs, n, cap, done, start, -1);
        if (!st) st = push_segment(segs, n, cap, start, stop, tok->id);
        done = i = stop;
    }
    if (!st && done < len) st = push_segment(segs, n, cap, done, len, -1);
    return st;
}
