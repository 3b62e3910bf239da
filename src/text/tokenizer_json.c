/*
 * tokenizer_json.c — the in-place JSON reader behind tokenizer loading
 * (see tokenizer_json.h for why it exists instead of cJSON).
 */
#include "text/tokenizer_json.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer_utf8.h"

#define TJ_BLOCK_NODES 1024

struct tj_splits {
    struct tj_splits *next;
    tj_split_points points;
};

struct tj_block {
    struct tj_block *next;
    size_t used;
    tj_node nodes[TJ_BLOCK_NODES];
};

static vlm_status lex_fail(const tj_lexer *lx, const char *what) {
    return vlm_error(VLM_ERR_FORMAT, "%s: malformed JSON at byte %zu: %s", lx->what,
                     (size_t)(lx->p - lx->base), what);
}

void tj_lexer_init(tj_lexer *lx, char *p, size_t len, const char *what) {
    lx->p = p;
    lx->end = p + len;
    lx->base = p;
    lx->what = what ? what : "JSON";
}

vlm_status tj_lex_open(tj_lexer *lx, char open) {
    if (tj_lex_peek(lx) != open) return lex_fail(lx, open == '{' ? "expected '{'" : "expected '['");
    lx->p++;
    return VLM_OK;
}

vlm_status tj_lex_next_full(tj_lexer *lx, char close, size_t *index, bool *more) {
    char c = tj_lex_peek(lx);
    if (c == close) {
        lx->p++;
        *more = false;
        return VLM_OK;
    }
    if (*index > 0) {
        if (c != ',') return lex_fail(lx, "expected ',' or closing bracket");
        lx->p++;
        if (tj_lex_peek(lx) == close) return lex_fail(lx, "trailing comma");
    }
    if (lx->p >= lx->end) return lex_fail(lx, "unexpected end of input");
    (*index)++;
    *more = true;
    return VLM_OK;
}

vlm_status tj_lex_colon(tj_lexer *lx) {
    if (tj_lex_peek(lx) != ':') return lex_fail(lx, "expected ':'");
    lx->p++;
    return VLM_OK;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(const char *p, const char *end, uint32_t *cp) {
    if (end - p < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0) return false;
        v = v << 4 | (uint32_t)h;
    }
    *cp = v;
    return true;
}

/* Decode a \u escape (with surrogate pairs) starting after "\u". Lone
 * surrogates become U+FFFD. Returns bytes of input consumed, 0 on error. */
static size_t unescape_unicode(const char *p, const char *end, uint32_t *cp) {
    if (!read_hex4(p, end, cp)) return 0;
    if (*cp >= 0xD800 && *cp <= 0xDBFF) {
        uint32_t lo;
        if (end - p >= 10 && p[4] == '\\' && p[5] == 'u' && read_hex4(p + 6, end, &lo) &&
            lo >= 0xDC00 && lo <= 0xDFFF) {
            *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
            return 10;
        }
        *cp = 0xFFFD;
    } else if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
        *cp = 0xFFFD;
    }
    return 4;
}

#define ONES 0x0101010101010101ULL
#define TOPS 0x8080808080808080ULL

/* End of a run without '"', '\\' or control characters; *high collects
 * the bytes seen (8 at a time while whole words fit) for the UTF-8 check. */
static char *plain_run(char *p, const char *end, uint64_t *high) {
    for (; end - p >= 8; p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t control = (w - ONES * 0x20) & ~w & TOPS; /* some byte < 0x20 */
        if (tj_bytes_equal(w, '"') | tj_bytes_equal(w, '\\') | control) break;
        *high |= w;
    }
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) *high |= (unsigned char)*p++;
    return p;
}

/* A string starting at the opening quote: unescaped in place (the
 * unescaped form is never longer), NUL-terminated, checked to be UTF-8. */
