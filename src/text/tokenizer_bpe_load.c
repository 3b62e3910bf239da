/*
 * tokenizer_bpe_load.c — loading the BPE model of a tokenizer.json: the
 * vocabulary, the merges list resolved to (left id, right id) -> (rank,
 * merged id), and the boundary set (see bpe_model).
 *
 * Gemma 3 has 262k tokens and 515k merges in 32 MB of JSON, so the work
 * is spread over the cores in two steps of parallel tasks:
 *   1. the merges list is lexed in parts (split points found by the JSON
 *      skip pass) while the vocabulary is read (on its own thread, started
 *      during the parse: see bpe_vocab_job);
 *   2. the merges are resolved to vocabulary ids in ranges (the merged
 *      token first tried at the previous merge's id or the next one, as
 *      merge lists usually follow the vocabulary, then looked up by hash,
 *      in prefetched batches) and entered into the merge map, which the
 *      ranges share (slots claimed by compare-and-swap), while the
 *      boundary set is built from the merges' text and the caller's side
 *      task (the rest of the tokenizer) runs.
 * Error messages of a task travel back as text (they are per thread).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/kernels.h"
#include "text/tokenizer.h"
#include "text/tokenizer_utf8.h"

#define VOCAB_BATCH 64      /* vocabulary entries added as one prefetched batch */
#define MERGE_BATCH 128     /* merges resolved as one prefetched batch */
#define MERGE_RANGE 32768   /* merges per resolve range (at most MAX_RANGES ranges) */
#define ERROR_TEXT 512      /* an error message carried back from a task */
#define MAX_RANGES 16
/* tasks of a step: the vocabulary and the merges parts, or the side task,
 * the boundary set and the resolve ranges */
#define MAX_TASKS (TJ_MAX_SPLITS + 2 > MAX_RANGES + 2 ? TJ_MAX_SPLITS + 2 : MAX_RANGES + 2)

/* ---- merge map and boundary set ---- */

/* A map for `expected` merges, at most 5/8 full. */
static vlm_status merges_init(bpe_merge_map *mm, size_t expected) {
    size_t n = 64;
    while (n / 8 * 5 < expected) n *= 2;
    mm->slots = tok_table_alloc(n, sizeof *mm->slots);
    if (!mm->slots) return VLM_ERR_OUT_OF_MEMORY;
    mm->mask = n - 1;
    return VLM_OK;
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

static vlm_status boundary_put(bpe_model *m, uint64_t key) {
    vlm_status st;
    if ((m->boundary_count + 1) * 2 > m->boundary_mask + 1 && (st = boundary_grow(m))) return st;
    size_t i = tok_mix64(key) & m->boundary_mask;
    while (m->boundary_keys[i] && m->boundary_keys[i] != key) i = (i + 1) & m->boundary_mask;
    if (!m->boundary_keys[i]) m->boundary_count++;
    m->boundary_keys[i] = key;
    return VLM_OK;
}

/* ---- model options ---- */

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

/* ---- vocabulary ---- */

typedef struct vocab_entry {
    const char *token;
    size_t len;
    int32_t id;
    uint64_t hash;
} vocab_entry;

/* A token id at lx->p: a JSON integer of at most INT32_MAX / 4 without
 * sign, fraction or exponent; false (lexer unchanged) for anything else. */
static bool lex_small_id(tj_lexer *lx, int32_t *id) {
    char *p = lx->p, *end = lx->end;
    int64_t value = 0;
    size_t digits = 0;
    for (; p < end && *p >= '0' && *p <= '9' && digits < 10; p++, digits++) value = value * 10 + (*p - '0');
    if (!digits || (digits > 1 && lx->p[0] == '0') || value > INT32_MAX / 4) return false;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) return false;
    lx->p = p;
    *id = (int32_t)value;
    return true;
}

/* The common entry, "token": id with a plain string and a small id; false
 * (lexer unchanged) for anything else. *id_at: where the id starts. */
static bool lex_vocab_fast(tj_lexer *lx, vocab_entry *v, const char **id_at) {
    char *at = lx->p;
    if (*at == '"' && tj_lex_plain_string(lx, &v->token, &v->len) && tj_lex_peek(lx) == ':') {
        lx->p++;
        tj_lex_peek(lx);
        *id_at = lx->p;
        if (lex_small_id(lx, &v->id)) return true;
    }
    lx->p = at;
    return false;
}

