/*
 * tokenizer.h — internal structure of a loaded Hugging Face tokenizer.
 *
 * A tokenizer.json describes a pipeline, and each stage lives in its own
 * file:
 *   added tokens      tokenizer_added.c       split out before/after normalizing
 *   normalizer        tokenizer_normalizer.c  NFC, Replace, Prepend, ...
 *   pre-tokenizer     tokenizer_pretokenizer.c Split (regex), ByteLevel, Metaspace, ...
 *   model             tokenizer_bpe.c         byte-level or SentencePiece-style BPE
 *   post-processor    tokenizer_postprocessor.c  BOS/EOS templates
 *   decoder           tokenizer_decoder.c     ByteLevel, ByteFallback, Fuse, ...
 * plus the vocabulary hash (tokenizer_vocab.c), regex patterns
 * (tokenizer_pattern.c), the streaming detokenizer and the loader.
 * Semantics follow huggingface/tokenizers (Rust) exactly; offsets are not
 * tracked because vlm only needs ids.
 */
#ifndef VLM_TEXT_TOKENIZER_H
#define VLM_TEXT_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>

#include "text/tokenizer_json.h"
#include "vlm.h"

/* ---- small shared helpers ---- */

/* Slot count for an open-addressing table holding n entries: the
 * smallest power of two >= 2n, at least 64. */
static inline size_t tok_table_size(size_t n) {
    size_t slots = 64;
    while (slots < n * 2) slots *= 2;
    return slots;
}

/* 64-bit finalizer (murmur3) for hash keys. */
static inline uint64_t tok_mix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDULL;
    return k ^ (k >> 33);
}

/* FNV-1a over bytes, continuing from h (so a + b hashes like their
 * concatenation); finish with tok_mix64. */
uint64_t tok_hash_bytes(uint64_t h, const char *s, size_t n);
#define TOK_HASH_SEED 0xCBF29CE484222325ULL

/* Zeroed memory for a large hash table (count entries of size bytes),
 * on huge pages where possible; release with free(). NULL (with the
 * error set) when out of memory. */
void *tok_table_alloc(size_t count, size_t size);
/* The same, not zeroed, for large arrays. */
void *tok_big_alloc(size_t count, size_t size);
/* tok_grow for arrays from tok_big_alloc. */
vlm_status tok_big_grow(void *items, size_t n, size_t *cap, size_t size, size_t first);

/* Room for one more element in a growable array: when n == *cap, double
 * *cap (from `first`) and realloc *items (elements of `size` bytes). */
vlm_status tok_grow(void *items, size_t n, size_t *cap, size_t size, size_t first);

/* Append count ids to a growable id array. */
vlm_status tok_ids_append(int32_t **ids, size_t *n, size_t *cap, const int32_t *src, size_t count);

/* ---- growable buffers used through the pipeline ---- */

typedef struct tok_buf {
    char *data;
    size_t len, cap;
} tok_buf;

vlm_status tok_buf_reserve(tok_buf *b, size_t extra);
vlm_status tok_buf_append(tok_buf *b, const char *s, size_t n);
void tok_buf_free(tok_buf *b);

/* A list of strings stored back to back in one buffer: pre-tokenizer
 * pieces and decoder token lists. `start_span` counts the bytes at the
 * start of a piece that stand for the input's first character (original
 * offset 0, as tokenizers' alignments track it through normalization and
 * pre-tokenization): a piece with start_span > 0 starts at offset 0, which
 * is what Metaspace's prepend_scheme "first" asks. */
typedef struct tok_piece {
    size_t off, len;
    size_t start_span;
} tok_piece;

typedef struct tok_pieces {
    tok_buf text;
    tok_piece *items;
    size_t n, cap;
} tok_pieces;

vlm_status tok_pieces_push(tok_pieces *p, const char *s, size_t len, size_t start_span);
/* Make the text appended to p->text since offset `start` one piece. */
vlm_status tok_pieces_close(tok_pieces *p, size_t start, size_t start_span);
void tok_pieces_clear(tok_pieces *p);
void tok_pieces_free(tok_pieces *p);
static inline const char *tok_piece_str(const tok_pieces *p, size_t i) {
    return p->text.data + p->items[i].off;
}

/* ---- vocabulary: token string <-> id ---- */