vlm_status tj_lex_string(tj_lexer *lx, const char **s, size_t *len) {
    if (tj_lex_peek(lx) != '"') return lex_fail(lx, "expected a string");
    char *start = ++lx->p, *w = start, *p = start, *end = lx->end;
    uint64_t high = 0; /* bytes >= 0x80 (or an escape): the UTF-8 check is needed */
    for (;;) {
        char *q = plain_run(p, end, &high);
        if (w != p) memmove(w, p, (size_t)(q - p));
        w += q - p;
        p = q;
        if (p >= end) {
            lx->p = p;
            return lex_fail(lx, "unterminated string");
        }
        if (*p == '"') break;
        if ((unsigned char)*p < 0x20) {
            lx->p = p;
            return lex_fail(lx, "control character in string");
        }
        /* backslash escape */
        high = ~(uint64_t)0;
        if (p + 1 >= end) {
            lx->p = p;
            return lex_fail(lx, "unterminated escape");
        }
        char e = p[1], out = 0;
        switch (e) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'u': {
            uint32_t cp;
            size_t used = unescape_unicode(p + 2, end, &cp);
            if (!used) {
                lx->p = p;
                return lex_fail(lx, "bad \\u escape");
            }
            char buf[4];
            size_t n = utf8_encode(cp, buf);
            memcpy(w, buf, n); /* <= 4 bytes written where a 6+ byte escape was */
            w += n;
            p += 2 + used;
            continue;
        }
        default:
            lx->p = p;
            return lex_fail(lx, "bad escape");
        }
        *w++ = out;
        p += 2;
    }
    lx->p = p + 1;
    *w = 0;
    if ((high & TOPS) && !utf8_is_valid(start, (size_t)(w - start))) {
        lx->p = start;
        return lex_fail(lx, "string is not valid UTF-8");
    }
    *s = start;
    *len = (size_t)(w - start);
    return VLM_OK;
}

/* Validate a JSON number and return its extent. */
static vlm_status lex_number_span(tj_lexer *lx, char **start, bool *integral) {
    tj_lex_peek(lx);
    char *p = lx->p, *end = lx->end;
    *start = p;
    *integral = true;
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') return lex_fail(lx, "expected a value");
    if (*p == '0') p++;
    else
        while (p < end && *p >= '0' && *p <= '9') p++;
    if (p < end && *p == '.') {
        *integral = false;
        p++;
        if (p >= end || *p < '0' || *p > '9') return lex_fail(lx, "bad number");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integral = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return lex_fail(lx, "bad number");
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    lx->p = p;
    return VLM_OK;
}

vlm_status tj_lex_int(tj_lexer *lx, int64_t *value) {
    char *start;
    bool integral;
    vlm_status st = lex_number_span(lx, &start, &integral);
    if (st) return st;
    if (!integral) return lex_fail(lx, "expected an integer");
    bool neg = *start == '-';
    int64_t v = 0;
    for (char *q = start + neg; q < lx->p; q++) {
        if (v > (INT64_MAX - 9) / 10) return lex_fail(lx, "integer out of range");
        v = v * 10 + (*q - '0');
    }
    *value = neg ? -v : v;
    return VLM_OK;
}

static vlm_status lex_literal(tj_lexer *lx, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(lx->end - lx->p) < n || memcmp(lx->p, word, n) != 0)
        return lex_fail(lx, "expected a value");
    lx->p += n;
    return VLM_OK;
}

/* ---- DOM ---- */

typedef struct dom_parser {
    tj_lexer lx;
    tj_doc *doc;
    const tj_lazy *lazy;
    const char *object_key; /* name of the object being parsed (NULL: top level or none) */
} dom_parser;

static tj_node *new_node(tj_doc *doc) {
    struct tj_block *b = doc->blocks;
    if (!b || b->used == TJ_BLOCK_NODES) {
        b = vlm_malloc(sizeof *b);
        if (!b) return NULL;
        b->used = 0;
        b->next = doc->blocks;
        doc->blocks = b;
    }
    tj_node *n = &b->nodes[b->used++];
    memset(n, 0, sizeof *n);
    return n;
}

static bool is_lazy(const dom_parser *dp, const char *key) {
    if (!dp->lazy || !dp->lazy->keys || !key) return false;
    for (const char *const *k = dp->lazy->keys; *k; k++)
        if (strcmp(*k, key) == 0) return true;
    return false;
}

static vlm_status parse_value(dom_parser *dp, tj_node *node, int depth);

