/*
 * tokenizer_bpe.c — the BPE model of tokenizer.json (models/bpe in
 * huggingface/tokenizers): loading vocab + merges, and encoding one word.
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

/* ---- merge map: (left id, right id) -> (rank, merged id) ---- */

static vlm_status merges_init(bpe_merge_map *mm, size_t expected) {
    size_t n = tok_table_size(expected);
    mm->slots = tok_table_alloc(n, sizeof *mm->slots);
    if (!mm->slots) return VLM_ERR_OUT_OF_MEMORY;
    mm->mask = n - 1;
    return VLM_OK;
}

static vlm_status merges_grow(bpe_merge_map *mm) {
    size_t n = (mm->mask + 1) * 2;
    bpe_merge *slots = tok_table_alloc(n, sizeof *slots);
    if (!slots) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i <= mm->mask; i++) {
        if (!mm->slots[i].key) continue;
        size_t j = tok_mix64(mm->slots[i].key) & (n - 1);
        while (slots[j].key) j = (j + 1) & (n - 1);
        slots[j] = mm->slots[i];
    }
    free(mm->slots);
    mm->slots = slots;
    mm->mask = n - 1;
    return VLM_OK;
}

static vlm_status merges_put(bpe_merge_map *mm, int32_t a, int32_t b, uint32_t rank, int32_t merged) {
    vlm_status st;
    if ((mm->count + 1) * 2 > mm->mask + 1 && (st = merges_grow(mm))) return st;
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    size_t i = tok_mix64(key) & mm->mask;
    while (mm->slots[i].key && mm->slots[i].key != key) i = (i + 1) & mm->mask;
    if (!mm->slots[i].key) mm->count++;
    /* a repeated pair keeps the later rank, like a HashMap collect */
    mm->slots[i] = (bpe_merge){key, rank, merged};
    return VLM_OK;
}

static inline uint32_t merges_get(const bpe_merge_map *mm, int32_t a, int32_t b, int32_t *merged) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    size_t i = tok_mix64(key) & mm->mask;
    for (;;) {
        const bpe_merge *e = &mm->slots[i];
        if (e->key == key) {
            *merged = e->merged;
            return e->rank;
        }
        if (!e->key) return NO_RANK;
        i = (i + 1) & mm->mask;
    }
}

/* ---- boundary set: code point pairs some merge spans ---- */

static uint32_t last_code_point(const char *s, size_t len) {
    size_t i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;
    if (i > 0) i--;
    return utf8_next(s, &i);
}

static vlm_status boundary_grow(bpe_model *m) {
    size_t n = m->boundary_keys ? (m->boundary_mask + 1) * 2 : 4096;
    uint64_t *keys = tok_table_alloc(n, sizeof *keys);
    if (!keys) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; m->boundary_keys && i <= m->boundary_mask; i++) {
        if (!m->boundary_keys[i]) continue;
        size_t j = tok_mix64(m->boundary_keys[i]) & (n - 1);
        while (keys[j]) j = (j + 1) & (n - 1);
        keys[j] = m->boundary_keys[i];
    }
    free(m->boundary_keys);
    m->boundary_keys = keys;
    m->boundary_mask = n - 1;
    return VLM_OK;
}

static vlm_status boundary_put(bpe_model *m, uint32_t a, uint32_t b) {
    vlm_status st;
    if ((!m->boundary_keys || (m->boundary_count + 1) * 2 > m->boundary_mask + 1) && (st = boundary_grow(m)))
        return st;
    uint64_t key = ((uint64_t)a << 32 | b) + 1;
    size_t i = tok_mix64(key) & m->boundary_mask;
    while (m->boundary_keys[i] && m->boundary_keys[i] != key) i = (i + 1) & m->boundary_mask;
    if (!m->boundary_keys[i]) m->boundary_count++;
    m->boundary_keys[i] = key;
    return VLM_OK;
}

static bool boundary_spanned(const bpe_model *m, uint32_t a, uint32_t b) {
    uint64_t key = ((uint64_t)a << 32 | b) + 1;
    size_t i = tok_mix64(key) & m->boundary_mask;
    for (;;) {
        uint64_t k = m->boundary_keys[i];
        if (k == key) return true;
        if (!k) return false;
        i = (i + 1) & m->boundary_mask;
    }
}

/* ---- loading ---- */