#define TOK_NO_TOKEN UINT32_MAX

typedef struct tok_span {
    uint32_t off, len; /* a token's place in the pool; off TOK_NO_TOKEN = no token */
} tok_span;

#define TOK_SLOT_PREFIX 8 /* token bytes a vocabulary slot holds */

typedef struct tok_slot {
    uint32_t id1;    /* id + 1; 0 = empty slot */
    uint32_t len;    /* token length in bytes */
    uint64_t prefix; /* the token's first TOK_SLOT_PREFIX bytes, zero-padded */
} tok_slot;

typedef struct tok_vocab {
    tok_buf pool;        /* NUL-terminated token strings */
    tok_span *span;      /* id -> string */
    size_t n_ids;        /* max id + 1 */
    size_t n_tokens;     /* distinct tokens */
    tok_slot *slots;     /* open addressing from the string hash, at most 5/8 full */
    size_t mask;
} tok_vocab;

vlm_status tok_vocab_init(tok_vocab *v, size_t expected);
void tok_vocab_free(tok_vocab *v);
/* Add token -> id. A repeated string keeps the later id (like a JSON map
 * read into a hash map); a repeated id is an error. */
vlm_status tok_vocab_add(tok_vocab *v, const char *s, size_t len, int32_t id);
/* The same with h = tok_vocab_hash2(s, len, "", 0) computed ahead, so that
 * a batch of adds can fetch its slots first (tok_vocab_prefetch). */
vlm_status tok_vocab_add_hashed(tok_vocab *v, const char *s, size_t len, int32_t id, uint64_t h);
/* Id of the concatenation a + b, -1 if absent. */
int32_t tok_vocab_find2(const tok_vocab *v, const char *a, size_t alen, const char *b, size_t blen);
/* The vocabulary hash of a + b (for lookups hashed ahead of time). */
uint64_t tok_vocab_hash2(const char *a, size_t alen, const char *b, size_t blen);
static inline int32_t tok_vocab_find(const tok_vocab *v, const char *s, size_t len) {
    return tok_vocab_find2(v, s, len, "", 0);
}
/* Many independent lookups of a + b at once: the memory accesses of the
 * whole batch are prefetched stage by stage, which makes loading large
 * merge lists several times faster than one lookup after another. */
typedef struct tok_lookup {
    const char *a, *b;
    size_t alen, blen;
    uint64_t hash, prefix; /* of a + b: set by tok_vocab_query */
    size_t slot, candidate; /* home slot, first slot matching a long token's prefix */
    int32_t id; /* result, -1 if absent */
} tok_lookup;
tok_lookup tok_vocab_query(const char *a, size_t alen, const char *b, size_t blen);
void tok_vocab_find_batch(const tok_vocab *v, tok_lookup *q, size_t n);
static inline void tok_vocab_prefetch(const tok_vocab *v, uint64_t hash) {
    __builtin_prefetch(&v->slots[hash & v->mask]);
}
/* The first n <= 8 bytes at s as a little-endian word, zero-padded,
 * without reading past s + n. */
static inline uint64_t tok_load_bytes(const char *s, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 4) { /* two overlapping 4-byte loads */
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        return lo | (uint64_t)hi << 8 * (n - 4);
    }
    if (n == 0) return 0;
    const unsigned char *u = (const unsigned char *)s;
    return u[0] | (uint64_t)u[n / 2] << 8 * (n / 2) | (uint64_t)u[n - 1] << 8 * (n - 1);
#else
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)(unsigned char)s[i] << 8 * i;
    return w;
#endif
}

/* The first 8 bytes of a + b, zero-padded (as a slot keeps them). */
static inline uint64_t tok_prefix2(const char *a, size_t alen, const char *b, size_t blen) {
    if (alen >= TOK_SLOT_PREFIX) return tok_load_bytes(a, TOK_SLOT_PREFIX);
    uint64_t w = tok_load_bytes(a, alen);
    size_t rest = TOK_SLOT_PREFIX - alen;
    return blen ? w | tok_load_bytes(b, blen < rest ? blen : rest) << 8 * alen : w;
}