/* How this file lays out a vocabulary entry (see tj_gap): from the end of
 * the previous entry through the token's opening quote, and from its
 * closing quote to the id. */
typedef struct vocab_layout {
    tj_gap before, after;
    bool known;
} vocab_layout;

/* An entry laid out as learned; false (lexer unchanged) otherwise. */
static bool lex_vocab_layout(const vocab_layout *t, tj_lexer *lx, vocab_entry *v) {
    char *at = lx->p;
    if (!tj_gap_at(&t->before, at, lx->end)) return false;
    lx->p = at + t->before.len - 1;
    if (tj_lex_plain_string(lx, &v->token, &v->len) && tj_gap_at(&t->after, lx->p - 1, lx->end)) {
        lx->p += t->after.len - 1;
        if (lex_small_id(lx, &v->id)) return true;
    }
    lx->p = at;
    return false;
}

/* Any "token": id entry (escapes, odd numbers), with errors reported. */
static vlm_status lex_vocab_entry(tj_lexer *lx, vocab_entry *v) {
    int64_t id;
    vlm_status st;
    if ((st = tj_lex_string(lx, &v->token, &v->len)) || (st = tj_lex_colon(lx)) || (st = tj_lex_int(lx, &id)))
        return st;
    if (id < 0 || id > INT32_MAX / 4)
        return vlm_error(VLM_ERR_FORMAT, "model.vocab: id %lld of \"%.*s\" out of range", (long long)id,
                         (int)(v->len < 40 ? v->len : 40), v->token);
    v->id = (int32_t)id;
    return VLM_OK;
}

/* Read up to VOCAB_BATCH entries; *n gets how many. The layout is
 * learned from the second entry the lexer reads fast (the first after a
 * comma). */
static vlm_status read_vocab_batch(tj_lexer *lx, vocab_layout *t, size_t *index, vocab_entry *e, size_t *n,
                                   bool *more) {
    vlm_status st = VLM_OK;
    for (*n = 0; *n < VOCAB_BATCH; (*n)++) {
        vocab_entry *v = &e[*n];
        char *previous_end = lx->p;
        const char *id_at;
        if (t->known && lex_vocab_layout(t, lx, v)) {
            (*index)++;
        } else {
            if ((st = tj_lex_next(lx, '}', index, more)) || !*more) break;
            if (lex_vocab_fast(lx, v, &id_at)) {
                if (!t->known && *index >= 2)
                    t->known = tj_gap_learn(&t->before, previous_end, v->token) &&
                               tj_gap_learn(&t->after, v->token + v->len, id_at);
            } else if ((st = lex_vocab_entry(lx, v))) {
                break;
            }
        }
        v->hash = tok_vocab_hash2(v->token, v->len, "", 0);
    }
    return st;
}

/* The vocabulary object raw[0..len), as stepped over by the parse. */
static vlm_status load_vocab(tok_vocab *v, char *raw, size_t len) {
    vlm_status st = tok_vocab_init(v, len / 28); /* ~28 bytes an entry pretty-printed */
    if (st) return st;
    tj_lexer lx;
    tj_lexer_init(&lx, raw, len, "model.vocab");
    if ((st = tj_lex_open(&lx, '{'))) return st;
    size_t index = 0;
    vocab_layout layout = {.known = false};
    for (bool more = true; more;) {
        vocab_entry e[VOCAB_BATCH];
        size_t n;
        if ((st = read_vocab_batch(&lx, &layout, &index, e, &n, &more))) return st;
        for (size_t i = 0; i < n; i++) tok_vocab_prefetch(v, e[i].hash);
        for (size_t i = 0; i < n; i++)
            if ((st = tok_vocab_add_hashed(v, e[i].token, e[i].len, e[i].id, e[i].hash)))
                return vlm_error_prefix(st, "model.vocab");
    }
    return lx.p == lx.end ? VLM_OK : vlm_error(VLM_ERR_FORMAT, "model.vocab: malformed object");
}

/* ---- the vocabulary on a thread of its own ---- */

/* Read the vocabulary, then run the work handed over (the merges parts
 * left) until there is none: this thread is the second core's worker
 * while the parse and the merges run on the first. */