static vlm_status optional_string(const tj_node *model, const char *key, char **out) {
    const tj_node *n = tj_get(model, key);
    *out = NULL;
    if (!n || n->type == TJ_NULL) return VLM_OK;
    if (n->type != TJ_STRING) return vlm_error(VLM_ERR_FORMAT, "model.%s must be a string", key);
    if (n->len == 0) return VLM_OK; /* "" adds nothing */
    *out = vlm_malloc(n->len + 1);
    if (!*out) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(*out, n->v.str, n->len + 1);
    return VLM_OK;
}

#define VOCAB_BATCH 64 /* vocabulary entries added as one prefetched batch */

typedef struct vocab_entry {
    const char *token;
    size_t len;
    int32_t id;
    uint64_t hash;
} vocab_entry;

/* Read up to VOCAB_BATCH "token": id entries; *n gets how many. */
static vlm_status read_vocab_batch(tj_lexer *lx, size_t *index, vocab_entry *e, size_t *n, bool *more) {
    vlm_status st = VLM_OK;
    for (*n = 0; *n < VOCAB_BATCH; (*n)++) {
        int64_t id;
        if ((st = tj_lex_next(lx, '}', index, more)) || !*more) break;
        vocab_entry *v = &e[*n];
        if ((st = tj_lex_string(lx, &v->token, &v->len)) || (st = tj_lex_colon(lx)) || (st = tj_lex_int(lx, &id)))
            break;
        if (id < 0 || id > INT32_MAX / 4)
            return vlm_error(VLM_ERR_FORMAT, "model.vocab: id %lld of \"%.40s\" out of range", (long long)id, v->token);
        v->id = (int32_t)id;
        v->hash = tok_vocab_hash2(v->token, v->len, "", 0);
    }
    return st;
}

static vlm_status load_vocab(bpe_model *m, const tj_node *vocab) {
    if (!tj_is(vocab, TJ_RAW) || vocab->v.raw[0] != '{')
        return vlm_error(VLM_ERR_FORMAT, "model.vocab must be an object of token -> id");
    vlm_status st = tok_vocab_init(&m->vocab, vocab->raw_len / 20);
    if (st) return st;
    tj_lexer lx;
    tj_lexer_init(&lx, vocab->v.raw, vocab->raw_len, "model.vocab");
    if ((st = tj_lex_open(&lx, '{'))) return st;
    size_t index = 0;
    for (bool more = true; more;) {
        vocab_entry e[VOCAB_BATCH];
        size_t n;
        if ((st = read_vocab_batch(&lx, &index, e, &n, &more))) return st;
        for (size_t i = 0; i < n; i++) tok_vocab_prefetch(&m->vocab, e[i].hash);
        for (size_t i = 0; i < n; i++)
            if ((st = tok_vocab_add_hashed(&m->vocab, e[i].token, e[i].len, e[i].id, e[i].hash)))
                return vlm_error_prefix(st, "model.vocab");
    }
    return VLM_OK;
}

/* One merge entry: "a b" or ["a", "b"]. */
static vlm_status read_merge(tj_lexer *lx, const char **a, size_t *alen, const char **b, size_t *blen) {
    vlm_status st;
    if (tj_lex_peek(lx) == '"') {
        const char *s;
        size_t len;
        if ((st = tj_lex_string(lx, &s, &len))) return st;
        const char *sp = memchr(s, ' ', len);
        if (!sp) return vlm_error(VLM_ERR_FORMAT, "model.merges: \"%.40s\" is not \"left right\"", s);
        *a = s;
        *alen = (size_t)(sp - s);
        *b = sp + 1;
        *blen = len - *alen - 1;
        return VLM_OK;
    }
    size_t index = 0;
    bool more;
    if ((st = tj_lex_open(lx, '[')) || (st = tj_lex_next(lx, ']', &index, &more))) return st;
    if (!more || (st = tj_lex_string(lx, a, alen))) return st ? st : vlm_error(VLM_ERR_FORMAT, "model.merges: empty pair");
    if ((st = tj_lex_next(lx, ']', &index, &more))) return st;
    if (!more || (st = tj_lex_string(lx, b, blen))) return st ? st : vlm_error(VLM_ERR_FORMAT, "model.merges: pair needs 2 parts");
    if ((st = tj_lex_next(lx, ']', &index, &more))) return st;
    return more ? vlm_error(VLM_ERR_FORMAT, "model.merges: pair has more than 2 parts") : VLM_OK;
}

#define MERGE_BATCH 128     /* merges resolved as one prefetched batch */
#define MERGE_CHUNK 8192    /* merges per parallel task */
#define ERROR_TEXT 512      /* an error message carried back from a task */

/* A merge as read: its parts (in the JSON buffer) and, once resolved, the
 * ids of left, right and merged token (-1 when absent). */