/* Whether token id (one that exists) is a + b. */
static inline bool tok_same_token(const tok_vocab *v, int32_t id, const char *a, size_t alen, const char *b,
                                  size_t blen) {
    tok_span sp = v->span[id];
    if (sp.len != alen + blen) return false;
    const char *t = v->pool.data + sp.off;
    if (sp.len <= TOK_SLOT_PREFIX) return tok_load_bytes(t, sp.len) == tok_prefix2(a, alen, b, blen);
    return memcmp(t, a, alen) == 0 && memcmp(t + alen, b, blen) == 0;
}

/* Whether token id is the concatenation a + b. */
static inline bool tok_vocab_is(const tok_vocab *v, int32_t id, const char *a, size_t alen, const char *b,
                                size_t blen) {
    return id >= 0 && (size_t)id < v->n_ids && v->span[id].off != TOK_NO_TOKEN &&
           tok_same_token(v, id, a, alen, b, blen);
}

/* Token string of id or NULL. */
static inline const char *tok_vocab_token(const tok_vocab *v, int32_t id, size_t *len) {
    if (id < 0 || (size_t)id >= v->n_ids || v->span[id].off == TOK_NO_TOKEN) return NULL;
    if (len) *len = v->span[id].len;
    return v->pool.data + v->span[id].off;
}

/* ---- patterns: a literal string or a regex (Split, Replace) ---- */

typedef struct tok_pattern {
    char *literal; /* literal pattern when re == NULL */
    size_t literal_len;
    pcre2_code *re;
} tok_pattern;

/* Match scratch for one encode/decode call (pcre2 match data). */
typedef struct tok_matcher {
    pcre2_match_data *md;
} tok_matcher;

/* Compile a tokenizer.json pattern object {"String": s} / {"Regex": r}. */
vlm_status tok_pattern_from_json(const tj_node *node, tok_pattern *out, const char *what);
/* Compile an Oniguruma-syntax regex (as tokenizers uses) with PCRE2. */
vlm_status tok_pattern_regex(const char *onig, tok_pattern *out, const char *what);
void tok_pattern_free(tok_pattern *p);
/* Next non-overlapping match at or after `from`: true and [*ms, *me). */
bool tok_pattern_find(const tok_pattern *p, tok_matcher *m, const char *s, size_t len,
                      size_t from, size_t *ms, size_t *me);
vlm_status tok_matcher_init(tok_matcher *m);
void tok_matcher_free(tok_matcher *m);

/* ---- normalizers ---- */

typedef enum tok_norm_type {
    NORM_NFC, NORM_NFD, NORM_NFKC, NORM_NFKD, NORM_LOWERCASE, NORM_PREPEND, NORM_REPLACE,
    NORM_STRIP, NORM_SEQUENCE
} tok_norm_type;

typedef struct tok_normalizer {
    tok_norm_type type;
    char *content;         /* Prepend / Replace content */
    tok_pattern pattern;   /* Replace */
    bool strip_left, strip_right;
    struct tok_normalizer *children;
    size_t n_children;
} tok_normalizer;

vlm_status tok_normalizer_from_json(const tj_node *node, tok_normalizer *out, int depth);
void tok_normalizer_free(tok_normalizer *n);
/* Normalize s into out (replacing its contents). *start_span (may be
 * NULL): on entry the bytes of s standing for the original first
 * character, on return those of the output (0 when it was stripped). */
vlm_status tok_normalize(const tok_normalizer *n, tok_matcher *m, const char *s, size_t len,
                         tok_buf *out, size_t *start_span);

/* ---- pre-tokenizers ---- */

typedef enum tok_split_behavior {
    SPLIT_REMOVED, SPLIT_ISOLATED, SPLIT_MERGED_WITH_PREVIOUS, SPLIT_MERGED_WITH_NEXT,
    SPLIT_CONTIGUOUS
} tok_split_behavior;

typedef enum tok_prepend_scheme { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER } tok_prepend_scheme;

typedef enum tok_pretok_type {
    PRE_SPLIT, PRE_BYTE_LEVEL, PRE_DIGITS, PRE_METASPACE, PRE_WHITESPACE, PRE_WHITESPACE_SPLIT,
    PRE_PUNCTUATION, PRE_SEQUENCE
} tok_pretok_type;