static void *vocab_thread(void *arg) {
    bpe_vocab_job *job = arg;
    if ((job->st = load_vocab(&job->vocab, job->raw, job->raw_len)))
        snprintf(job->message, sizeof job->message, "%s", vlm_last_error());
    pthread_mutex_lock(&job->lock);
    while (!job->help && !job->closed) pthread_cond_wait(&job->wake, &job->lock);
    void (*help)(void *) = job->help;
    pthread_mutex_unlock(&job->lock);
    if (help) help(job->help_ctx);
    return NULL;
}

void bpe_vocab_start(bpe_vocab_job *job, const tj_node *vocab) {
    job->node = vocab;
    job->raw = vocab->v.raw; /* the thread reads no node: a failed parse frees them */
    job->raw_len = vocab->raw_len;
    job->help = NULL;
    job->closed = false;
    if (pthread_mutex_init(&job->lock, NULL) != 0) {
        job->node = NULL;
    } else if (pthread_cond_init(&job->wake, NULL) != 0) {
        pthread_mutex_destroy(&job->lock);
        job->node = NULL;
    } else if (pthread_create(&job->thread, NULL, vocab_thread, job) != 0) {
        pthread_cond_destroy(&job->wake);
        pthread_mutex_destroy(&job->lock);
        job->node = NULL;
    }
}

/* Hand the thread work for after the vocabulary (help(ctx) once), or none
 * (help NULL). */
static void hand_over(bpe_vocab_job *job, void (*help)(void *), void *ctx) {
    pthread_mutex_lock(&job->lock);
    job->help = help;
    job->help_ctx = ctx;
    job->closed = true;
    pthread_cond_signal(&job->wake);
    pthread_mutex_unlock(&job->lock);
}

/* Wait for the thread to end. */
static void join_job(bpe_vocab_job *job) {
    pthread_join(job->thread, NULL);
    pthread_cond_destroy(&job->wake);
    pthread_mutex_destroy(&job->lock);
    job->node = NULL;
}

/* Wait for the job and take its vocabulary into v. */
static vlm_status take_vocab(bpe_vocab_job *job, tok_vocab *v) {
    join_job(job);
    *v = job->vocab;
    memset(&job->vocab, 0, sizeof job->vocab);
    return job->st ? vlm_error(job->st, "%s", job->message) : VLM_OK;
}

void bpe_vocab_discard(bpe_vocab_job *job) {
    if (job->node) {
        hand_over(job, NULL, NULL);
        join_job(job);
    }
    tok_vocab_free(&job->vocab);
}

/* ---- lexing the merges ---- */

/* A merge as read, compactly: its two parts as offsets into the merges
 * list's JSON (which keeps them, unescaped in place where needed), and its
 * boundary key, found while the text is at hand. */
typedef struct merge_entry {
    uint32_t a, b, alen, blen;
    uint64_t seam;
} merge_entry;

/* The boundary key of a merge: the last character of its left part and
 * the first of its right part (0 when a part is empty). */
static uint64_t seam_key(const char *a, size_t alen, const char *b, size_t blen) {
    if (!alen || !blen) return 0;
    size_t last = alen - 1, first = utf8_len((unsigned char)b[0]);
    while (last > 0 && ((unsigned char)a[last] & 0xC0) == 0x80) last--;
    return bpe_boundary_key(bpe_char_bits(a + last, alen - last), bpe_char_bits(b, first < blen ? first : blen));
}

/* A merge's parts as text. */
typedef struct merge_text {
    const char *a, *b;
    size_t alen, blen;
} merge_text;

/* The merges of one part of the list, in order: a slice of one array
 * sized by the skip pass's element counts, or (past that, for a list of
 * odd elements) an array of its own. */
typedef struct merge_part {
    merge_entry *e;
    size_t n, cap;
    bool owned;   /* e is this part's own allocation */
    size_t first; /* rank of e[0] */
} merge_part;

static vlm_status part_grow(merge_part *l) {
    if (l->n < l->cap) return VLM_OK;
    if (l->owned) return tok_big_grow(&l->e, l->n, &l->cap, sizeof *l->e, 64);
    merge_entry *e = tok_big_alloc(l->cap * 2 + 64, sizeof *e);
    if (!e) return VLM_ERR_OUT_OF_MEMORY;
    if (l->n) memcpy(e, l->e, l->n * sizeof *e);
    *l = (merge_part){e, l->n, l->cap * 2 + 64, true, l->first};
    return VLM_OK;
}