typedef struct merge_entry {
    const char *a, *b;
    uint32_t alen, blen;
    int32_t ids[3];
} merge_entry;

typedef struct merge_list {
    const bpe_model *m;
    merge_entry *e;
    size_t n, cap;
} merge_list;

/* The three lookups of a merge, hashed (the merged token's hash continues
 * the left part's, so each part is hashed once). */
static void merge_lookups(const merge_entry *e, size_t skip, tok_lookup *q) {
    uint64_t left = tok_hash_bytes(TOK_HASH_SEED, e->a, e->alen);
    q[0] = (tok_lookup){.a = e->a, .alen = e->alen, .b = "", .blen = 0, .hash = tok_mix64(left)};
    q[1] = (tok_lookup){.a = e->b, .alen = e->blen, .b = "", .blen = 0,
                        .hash = tok_mix64(tok_hash_bytes(TOK_HASH_SEED, e->b, e->blen))};
    q[2] = (tok_lookup){.a = e->a, .alen = e->alen, .b = e->b + skip, .blen = e->blen - skip,
                        .hash = tok_mix64(tok_hash_bytes(left, e->b + skip, e->blen - skip))};
}

/* Vocabulary ids of merges [begin, end): three lookups per merge, in
 * prefetched batches. Read-only on the vocabulary, so ranges run in
 * parallel. */
static void resolve_merges(void *ctx, int64_t begin, int64_t end) {
    merge_list *l = ctx;
    size_t skip = l->m->subword_prefix ? strlen(l->m->subword_prefix) : 0;
    tok_lookup q[3 * MERGE_BATCH];
    for (int64_t k0 = begin; k0 < end; k0 += MERGE_BATCH) {
        size_t n = (size_t)(end - k0) < MERGE_BATCH ? (size_t)(end - k0) : MERGE_BATCH;
        for (size_t i = 0; i < n; i++) merge_lookups(&l->e[k0 + (int64_t)i], skip, &q[3 * i]);
        tok_vocab_find_batch(&l->m->vocab, q, 3 * n);
        for (size_t i = 0; i < n; i++)
            for (int j = 0; j < 3; j++) l->e[k0 + (int64_t)i].ids[j] = q[3 * i + j].id;
    }
}

/* Lex merges from lx until `stop` (an element end; NULL: to the closing
 * bracket). No vocabulary is needed, so this runs next to the vocabulary
 * load, the two halves of a large list apart; hashing waits for the
 * parallel resolve step. */
static vlm_status read_merges(const bpe_model *m, tj_lexer *lx, size_t index, const char *stop, merge_list *l) {
    size_t skip = m->subword_prefix ? strlen(m->subword_prefix) : 0;
    vlm_status st = VLM_OK;
    for (bool more = true; !st && !(stop && lx->p >= stop);) {
        const char *a, *b;
        size_t alen, blen;
        if ((st = tj_lex_next(lx, ']', &index, &more)) || !more) break;
        if ((st = read_merge(lx, &a, &alen, &b, &blen))) break;
        if (skip > blen)
            return vlm_error(VLM_ERR_FORMAT, "model.merges: \"%.*s\" lacks the subword prefix", (int)blen, b);
        if (alen > UINT32_MAX || blen > UINT32_MAX) return vlm_error(VLM_ERR_LIMIT, "model.merges: token too long");
        if ((st = tok_grow(&l->e, l->n, &l->cap, sizeof *l->e, 4096))) break;
        l->e[l->n++] = (merge_entry){a, b, (uint32_t)alen, (uint32_t)blen, {-1, -1, -1}};
    }
    if (!st && stop && lx->p != stop) return vlm_error(VLM_ERR_FORMAT, "model.merges: malformed list");
    return st;
}

/* The first half of the merges list (all of it when it has no middle). */
static vlm_status read_merges_head(const bpe_model *m, const tj_node *merges, merge_list *l) {
    tj_lexer lx;
    tj_lexer_init(&lx, merges->v.raw, merges->raw_len, "model.merges");
    vlm_status st = tj_lex_open(&lx, '[');
    return st ? st : read_merges(m, &lx, 0, merges->raw_mid, l);
}

/* The second half: from the middle (before a ',') to the closing bracket. */
static vlm_status read_merges_tail(const bpe_model *m, const tj_node *merges, merge_list *l) {
    if (!merges->raw_mid) return VLM_OK;
    tj_lexer lx;
    tj_lexer_init(&lx, merges->v.raw, merges->raw_len, "model.merges");
    lx.p = merges->raw_mid;
    return read_merges(m, &lx, 1, NULL, l);
}

