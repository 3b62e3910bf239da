/*
 * tokenizer_json.h — a small, fast JSON reader for tokenizer files.
 *
 * tokenizer.json files reach 33 MB (Gemma 3), most of it the vocabulary and
 * the merges. A general DOM (cJSON) spends ~a node allocation per string
 * there. This reader parses the buffer in place (strings are unescaped into
 * the buffer itself and NUL-terminated, nodes come from one arena) and can
 * leave chosen members ("vocab", "merges") as validated raw spans that the
 * BPE loader then streams through with the same lexer, entry by entry.
 *
 * All strings handed out are valid UTF-8 (checked while unescaping).
 */
#ifndef VLM_TEXT_TOKENIZER_JSON_H
#define VLM_TEXT_TOKENIZER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "text/tokenizer_utf8.h"
#include "vlm.h"

#define TJ_MAX_DEPTH 128 /* nesting limit */
#define TJ_MAX_SPLITS 15 /* split points recorded in a large lazy array */

typedef enum tj_type {
    TJ_NULL,
    TJ_BOOL,
    TJ_NUMBER,
    TJ_STRING,
    TJ_ARRAY,
    TJ_OBJECT,
    TJ_RAW /* an array/object left unparsed: [raw, raw + raw_len) */
} tj_type;

/* Points between two elements of a large array (after an element, before
 * its ','), in order and about evenly spaced, that split reading it into
 * n + 1 parts; count[k]: the elements of part k, exact for elements that
 * are strings or containers (as a merges list has), else a lower bound. */
typedef struct tj_split_points {
    char *at[TJ_MAX_SPLITS];
    size_t count[TJ_MAX_SPLITS + 1];
    size_t n;
} tj_split_points;

typedef struct tj_node tj_node;
struct tj_node {
    tj_type type;
    uint32_t count;   /* children of an array/object */
    const char *key;  /* member name when inside an object, else NULL */
    size_t len;       /* string length in bytes */
    union {
        const char *str;
        double num;
        bool boolean;
        tj_node *child; /* first child */
        char *raw;
    } v;
    size_t raw_len;
    const tj_split_points *raw_splits; /* TJ_RAW array; n = 0 for a small one */
    tj_node *next; /* next sibling */
};

/* A document: the arena of nodes over a caller-owned, mutable buffer. */
typedef struct tj_doc {
    tj_node *root;
    struct tj_block *blocks;
    struct tj_splits *splits; /* raw_splits arrays */
} tj_doc;

/* Members the parse steps over, for the caller to stream through. */
typedef struct tj_lazy {
    const char *const *keys; /* NULL-terminated member names */
    /* When not NULL, called as soon as such a member is stepped over, with
     * the name of the object holding it (NULL for the top level): the
     * parse goes on, touching only bytes before or after the member, so
     * the caller may start reading it on another thread. */
    void (*ready)(void *ctx, const tj_node *node, const char *parent_key);
    void *ctx;
} tj_lazy;

/* Parse buf[0..len) (modified in place; must stay alive as long as the
 * document). Members listed in lazy (may be NULL) whose value is an array
 * or object become TJ_RAW. what names the input in error messages. */
vlm_status tj_parse(char *buf, size_t len, const tj_lazy *lazy, const char *what, tj_doc *out);
void tj_free(tj_doc *doc);

/* Member of an object by name; NULL when absent or obj is not an object. */
const tj_node *tj_get(const tj_node *obj, const char *key);
/* String value or NULL when node is absent / not a string. */
const char *tj_str(const tj_node *node);
bool tj_is(const tj_node *node, tj_type type);
/* Boolean value, or dflt when absent/null/not a boolean. */
bool tj_bool(const tj_node *node, bool dflt);

/* ---- streaming over a raw span, one entry at a time ---- */

typedef struct tj_lexer {
    char *p, *end;
    const char *base; /* for error offsets */
    const char *what;
} tj_lexer;

void tj_lexer_init(tj_lexer *lx, char *p, size_t len, const char *what);
/* Expect the opening bracket `open` ('{' or '['). */
vlm_status tj_lex_open(tj_lexer *lx, char open);
/* Before each element of a container closed by `close`: consumes the
 * separating comma; *more = false when the container ends. *index counts
 * elements seen (start at 0). tj_lex_next (below) is its inline fast path. */
vlm_status tj_lex_next_full(tj_lexer *lx, char close, size_t *index, bool *more);
/* A string value, unescaped in place and NUL-terminated. */
vlm_status tj_lex_string(tj_lexer *lx, const char **s, size_t *len);
/* ':' after an object key. */
vlm_status tj_lex_colon(tj_lexer *lx);
/* An integer value (JSON number without fraction/exponent). */
vlm_status tj_lex_int(tj_lexer *lx, int64_t *value);
/* At an array or object: step over it (brackets balanced, strings with
 * escapes stepped over, nothing else checked); for an array, *splits gets
 * its split points (none for an object). */