/* Store parts a and b (in the buffer lx reads) as e. */
static vlm_status set_entry(const tj_lexer *lx, const char *a, size_t alen, const char *b, size_t blen, merge_entry *e) {
    if (alen > UINT32_MAX || blen > UINT32_MAX) return vlm_error(VLM_ERR_LIMIT, "model.merges: token too long");
    *e = (merge_entry){(uint32_t)(a - lx->base), (uint32_t)(b - lx->base), (uint32_t)alen, (uint32_t)blen,
                       seam_key(a, alen, b, blen)};
    return VLM_OK;
}

/* "a b": the two halves of one string. */
static vlm_status split_merge_string(const tj_lexer *lx, const char *s, size_t len, merge_entry *e) {
    const char *sp = memchr(s, ' ', len);
    if (!sp)
        return vlm_error(VLM_ERR_FORMAT, "model.merges: \"%.*s\" is not \"left right\"", (int)(len < 40 ? len : 40), s);
    return set_entry(lx, s, (size_t)(sp - s), sp + 1, len - (size_t)(sp - s) - 1, e);
}

typedef enum merge_form { MERGE_ODD, MERGE_STRING, MERGE_PAIR } merge_form;

/* The common forms with plain strings, "a b" and ["a", "b"]; MERGE_ODD
 * (lexer unchanged) for anything else. */
static merge_form lex_merge_fast(tj_lexer *lx, merge_entry *e) {
    char *at = lx->p;
    const char *a, *b;
    size_t alen, blen;
    if (*at == '"') {
        if (tj_lex_plain_string(lx, &a, &alen) && !split_merge_string(lx, a, alen, e)) return MERGE_STRING;
    } else if (*at == '[') {
        lx->p++;
        if (tj_lex_peek(lx) == '"' && tj_lex_plain_string(lx, &a, &alen) && tj_lex_peek(lx) == ',') {
            lx->p++;
            if (tj_lex_peek(lx) == '"' && tj_lex_plain_string(lx, &b, &blen) && tj_lex_peek(lx) == ']' &&
                !set_entry(lx, a, alen, b, blen, e)) {
                lx->p++;
                return MERGE_PAIR;
            }
        }
    }
    lx->p = at;
    return MERGE_ODD;
}

/* How this file lays out a merge (see tj_gap): from the end of the
 * previous merge through the first opening quote; for a pair, from the
 * first string's closing quote to the second's opening one, and from its
 * closing quote through the closing bracket. */
typedef struct merge_layout {
    tj_gap before, middle, after;
    merge_form form; /* MERGE_ODD: not learned yet */
} merge_layout;

/* Learn the layout from merge e, read fast from previous_end to lx->p. */
static void learn_merge_layout(merge_layout *t, const tj_lexer *lx, const char *previous_end, const merge_entry *e,
                               merge_form form) {
    const char *a = lx->base + e->a, *b = lx->base + e->b;
    if (!tj_gap_learn(&t->before, previous_end, a)) return;
    if (form == MERGE_PAIR && (!tj_gap_learn(&t->middle, a + e->alen, b) || !tj_gap_learn(&t->after, b + e->blen, lx->p)))
        return;
    t->form = form;
}

/* A merge laid out as learned; false (lexer unchanged) otherwise. */
static bool lex_merge_layout(const merge_layout *t, tj_lexer *lx, merge_entry *e) {
    char *at = lx->p;
    const char *a, *b;
    size_t alen, blen;
    if (!tj_gap_at(&t->before, at, lx->end)) return false;
    lx->p = at + t->before.len - 1;
    if (tj_lex_plain_string(lx, &a, &alen)) {
        if (t->form == MERGE_STRING) {
            if (!split_merge_string(lx, a, alen, e)) return true;
        } else if (tj_gap_at(&t->middle, lx->p - 1, lx->end)) {
            lx->p += t->middle.len - 2;
            if (tj_lex_plain_string(lx, &b, &blen) && tj_gap_at(&t->after, lx->p - 1, lx->end)) {
                lx->p += t->after.len - 1;
                if (!set_entry(lx, a, alen, b, blen, e)) return true;
            }
        }
    }
    lx->p = at;
    return false;
}

