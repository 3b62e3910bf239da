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

#include "vlm.h"

typedef enum tj_type {
    TJ_NULL,
    TJ_BOOL,
    TJ_NUMBER,
    TJ_STRING,
    TJ_ARRAY,
    TJ_OBJECT,
    TJ_RAW /* an array/object left unparsed: [raw, raw + raw_len) */
} tj_type;

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
    char *raw_mid; /* TJ_RAW array: a point between two elements near its
                    * middle (after an element, before its ','), or NULL */
    tj_node *next; /* next sibling */
};

/* A document: the arena of nodes over a caller-owned, mutable buffer. */
typedef struct tj_doc {
    tj_node *root;
    struct tj_block *blocks;
} tj_doc;

/* Parse buf[0..len) (modified in place; must stay alive as long as the
 * document). Members whose name is listed in lazy_keys (NULL-terminated,
 * may be NULL) and whose value is an array or object become TJ_RAW.
 * what names the input in error messages. */
vlm_status tj_parse(char *buf, size_t len, const char *const *lazy_keys, const char *what,
                    tj_doc *out);
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
 * elements seen (start at 0). */
vlm_status tj_lex_next(tj_lexer *lx, char close, size_t *index, bool *more);
/* A string value, unescaped in place and NUL-terminated. */
vlm_status tj_lex_string(tj_lexer *lx, const char **s, size_t *len);
/* ':' after an object key. */
vlm_status tj_lex_colon(tj_lexer *lx);
/* An integer value (JSON number without fraction/exponent). */
vlm_status tj_lex_int(tj_lexer *lx, int64_t *value);
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

#endif