/* Append the tail's entries to the head's (ranks follow list order). */
static vlm_status join_merges(merge_list *head, const merge_list *tail) {
    if (!tail->n) return VLM_OK;
    merge_entry *e = vlm_realloc(head->e, (head->n + tail->n) * sizeof *e);
    if (!e) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(e + head->n, tail->e, tail->n * sizeof *e);
    head->e = e;
    head->n += tail->n;
    head->cap = head->n;
    return VLM_OK;
}

static uint64_t boundary_key(const merge_entry *e) {
    return ((uint64_t)last_code_point(e->a, e->alen) << 32 | utf8_next(e->b, &(size_t){0})) + 1;
}

static vlm_status check_merge(const bpe_model *m, const merge_entry *e) {
    if (e->ids[0] < 0 || e->ids[1] < 0)
        return vlm_error(VLM_ERR_FORMAT, "model.merges: \"%.*s\" is not in the vocabulary",
                         (int)(e->ids[0] < 0 ? e->alen : e->blen), e->ids[0] < 0 ? e->a : e->b);
    size_t skip = m->subword_prefix ? strlen(m->subword_prefix) : 0;
    if (e->ids[2] < 0)
        return vlm_error(VLM_ERR_FORMAT, "model.merges: merged token \"%.*s%.*s\" is not in the vocabulary",
                         (int)e->alen, e->a, (int)(e->blen - skip), e->b + skip);
    return VLM_OK;
}

/* Enter resolved merges in rank order into the merge map, a batch at a
 * time with the batch's slots fetched first. */
static vlm_status build_merge_map(bpe_model *m, const merge_list *l) {
    vlm_status st = merges_init(&m->merges, l->n);
    for (size_t k0 = 0; !st && k0 < l->n; k0 += MERGE_BATCH) {
        size_t end = k0 + MERGE_BATCH < l->n ? k0 + MERGE_BATCH : l->n;
        for (size_t k = k0; k < end; k++) {
            uint64_t key = ((uint64_t)(uint32_t)l->e[k].ids[0] << 32 | (uint32_t)l->e[k].ids[1]) + 1;
            __builtin_prefetch(&m->merges.slots[tok_mix64(key) & m->merges.mask]);
        }
        for (size_t k = k0; !st && k < end; k++)
            if (!(st = check_merge(m, &l->e[k])))
                st = merges_put(&m->merges, l->e[k].ids[0], l->e[k].ids[1], (uint32_t)k, l->e[k].ids[2]);
    }
    return st;
}

/* The boundary set: the code point pair at each merge's seam. */
static vlm_status build_boundaries(bpe_model *m, const merge_list *l) {
    vlm_status st = boundary_grow(m);
    for (size_t k0 = 0; !st && k0 < l->n; k0 += MERGE_BATCH) {
        size_t end = k0 + MERGE_BATCH < l->n ? k0 + MERGE_BATCH : l->n;
        for (size_t k = k0; k < end; k++)
            if (l->e[k].alen && l->e[k].blen)
                __builtin_prefetch(&m->boundary_keys[tok_mix64(boundary_key(&l->e[k])) & m->boundary_mask]);
        for (size_t k = k0; !st && k < end; k++) {
            if (!l->e[k].alen || !l->e[k].blen) continue;
            uint64_t bk = boundary_key(&l->e[k]);
            st = boundary_put(m, (uint32_t)((bk - 1) >> 32), (uint32_t)(bk - 1));
        }
    }
    return st;
}

/* Independent loading steps run as one parallel job (or one after the
 * other when no second core is free). Each step's error message is per
 * thread, so it travels back as text. */
#define MAX_STEPS 3

typedef struct load_steps {
    bpe_model *m;
    const tj_node *vocab, *merges;
    merge_list *head, *tail;
    vlm_status (*step[MAX_STEPS])(struct load_steps *);
    vlm_status st[MAX_STEPS];
    char msg[MAX_STEPS][ERROR_TEXT];
} load_steps;

static void run_load_steps(void *ctx, int64_t begin, int64_t end) {
    load_steps *p = ctx;
    for (int64_t i = begin; i < end; i++)
        if ((p->st[i] = p->step[i](p))) snprintf(p->msg[i], ERROR_TEXT, "%s", vlm_last_error());
}

static vlm_status run_steps(load_steps *p, int n) {
    vlm_parallel_for(n, 1, run_load_steps, p);
    for (int i = 0; i < n; i++)
        if (p->st[i]) return vlm_error(p->st[i], "%s", p->msg[i]);
    return VLM_OK;
}