/* Any merge entry, with errors reported. */
static vlm_status lex_merge_entry(tj_lexer *lx, merge_entry *e) {
    vlm_status st;
    const char *a, *b;
    size_t alen, blen;
    if (tj_lex_peek(lx) == '"') {
        if ((st = tj_lex_string(lx, &a, &alen))) return st;
        return split_merge_string(lx, a, alen, e);
    }
    size_t index = 0;
    bool more;
    if ((st = tj_lex_open(lx, '[')) || (st = tj_lex_next(lx, ']', &index, &more))) return st;
    if (!more || (st = tj_lex_string(lx, &a, &alen))) return st ? st : vlm_error(VLM_ERR_FORMAT, "model.merges: empty pair");
    if ((st = tj_lex_next(lx, ']', &index, &more))) return st;
    if (!more || (st = tj_lex_string(lx, &b, &blen)))
        return st ? st : vlm_error(VLM_ERR_FORMAT, "model.merges: pair needs 2 parts");
    if ((st = tj_lex_next(lx, ']', &index, &more))) return st;
    if (more) return vlm_error(VLM_ERR_FORMAT, "model.merges: pair has more than 2 parts");
    return set_entry(lx, a, alen, b, blen, e);
}

/* Lex merges from lx until `stop` (a split point; NULL: to the closing
 * bracket, which must end the list). index > 0 when lx is past the first
 * element. No vocabulary is needed, so parts run next to its loading. */
static vlm_status read_merges(const bpe_model *m, tj_lexer *lx, size_t index, const char *stop, merge_part *l) {
    size_t skip = m->subword_prefix ? strlen(m->subword_prefix) : 0;
    merge_layout layout = {.form = MERGE_ODD};
    vlm_status st = VLM_OK;
    for (bool more = true; !st && !(stop && lx->p >= stop);) {
        if ((st = part_grow(l))) break;
        merge_entry *e = &l->e[l->n];
        char *previous_end = lx->p;
        if (layout.form != MERGE_ODD && lex_merge_layout(&layout, lx, e)) {
            index++;
        } else {
            if ((st = tj_lex_next(lx, ']', &index, &more)) || !more) break;
            merge_form form = lex_merge_fast(lx, e);
            if (form == MERGE_ODD && (st = lex_merge_entry(lx, e))) break;
            if (form != MERGE_ODD && layout.form == MERGE_ODD && index >= 2)
                learn_merge_layout(&layout, lx, previous_end, e, form);
        }
        if (skip > e->blen)
            return vlm_error(VLM_ERR_FORMAT, "model.merges: \"%.*s\" lacks the subword prefix", (int)e->blen,
                             lx->base + e->b);
        l->n++;
    }
    if (!st && (stop ? lx->p != stop : lx->p != lx->end)) return vlm_error(VLM_ERR_FORMAT, "model.merges: malformed list");
    return st;
}

/* Part k of the merges list: between split k - 1 (or the opening bracket)
 * and split k (or the closing bracket). */
static vlm_status read_merge_part(const bpe_model *m, const tj_node *merges, size_t k, merge_part *l) {
    tj_lexer lx;
    tj_lexer_init(&lx, merges->v.raw, merges->raw_len, "model.merges");
    const tj_split_points *sp = merges->raw_splits;
    const char *stop = k < sp->n ? sp->at[k] : NULL;
    if (k > 0) {
        lx.p = sp->at[k - 1];
        return read_merges(m, &lx, 1, stop, l);
    }
    vlm_status st = tj_lex_open(&lx, '[');
    return st ? st : read_merges(m, &lx, 0, stop, l);
}

/* ---- step 1: vocabulary and merge parts, as parallel tasks ---- */

typedef struct task_queue {
    atomic_size_t next;
    size_t n;
    void *ctx;
    vlm_status (*run)(void *ctx, size_t task);
    vlm_status st[MAX_TASKS];
    char msg[MAX_TASKS][ERROR_TEXT];
} task_queue;

/* Each thread (of the pool, or the vocabulary job) takes the next task
 * until none is left. */
static void drain_queue(void *ctx, int64_t begin, int64_t end) {
    task_queue *q = ctx;
    (void)begin, (void)end;
    for (size_t i; (i = atomic_fetch_add(&q->next, 1)) < q->n;)
        if ((q->st[i] = q->run(q->ctx, i))) snprintf(q->msg[i], ERROR_TEXT, "%s", vlm_last_error());
}

static void drain_all(void *ctx) { drain_queue(ctx, 0, 1); }

/* The first failed task's error. */
static vlm_status task_errors(const task_queue *q) {
    for (size_t i = 0; i < q->n; i++)
        if (q->st[i]) return vlm_error(q->st[i], "%s", q->msg[i]);
    return VLM_OK;
}