typedef struct tok_pretokenizer {
    tok_pretok_type type;
    tok_pattern pattern;           /* Split; ByteLevel/Whitespace built-in regex */
    tok_split_behavior behavior;
    bool invert;
    bool add_prefix_space, use_regex; /* ByteLevel */
    char byte_utf8[256][2];           /* ByteLevel: UTF-8 of each byte's stand-in */
    uint8_t byte_utf8_len[256];
    bool individual_digits;
    char replacement[8];              /* Metaspace, UTF-8 */
    size_t replacement_len;
    tok_prepend_scheme prepend_scheme;
    bool split;
    struct tok_pretokenizer *children;
    size_t n_children;
} tok_pretokenizer;

vlm_status tok_pretokenizer_from_json(const tj_node *node, tok_pretokenizer *out, int depth);
void tok_pretokenizer_free(tok_pretokenizer *p);
/* Split/transform the pieces in *io (uses *tmp as scratch; swaps). */
vlm_status tok_pretokenize(const tok_pretokenizer *p, tok_matcher *m, tok_pieces *io,
                           tok_pieces *tmp);
/* Shared with Metaspace parsing in the decoder. */
vlm_status tok_parse_prepend_scheme(const tj_node *node, tok_prepend_scheme *out);

/* ---- BPE model ---- */

typedef struct bpe_merge {
    uint64_t key;   /* (left id << 32 | right id) + 1, 0 = empty slot */
    uint64_t value; /* rank << 32 | merged id (the loader sets both words
                     * with compare-and-swap, from several threads) */
} bpe_merge;

/* Open addressing, linear probing. */
typedef struct bpe_merge_map {
    bpe_merge *slots;
    size_t mask;
} bpe_merge_map;

static inline uint64_t bpe_merge_key(int32_t left, int32_t right) {
    return ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1;
}
static inline size_t bpe_merge_slot(const bpe_merge_map *mm, uint64_t key) { return tok_mix64(key) & mm->mask; }
static inline size_t bpe_merge_next(const bpe_merge_map *mm, size_t i) { return (i + 1) & mm->mask; }
/* A UTF-8 character (len <= 4 bytes at c) as a number, its bytes in
 * order: one half of a boundary set key. */
static inline uint32_t bpe_char_bits(const char *c, size_t len) {
    uint32_t bits = 0;
    for (size_t i = 0; i < len && i < 4; i++) bits = bits << 8 | (unsigned char)c[i];
    return bits;
}
/* Boundary set key of a character pair (as bpe_char_bits). */
static inline uint64_t bpe_boundary_key(uint32_t left, uint32_t right) { return ((uint64_t)left << 32 | right) + 1; }

typedef struct bpe_model {
    tok_vocab vocab;
    bpe_merge_map merges;
    int32_t unk_id;
    bool byte_fallback, fuse_unk, ignore_merges;
    char *subword_prefix; /* continuing_subword_prefix, NULL when none */
    char *word_suffix;    /* end_of_word_suffix, NULL when none */
    int32_t byte_token[256]; /* ids of "<0xNN>", -1 when absent */
    /* Pairs (last code point of a merge's left part, first code point of
     * its right part): a boundary between two characters not in this set
     * can never be merged across, so long words split there exactly. */
    uint64_t *boundary_keys;
    size_t boundary_mask, boundary_count;
    bool can_chunk;
} bpe_model;

/* The vocabulary read on a thread of its own while the rest of
 * tokenizer.json is parsed (started from tj_lazy.ready), for bpe_load;
 * the thread then helps lex the merges (see read_step). */
typedef struct bpe_vocab_job {
    const tj_node *node; /* the vocabulary being read; NULL when none is */
    char *raw;           /* its JSON */
    size_t raw_len;
    tok_vocab vocab;
    vlm_status st;
    char message[512];
    pthread_t thread;
    pthread_mutex_t lock; /* guards help and closed */
    pthread_cond_t wake;
    void (*help)(void *ctx); /* work handed to the thread after the vocabulary */
    void *help_ctx;
    bool closed; /* no work will come */
} bpe_vocab_job;

/* Start reading vocab (an object) on a new thread; job->node stays NULL
 * when none can be started (bpe_load then reads it itself). */
void bpe_vocab_start(bpe_vocab_job *job, const tj_node *vocab);
/* Wait for the job (when one runs) and drop a vocabulary bpe_load did
 * not take. */