vlm_status tj_skip_container(tj_lexer *lx, tj_split_points *splits);
/* Bytes of w equal to c, as 0x80 in each such byte (exact per byte). */
static inline uint64_t tj_bytes_equal(uint64_t w, unsigned char c) {
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;
    uint64_t x = w ^ (0x0101010101010101ULL * c);
    return ~(((x & low7) + low7) | x) & ~low7;
}

/* Peek the next non-space character (0 at the end); inline, as the
 * streaming loaders call it several times per entry. Pretty-printed
 * files indent deeply, so whitespace is skipped 8 bytes at a time. */
static inline char tj_lex_peek(tj_lexer *lx) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (lx->end - lx->p >= 8) {
        uint64_t w;
        memcpy(&w, lx->p, 8);
        uint64_t space = tj_bytes_equal(w, ' ') | tj_bytes_equal(w, '\n') | tj_bytes_equal(w, '\r') |
                         tj_bytes_equal(w, '\t');
        uint64_t other = ~space & 0x8080808080808080ULL;
        if (other) { /* little-endian: the lowest byte comes first */
            lx->p += (size_t)__builtin_ctzll(other) / 8;
            return *lx->p;
        }
        lx->p += 8;
    }
#endif
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\n' || *lx->p == '\r' || *lx->p == '\t')) lx->p++;
    return lx->p < lx->end ? *lx->p : 0;
}

/* tj_lex_next_full, with the common case (a comma, then an element)
 * inline: the lists of a tokenizer.json have a million elements. */
static inline vlm_status tj_lex_next(tj_lexer *lx, char close, size_t *index, bool *more) {
    char *at = lx->p;
    if (*index > 0 && tj_lex_peek(lx) == ',') {
        lx->p++;
        char c = tj_lex_peek(lx);
        if (c != close && c != 0) {
            (*index)++;
            *more = true;
            return VLM_OK;
        }
        lx->p = at; /* let the full version report it */
    }
    return tj_lex_next_full(lx, close, index, more);
}

/* A string without escapes at lx->p (on its opening quote): its bytes
 * stay where they are, not NUL-terminated. False, with the lexer
 * unchanged, for anything else (an escape, a control character, invalid
 * UTF-8, no closing quote): tj_lex_string then reads or reports it. */
static inline bool tj_lex_plain_string(tj_lexer *lx, const char **s, size_t *len) {
    const uint64_t ones = 0x0101010101010101ULL, tops = 0x8080808080808080ULL;
    char *start = lx->p + 1, *p = start, *end = lx->end;
    uint64_t high = 0; /* the bytes seen: a top bit set asks for the UTF-8 check */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; end - p >= 8; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t stop = tj_bytes_equal(w, '"') | tj_bytes_equal(w, '\\') | ((w - ones * 0x20) & ~w & tops);
        if (stop) { /* the lowest flag is exact (no borrow reaches below a byte < 0x20) */
            high |= w & ((stop & (0 - stop)) - 1);
            p += (size_t)__builtin_ctzll(stop) / 8;
            goto closed;
        }
        high |= w;
    }
#endif
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) high |= (unsigned char)*p++;
closed:
    if (p >= end || *p != '"' || ((high & tops) && !utf8_is_valid(start, (size_t)(p - start)))) return false;
    *s = start;
    *len = (size_t)(p - start);
    lx->p = p + 1;
    return true;
}

/* ---- layouts: the bytes between the strings of list elements ---- */

/* Files write every element of a long list alike ("[\n    \"a\",\n
 * \"b\"\n  ]"): the whitespace, commas, brackets and quotes between one
 * element's strings (or numbers), learned from an element the full lexer
 * read, let later elements be read by comparing those bytes instead of
 * lexing them token by token. Equal bytes lex equally, so this accepts
 * exactly what the lexer would. */
#define TJ_GAP_MAX 48

typedef struct tj_gap {
    char text[TJ_GAP_MAX];
    size_t len;
} tj_gap;

/* Remember [from, to); false when longer than TJ_GAP_MAX. */
static inline bool tj_gap_learn(tj_gap *g, const char *from, const char *to) {
    if (to < from || (size_t)(to - from) > TJ_GAP_MAX) return false;
    g->len = (size_t)(to - from);
    memcpy(g->text, from, g->len);
    return true;
}

/* Whether the bytes at p (before end) repeat the gap: compared 8 bytes at
 * a time (the last word overlapping), as a gap is about 10 to 30 bytes. */
static inline bool tj_gap_at(const tj_gap *g, const char *p, const char *end) {
    size_t n = g->len;
    if ((size_t)(end - p) < n) return false;
    if (n < 8) return memcmp(p, g->text, n) == 0;
    uint64_t x, y, diff = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, p + i, 8);
        memcpy(&y, g->text + i, 8);
        diff |= x ^ y;
    }
    memcpy(&x, p + n - 8, 8);
    memcpy(&y, g->text + n - 8, 8);
    return !(diff | (x ^ y));
}

#endif