static vlm_status run_tasks(task_queue *q) {
    int threads = vlm_threads();
    vlm_parallel_for(threads < (int)q->n ? threads : (int64_t)q->n, 1, drain_queue, q);
    return task_errors(q);
}

typedef struct bpe_loading {
    bpe_model *m;
    const tj_node *vocab, *merges;
    bpe_vocab_job *job;  /* reads vocab, when not NULL */
    bpe_side_task *side; /* runs in step 2, when not NULL */
    merge_entry *entries; /* the parts' slices */
    merge_part parts[TJ_MAX_SPLITS + 1];
    size_t n_parts, n_merges, n_ranges;
    size_t first_unknown[MAX_RANGES]; /* per resolve range: the first merge with a part or
                                       * result not in the vocabulary (SIZE_MAX: none) */
} bpe_loading;

static merge_text text_of(const bpe_loading *L, const merge_entry *e) {
    const char *base = L->merges->v.raw;
    return (merge_text){base + e->a, base + e->b, e->alen, e->blen};
}

/* One array for the merges the skip pass counted, sliced into parts. */
static vlm_status slice_parts(bpe_loading *L) {
    const tj_split_points *sp = L->merges->raw_splits;
    if (L->merges->raw_len > UINT32_MAX) return vlm_error(VLM_ERR_LIMIT, "model.merges: list larger than 4 GiB");
    size_t total = 0;
    for (size_t k = 0; k <= sp->n; k++) total += sp->count[k];
    if (!(L->entries = tok_big_alloc(total, sizeof *L->entries))) return VLM_ERR_OUT_OF_MEMORY;
    L->n_parts = sp->n + 1;
    for (size_t k = 0, at = 0; k < L->n_parts; at += sp->count[k++])
        L->parts[k] = (merge_part){.e = L->entries + at, .cap = sp->count[k]};
    return VLM_OK;
}

/* Task 0: the vocabulary (the longest task, so first), unless a job
 * reads it; then the merges parts. */
static vlm_status read_task(void *ctx, size_t task) {
    bpe_loading *L = ctx;
    if (!L->job && task-- == 0) return load_vocab(&L->m->vocab, L->vocab->v.raw, L->vocab->raw_len);
    return read_merge_part(L->m, L->merges, task, &L->parts[task]);
}

/* ---- step 2: resolving merges, the merge map and the boundary set ---- */

/* Walks the merges in rank order across the parts. */
typedef struct merge_cursor {
    bpe_loading *L;
    size_t part, i;
} merge_cursor;

static merge_cursor cursor_at(bpe_loading *L, size_t rank) {
    size_t k = 0;
    while (k + 1 < L->n_parts && rank >= L->parts[k].first + L->parts[k].n) k++;
    return (merge_cursor){L, k, rank - L->parts[k].first};
}

static merge_entry *cursor_next(merge_cursor *c) {
    while (c->i >= c->L->parts[c->part].n) c->part++, c->i = 0;
    return &c->L->parts[c->part].e[c->i++];
}

/* Whether vocabulary token id is a + b (b without its first skip bytes). */
static bool token_is(const tok_vocab *v, int32_t id, const merge_text *e, size_t skip) {
    return tok_vocab_is(v, id, e->a, e->alen, e->b + skip, e->blen - skip);
}

/* The merged token of e from the previous merge's: the same id or the
 * next, verified; -1 when neither. */
static int32_t guess_merged(const tok_vocab *v, const merge_text *e, size_t skip, int32_t previous) {
    if (previous < 0) return -1;
    if (token_is(v, previous, e, skip)) return previous;
    return token_is(v, previous + 1, e, skip) ? previous + 1 : -1;
}


/* Enter a merge into the map, shared with other threads: a slot is
 * claimed with compare-and-swap, and a repeated pair keeps the later
 * (higher) rank, like a HashMap collected in list order, whichever thread
 * gets there first. The map is sized for every merge, so never full. */