void bpe_vocab_discard(bpe_vocab_job *job);
/* Other loading work to run next to the merges' resolving (it may read
 * the vocabulary, complete by then, but not the merge map); its result
 * goes to st and message. */
typedef struct bpe_side_task {
    vlm_status (*run)(void *ctx);
    void *ctx;
    vlm_status st;
    char message[512];
} bpe_side_task;

/* Load the model; job (may be NULL) supplies its vocabulary when it reads
 * the model's, and is waited for either way; side (may be NULL) has run
 * when this returns VLM_OK. */
vlm_status bpe_load(const tj_node *model, bpe_model *out, bpe_vocab_job *job, bpe_side_task *side);
void bpe_free(bpe_model *m);

/* Per-call scratch of the BPE model: symbol arrays, heap, word cache. */
typedef struct bpe_scratch bpe_scratch;
bpe_scratch *bpe_scratch_new(void);
void bpe_scratch_free(bpe_scratch *s);
/* Append the ids of one pre-tokenized word to *ids. */
vlm_status bpe_tokenize(const bpe_model *m, bpe_scratch *s, const char *word, size_t len,
                        int32_t **ids, size_t *n, size_t *cap);

/* ---- added tokens ---- */

typedef struct tok_added_token {
    char *content;
    size_t len;
    int32_t id;
    bool special, normalized, lstrip, rstrip, single_word;
} tok_added_token;

/* A byte trie over a set of added tokens for leftmost-longest matching. */
typedef struct tok_trie {
    int32_t root[256];     /* node index + 1 for the first byte */
    uint64_t *edge_keys;   /* (node << 8 | byte) + 1 */
    int32_t *edge_next;
    size_t edge_mask, n_edges;
    int32_t *terminal;     /* node -> added token index, -1 */
    size_t n_nodes, cap_nodes;
} tok_trie;

typedef struct tok_added {
    tok_added_token *tokens;
    size_t n, cap;
    tok_vocab by_content;   /* content -> index in tokens */
    int32_t *by_id;         /* id -> index in tokens, -1 */
    size_t n_by_id;
    tok_trie raw_trie;      /* normalized == false: matched on the input */
    tok_trie norm_trie;     /* normalized == true: matched after normalizing */
} tok_added;

/* Add (or update) an added token; ids are as declared. */
vlm_status tok_added_add(tok_added *a, const tok_added_token *t);
/* Build the matching tries once all tokens are known. */
vlm_status tok_added_build(tok_added *a, const tok_normalizer *normalizer);
void tok_added_free(tok_added *a);
const tok_added_token *tok_added_by_id(const tok_added *a, int32_t id);
const tok_added_token *tok_added_by_content(const tok_added *a, const char *s, size_t len);

/* A segment of input: either an added token (id >= 0) or text. */
typedef struct tok_segment {
    size_t start, end;
    int32_t id;
} tok_segment;

/* Split s by the added tokens of one trie (as AddedVocabulary::find_matches). */
vlm_status tok_added_split(const tok_added *a, bool normalized, const char *s, size_t len,
                           tok_segment **segs, size_t *n, size_t *cap);

/* ---- post-processor ---- */

typedef struct tok_post_item {
    bool is_sequence;  /* the encoded text */
    int32_t *ids;      /* special token ids otherwise */
    size_t n_ids;
} tok_post_item;

typedef struct tok_postprocessor {
    tok_post_item *items; /* NULL = no template (ids unchanged) */
    size_t n_items;
} tok_postprocessor;

vlm_status tok_postprocessor_from_json(const tj_node *node, tok_postprocessor *out);
/* Replace the template by [bos?] A [eos?] (transformers' LlamaTokenizerFast
 * add_bos_token / add_eos_token handling). */
vlm_status tok_postprocessor_set_bos_eos(tok_postprocessor *p, int32_t bos, int32_t eos);
void tok_postprocessor_free(tok_postprocessor *p);
vlm_status tok_postprocess(const tok_postprocessor *p, int32_t **ids, size_t *n);

/* ---- decoders ---- */

typedef enum tok_decoder_type {
    DEC_BYTE_LEVEL, DEC_BYTE_FALLBACK, DEC_FUSE, DEC_REPLACE, DEC_STRIP, DEC_METASPACE,
    DEC_BPE_SUFFIX
} tok_decoder_type;