static vlm_status parse_elements(dom_parser *dp, tj_node *node, int depth, bool object) {
    tj_lexer *lx = &dp->lx;
    if (depth >= TJ_MAX_DEPTH) return lex_fail(lx, "nesting too deep");
    lx->p++;
    node->type = object ? TJ_OBJECT : TJ_ARRAY;
    tj_node **tail = &node->v.child;
    size_t index = 0;
    for (;;) {
        bool more;
        vlm_status st = tj_lex_next(lx, object ? '}' : ']', &index, &more);
        if (st) return st;
        if (!more) return VLM_OK;
        tj_node *child = new_node(dp->doc);
        if (!child) return VLM_ERR_OUT_OF_MEMORY;
        if (object) {
            size_t klen;
            if ((st = tj_lex_string(lx, &child->key, &klen)) || (st = tj_lex_colon(lx))) return st;
        }
        if ((st = parse_value(dp, child, depth + 1))) return st;
        *tail = child;
        tail = &child->next;
        node->count++;
    }
}

static vlm_status parse_container(dom_parser *dp, tj_node *node, int depth, bool object) {
    const char *outer = dp->object_key;
    dp->object_key = object ? node->key : NULL;
    vlm_status st = parse_elements(dp, node, depth, object);
    dp->object_key = outer;
    return st;
}

static vlm_status parse_value(dom_parser *dp, tj_node *node, int depth) {
    tj_lexer *lx = &dp->lx;
    char c = tj_lex_peek(lx);
    if ((c == '{' || c == '[') && is_lazy(dp, node->key)) {
        char *start = lx->p;
        struct tj_splits *sp = vlm_malloc(sizeof *sp);
        if (!sp) return VLM_ERR_OUT_OF_MEMORY;
        sp->next = dp->doc->splits;
        dp->doc->splits = sp;
        vlm_status st = tj_skip_container(lx, &sp->points);
        if (st) return st;
        node->raw_splits = &sp->points;
        node->type = TJ_RAW;
        node->v.raw = start;
        node->raw_len = (size_t)(lx->p - start);
        if (dp->lazy->ready) dp->lazy->ready(dp->lazy->ctx, node, dp->object_key);
        return VLM_OK;
    }
    switch (c) {
    case '{': return parse_container(dp, node, depth, true);
    case '[': return parse_container(dp, node, depth, false);
    case '"': node->type = TJ_STRING; return tj_lex_string(lx, &node->v.str, &node->len);
    case 't': node->type = TJ_BOOL; node->v.boolean = true; return lex_literal(lx, "true");
    case 'f': node->type = TJ_BOOL; return lex_literal(lx, "false");
    case 'n': node->type = TJ_NULL; return lex_literal(lx, "null");
    default: {
        char *start;
        bool integral;
        vlm_status st = lex_number_span(lx, &start, &integral);
        if (st) return st;
        char tmp[64];
        size_t n = (size_t)(lx->p - start);
        if (n >= sizeof tmp) return lex_fail(lx, "number too long");
        memcpy(tmp, start, n);
        tmp[n] = 0;
        node->type = TJ_NUMBER;
        node->v.num = strtod(tmp, NULL);
        return VLM_OK;
    }
    }
}

vlm_status tj_parse(char *buf, size_t len, const tj_lazy *lazy, const char *what, tj_doc *out) {
    memset(out, 0, sizeof *out);
    dom_parser dp = {.doc = out, .lazy = lazy};
    tj_lexer_init(&dp.lx, buf, len, what);
    tj_node *root = new_node(out);
    if (!root) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = parse_value(&dp, root, 0);
    if (!st && tj_lex_peek(&dp.lx) != 0) st = lex_fail(&dp.lx, "trailing characters");
    if (st) {
        tj_free(out);
        return st;
    }
    out->root = root;
    return VLM_OK;
}

void tj_free(tj_doc *doc) {
    struct tj_block *b = doc->blocks;
    while (b) {
        struct tj_block *next = b->next;
        free(b);
        b = next;
    }
    for (struct tj_splits *sp = doc->splits, *next; sp; sp = next) {
        next = sp->next;
        free(sp);
    }
    doc->blocks = NULL;
    doc->splits = NULL;
    doc->root = NULL;
}

const tj_node *tj_get(const tj_node *obj, const char *key) {
    if (!obj || obj->type != TJ_OBJECT) return NULL;
    for (const tj_node *c = obj->v.child; c; c = c->next)
        if (strcmp(c->key, key) == 0) return c;
    return NULL;
}

const char *tj_str(const tj_node *node) {
    return node && node->type == TJ_STRING ? node->v.str : NULL;
}

bool tj_is(const tj_node *node, tj_type type) { return node && node->type == type; }

bool tj_bool(const tj_node *node, bool dflt) {
    return node && node->type == TJ_BOOL ? node->v.boolean : dflt;
}