static void merges_put(bpe_merge_map *mm, uint64_t key, uint32_t rank, int32_t merged) {
    uint64_t value = (uint64_t)rank << 32 | (uint32_t)merged;
    for (size_t i = bpe_merge_slot(mm, key);; i = bpe_merge_next(mm, i)) {
        bpe_merge *slot = &mm->slots[i];
        uint64_t k = __atomic_load_n(&slot->key, __ATOMIC_RELAXED);
        if (!k && !__atomic_compare_exchange_n(&slot->key, &k, key, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            k = __atomic_load_n(&slot->key, __ATOMIC_RELAXED); /* claimed meanwhile */
        else if (!k)
            k = key;
        if (k != key) continue;
        uint64_t old = __atomic_load_n(&slot->value, __ATOMIC_RELAXED);
        while ((!old || old >> 32 < rank) &&
               !__atomic_compare_exchange_n(&slot->value, &old, value, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        }
        return;
    }
}

/* Resolve merges [begin, end) in prefetched batches and enter them into
 * the merge map. Merge lists usually follow the vocabulary, so the merged
 * token is first guessed from the previous one; where guesses keep failing
 * (more than 1 in 8 of a batch) the next batch looks it up with the parts.
 * Returns the first merge with a part or result not in the vocabulary
 * (SIZE_MAX: none). */
static size_t resolve_merges(bpe_loading *L, int64_t begin, int64_t end) {
    const tok_vocab *v = &L->m->vocab;
    bpe_merge_map *mm = &L->m->merges;
    size_t skip = L->m->subword_prefix ? strlen(L->m->subword_prefix) : 0, unknown = SIZE_MAX;
    bool guessing = true;
    int32_t previous = -1;
    merge_cursor c = cursor_at(L, (size_t)begin);
    tok_lookup q[3 * MERGE_BATCH];
    merge_text e[MERGE_BATCH];
    uint64_t key[MERGE_BATCH];
    int32_t merged[MERGE_BATCH];
    for (int64_t k0 = begin; k0 < end; k0 += MERGE_BATCH) {
        size_t n = (size_t)(end - k0) < MERGE_BATCH ? (size_t)(end - k0) : MERGE_BATCH, per = guessing ? 2 : 3;
        for (size_t i = 0; i < n; i++) {
            e[i] = text_of(L, cursor_next(&c));
            q[per * i] = tok_vocab_query(e[i].a, e[i].alen, "", 0);
            q[per * i + 1] = tok_vocab_query(e[i].b, e[i].blen, "", 0);
            if (!guessing) q[per * i + 2] = tok_vocab_query(e[i].a, e[i].alen, e[i].b + skip, e[i].blen - skip);
        }
        tok_vocab_find_batch(v, q, per * n);
        size_t misses = 0;
        for (size_t i = 0; i < n; i++) {
            int32_t left = q[per * i].id, right = q[per * i + 1].id, m = guess_merged(v, &e[i], skip, previous);
            misses += m < 0;
            if (!guessing) m = q[per * i + 2].id;
            else if (m < 0) m = tok_vocab_find2(v, e[i].a, e[i].alen, e[i].b + skip, e[i].blen - skip);
            merged[i] = previous = m;
            key[i] = left >= 0 && right >= 0 && m >= 0 ? bpe_merge_key(left, right) : 0;
            if (key[i]) __builtin_prefetch(&mm->slots[bpe_merge_slot(mm, key[i])], 1); /* for writing */
            else if (unknown == SIZE_MAX) unknown = (size_t)k0 + i;
        }
        for (size_t i = 0; i < n; i++)
            if (key[i]) merges_put(mm, key[i], (uint32_t)(k0 + (int64_t)i), merged[i]);
        guessing = misses * 8 <= n;
    }
    return unknown;
}

/* The merge at rank r, which has a part or result not in the vocabulary,
 * reported. */
static vlm_status report_unknown(bpe_loading *L, size_t r) {
    merge_cursor c = cursor_at(L, r);
    merge_text e = text_of(L, cursor_next(&c));
    const tok_vocab *v = &L->m->vocab;
    if (tok_vocab_find(v, e.a, e.alen) < 0 || tok_vocab_find(v, e.b, e.blen) < 0) {
        bool left = tok_vocab_find(v, e.a, e.alen) < 0;
        return vlm_error(VLM_ERR_FORMAT, "model.merges: \"%.*s\" is not in the vocabulary", (int)(left ? e.alen : e.blen),
                         left ? e.a : e.b);
    }
    size_t skip = L->m->subword_prefix ? strlen(L->m->subword_prefix) : 0;
    return vlm_error(VLM_ERR_FORMAT, "model.merges: merged token \"%.*s%.*s\" is not in the vocabulary",
                     (int)e.alen, e.a, (int)(e.blen - skip), e.b + skip);
}

/* The boundary set: the character pair at each merge's seam (few: 34k
 * for Gemma 3's 515k merges, so a repeat of the last key is skipped). */
static vlm_status build_boundaries(bpe_loading *L) {
    bpe_model *m = L->m;
    vlm_status st = boundary_grow(m);
    merge_cursor c = cursor_at(L, 0);
    uint64_t previous = 0;
    for (size_t r = 0; !st && r < L->n_merges; r++) {
        uint64_t key = cursor_next(&c)->seam;
        if (key && key != previous) st = boundary_put(m, key);
        previous = key;
    }
    return st;
}

/* Step 2 as tasks: the side task (first, as the longest), the boundary
 * set (from the merges' text alone) and the resolve ranges. */
static vlm_status resolve_task(void *ctx, size_t task) {
    bpe_loading *L = ctx;
    if (L->side && task-- == 0) {
        if ((L->side->st = L->side->run(L->side->ctx)))
            snprintf(L->side->message, sizeof L->side->message, "%s", vlm_last_error());
        return VLM_OK;
    }
    if (task == 0) return L->merges ? build_boundaries(L) : VLM_OK; /* no merges list: no chunking */
    size_t ranges = L->n_ranges, r = task - 1;
    L->first_unknown[r] =
        resolve_merges(L, (int64_t)(L->n_merges * r / ranges), (int64_t)(L->n_merges * (r + 1) / ranges));
    return VLM_OK;
}

/* ---- the two steps ---- */

/* With a vocabulary job, this thread lexes the merges parts and the job's
 * thread joins in once the vocabulary is read (the pool stays out: two
 * threads for two cores); without one, the pool runs the vocabulary and
 * the parts. */
static vlm_status read_step(bpe_loading *L) {
    vlm_status st = L->merges ? slice_parts(L) : VLM_OK;
    if (st) return st;
    task_queue q = {.n = L->n_parts + !L->job, .ctx = L, .run = read_task};
    if (L->job) {
        hand_over(L->job, drain_all, &q);
        drain_all(&q);
        st = take_vocab(L->job, &L->m->vocab);
        if (!st) st = task_errors(&q);
    } else {
        st = run_tasks(&q);
    }
    for (size_t k = 0; k < L->n_parts; k++) { /* ranks: the parts' merges in order */
        L->parts[k].first = L->n_merges;
        L->n_merges += L->parts[k].n;
    }
    return st;
}

static vlm_status resolve_step(bpe_loading *L) {
    vlm_status st = merges_init(&L->m->merges, L->n_merges);
    if (st) return st;
    L->n_ranges = L->n_merges / MERGE_RANGE + 1;
    if (L->n_ranges > MAX_RANGES) L->n_ranges = MAX_RANGES;
    task_queue q = {.n = 1 + L->n_ranges + (L->side != NULL), .ctx = L, .run = resolve_task};
    if ((st = run_tasks(&q))) return st;
    size_t first = SIZE_MAX;
    for (size_t r = 0; r < L->n_ranges; r++)
        if (L->first_unknown[r] < first) first = L->first_unknown[r];
    return first == SIZE_MAX ? VLM_OK : report_unknown(L, first);
}

static vlm_status load_vocab_and_merges(bpe_model *m, const tj_node *vocab, const tj_node *merges,
                                        bpe_vocab_job *job, bpe_side_task *side) {
    if (!tj_is(vocab, TJ_RAW) || vocab->v.raw[0] != '{')
        return vlm_error(VLM_ERR_FORMAT, "model.vocab must be an object of token -> id");
    if (merges && (!tj_is(merges, TJ_RAW) || merges->v.raw[0] != '['))
        return vlm_error(VLM_ERR_FORMAT, "model.merges must be a list");
    bpe_loading *L = vlm_calloc(1, sizeof *L);
    if (!L) return VLM_ERR_OUT_OF_MEMORY;
    L->m = m;
    L->vocab = vocab;
    L->merges = merges;
    L->job = job && job->node && job->node == vocab ? job : NULL;
    L->side = side;
    vlm_status st = read_step(L);
    if (!st) st = resolve_step(L);
    for (size_t k = 0; k < L->n_parts; k++)
        if (L->parts[k].owned) free(L->parts[k].e);
    free(L->entries);
    free(L);
    return st;
}

/* ---- the model ---- */

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

vlm_status bpe_load(const tj_node *model, bpe_model *out, bpe_vocab_job *job, bpe_side_task *side) {
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
        (st = load_vocab_and_merges(out, tj_get(model, "vocab"), tj_get(model, "merges"), job, side)))
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