typedef struct tok_decoder_step {
    tok_decoder_type type;
    tok_pattern pattern;   /* Replace */
    char *content;         /* Replace content, BPEDecoder suffix */
    uint32_t strip_char;   /* Strip */
    size_t strip_start, strip_stop;
    uint32_t replacement;  /* Metaspace */
    tok_prepend_scheme prepend_scheme;
} tok_decoder_step;

typedef struct tok_decoder {
    tok_decoder_step *steps; /* a Sequence flattened; NULL = join with " " */
    size_t n_steps;
    bool present;
    bool has_byte_fallback;
} tok_decoder;

vlm_status tok_decoder_from_json(const tj_node *node, tok_decoder *out);
void tok_decoder_free(tok_decoder *d);
/* Run the decoder chain over the tokens in *tokens and append the joined
 * text to *out (as Decoder::decode). *tmp is scratch. */
vlm_status tok_decode_tokens(const tok_decoder *d, tok_matcher *m, tok_pieces *tokens,
                             tok_pieces *tmp, tok_buf *out);
/* transformers' clean_up_tokenization on s (in place); returns new length. */
size_t tok_clean_up_spaces(char *s, size_t len);

/* ---- the tokenizer ---- */

struct vlm_tokenizer {
    tok_normalizer normalizer;
    bool has_normalizer;
    tok_pretokenizer pretokenizer;
    bool has_pretokenizer;
    bpe_model bpe;
    tok_added added;
    tok_postprocessor post;
    tok_decoder decoder;
    bool clean_up_spaces;
    size_t vocab_size;  /* distinct tokens, model and added */
    int32_t bos_id, eos_id, pad_id, unk_id;
    char *bos_token, *eos_token;
    int32_t *eos_ids; /* eos + generation_config eos_token_id list */
    size_t n_eos_ids;
    struct tok_named_id {
        char *name;
        int32_t id;
    } *named; /* tokenizer_config "*_token" entries (image_token, boi_token...) */
    size_t n_named;
};

/* ---- reading a tokenizer folder ---- */

/* A file mapped copy-on-write when large: Gemma 3's 33 MB tokenizer.json
 * is then read straight from the page cache (no copy, no page faults for
 * a fresh buffer), and only pages the parser writes to (strings unescaped
 * or NUL-terminated in place) are copied. Smaller files are read. */
typedef struct tok_mapped_file {
    char *data;
    size_t len;
    bool mapped;
} tok_mapped_file;
vlm_status tok_map_file(const char *dir, const char *name, tok_mapped_file *f);
void tok_unmap_file(tok_mapped_file *f);

/* A side file (tokenizer_config.json, ...) read and parsed; doc.root is
 * NULL when the file is absent. */
typedef struct tok_json_file {
    char *buf;
    size_t len;
    tj_doc doc;
} tok_json_file;
vlm_status tok_json_file_read(tok_json_file *f, const char *dir, const char *name);
void tok_json_file_free(tok_json_file *f);

/* A side file read on a thread of its own (Gemma 3's 1 MB
 * tokenizer_config.json, while the parse of tokenizer.json has the other
 * core idle), or when no thread starts, read on wait. */
typedef struct tok_json_prefetch {
    const char *dir, *name;
    tok_json_file file;
    vlm_status st;
    char message[512];
    pthread_t thread;
    bool running, done;
} tok_json_prefetch;
void tok_json_prefetch_start(tok_json_prefetch *p, const char *dir, const char *name);
/* The file (NULL doc.root when absent), or the error reading it. */
vlm_status tok_json_prefetch_wait(tok_json_prefetch *p, tok_json_file **file);
void tok_json_prefetch_free(tok_json_prefetch *p);

/* Token text of id (added tokens first, then the model); NULL if unknown. */
const char *tok_id_to_token(const vlm_tokenizer *t, int32_t id, size_t *len);
/* Decode ids into *out (appending): the decoder chain, and transformers'
 * clean-up when clean_up is true. */
vlm_status tok_decode_ids(const vlm_tokenizer *t, const int32_t *ids, size_t n, bool skip_special,
                          bool clean_up, tok_buf *out);
/* Whether decoding drops id (skipped special token or unknown id). */
bool tok_decode_drops(const vlm_tokenizer *t, int32_t id, bool skip_special);

#endif