static vlm_status vocab_step(load_steps *p) { return load_vocab(p->m, p->vocab); }
static vlm_status merges_head_step(load_steps *p) {
    return p->merges ? read_merges_head(p->m, p->merges, p->head) : VLM_OK;
}
static vlm_status merges_tail_step(load_steps *p) {
    return p->merges ? read_merges_tail(p->m, p->merges, p->tail) : VLM_OK;
}
static vlm_status merge_map_step(load_steps *p) { return build_merge_map(p->m, p->head); }
static vlm_status boundaries_step(load_steps *p) { return p->merges ? build_boundaries(p->m, p->head) : VLM_OK; }

/* Vocabulary and merges: the vocabulary is built while the two halves of
 * the merges are lexed; the merges are then resolved to ids (in parallel
 * ranges) and entered into the merge map while the boundary set is built. */
static vlm_status load_vocab_and_merges(bpe_model *m, const tj_node *vocab, const tj_node *merges) {
    if (merges && (!tj_is(merges, TJ_RAW) || merges->v.raw[0] != '['))
        return vlm_error(VLM_ERR_FORMAT, "model.merges must be a list");
    merge_list head = {.m = m}, tail = {.m = m};
    load_steps p = {.m = m, .vocab = vocab, .merges = merges, .head = &head, .tail = &tail,
                    .step = {vocab_step, merges_head_step, merges_tail_step}};
    vlm_status st = run_steps(&p, 3);
    if (!st) st = join_merges(&head, &tail);
    free(tail.e);
    if (!st) {
        vlm_parallel_for((int64_t)head.n, MERGE_CHUNK, resolve_merges, &head);
        p = (load_steps){.m = m, .merges = merges, .head = &head, .step = {merge_map_step, boundaries_step}};
        st = run_steps(&p, 2);
    }
    free(head.e);
    return st;
}

static void find_byte_tokens(bpe_model *m) {
    for (int b = 0; b < 256; b++) {
        char name[8];
        static const char hex[] = "0123456789ABCDEF";
        memcpy(name, "<0x", 3);
        name[3] = hex[b >> 4];
        name[4] = hex[b & 15];
        name[5] = '>';
        m->byte_token[b] = tok_vocab_find(&m->vocab, name, 6);
    }
}

vlm_status bpe_load(const tj_node *model, bpe_model *out) {
    memset(out, 0, sizeof *out);
    out->unk_id = -1;
    const char *type = tj_str(tj_get(model, "type"));
    if (!model || model->type != TJ_OBJECT) return vlm_error(VLM_ERR_FORMAT, "tokenizer.json has no \"model\"");
    if (type && strcmp(type, "BPE") != 0)
        return vlm_error(VLM_ERR_UNSUPPORTED, "tokenizer model \"%s\" is not supported yet (only BPE)", type);
    if (!type && !tj_get(model, "merges"))
        return vlm_error(VLM_ERR_UNSUPPORTED, "tokenizer model without \"type\" or merges is not supported");
    out->byte_fallback = tj_bool(tj_get(model, "byte_fallback"), false);
    out->fuse_unk = tj_bool(tj_get(model, "fuse_unk"), false);
    out->ignore_merges = tj_bool(tj_get(model, "ignore_merges"), false);
    vlm_status st;
    if ((st = optional_string(model, "continuing_subword_prefix", &out->subword_prefix)) ||
        (st = optional_string(model, "end_of_word_suffix", &out->word_suffix)) ||
        (st = load_vocab_and_merges(out, tj_get(model, "vocab"), tj_get(model, "merges"))))
        return st;
    const tj_node *unk = tj_get(model, "unk_token");
    if (tj_str(unk)) {
        out->unk_id = tok_vocab_find(&out->vocab, unk->v.str, unk->len);
        if (out->unk_id < 0)
            return vlm_error(VLM_ERR_FORMAT, "model.unk_token \"%.40s\" is not in the vocabulary", unk->v.str);
    }
    find_byte_tokens(out);
    out->can_chunk = !out->ignore_merges && !out->subword_prefix && !out->word_suffix && out->boundary_keys;
    return VLM_OK;
}

void bpe_free(bpe_model *m) {
    tok_vocab_free(&m->vocab);
    free(m->merges.slots);
    free(m->subword_prefix);
    free(m->word_suffix);
    free(m->boundary_keys);
    memset(m, 0, sizeof *m);
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
    size_t a = prev, b = i;
    uint32_t ca = utf8_next(w, &a), cb = utf8_next(w, &b);
    return !boundary_spanned(m, ca, cb);
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
