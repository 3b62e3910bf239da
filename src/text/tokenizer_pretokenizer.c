/*
 * tokenizer_pretokenizer.c — tokenizer.json "pre_tokenizer": cutting
 * normalized text into the words the model encodes one by one (Split by
 * regex, ByteLevel's byte->char alphabet, Metaspace, Digits, Whitespace,
 * WhitespaceSplit, Punctuation, Sequence), with the five delimiter
 * behaviors of tokenizers' NormalizedString::split. Empty pieces are
 * dropped, as PreTokenizedString::split does.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/error.h"
#include "text/tokenizer.h"
#include "text/tokenizer_utf8.h"

#define MAX_DEPTH 16

/* GPT-2's pattern, used by ByteLevel when use_regex is true. */
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/* Whitespace pre-tokenizer: words and punctuation runs are kept. It uses
 * the Rust regex crate, whose \\w is Alphabetic, marks, decimal digits,
 * connector punctuation and the joiners U+200C/U+200D. */
#define RUST_WORD "\\p{L}\\p{Nl}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}"
static const char WHITESPACE_PATTERN[] = "[" RUST_WORD "]+|[^" RUST_WORD "\\s]+";

/* ---- loading ---- */

static vlm_status parse_behavior(const char *s, tok_split_behavior *out) {
    static const struct { const char *name; tok_split_behavior b; } names[] = {
        {"Removed", SPLIT_REMOVED}, {"Isolated", SPLIT_ISOLATED},
        {"MergedWithPrevious", SPLIT_MERGED_WITH_PREVIOUS}, {"MergedWithNext", SPLIT_MERGED_WITH_NEXT},
        {"Contiguous", SPLIT_CONTIGUOUS}};
    for (size_t i = 0; s && i < sizeof names / sizeof *names; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].b;
            return VLM_OK;
        }
    return vlm_error(VLM_ERR_FORMAT, "unknown split behavior \"%s\"", s ? s : "(missing)");
}

vlm_status tok_parse_prepend_scheme(const tj_node *node, tok_prepend_scheme *out) {
    const char *s = tj_str(tj_get(node, "prepend_scheme"));
    if (!s) { /* older files: add_prefix_space */
        *out = tj_bool(tj_get(node, "add_prefix_space"), true) ? PREPEND_ALWAYS : PREPEND_NEVER;
        return VLM_OK;
    }
    if (strcmp(s, "always") == 0) *out = PREPEND_ALWAYS;
    else if (strcmp(s, "first") == 0) *out = PREPEND_FIRST;
    else if (strcmp(s, "never") == 0) *out = PREPEND_NEVER;
    else return vlm_error(VLM_ERR_FORMAT, "unknown Metaspace prepend_scheme \"%s\"", s);
    return VLM_OK;
}

static vlm_status metaspace_from_json(const tj_node *node, tok_pretokenizer *out) {
    const tj_node *r = tj_get(node, "replacement");
    const char *rep = tj_str(r);
    if (!rep || r->len == 0 || r->len != utf8_len((unsigned char)rep[0]) || r->len >= sizeof out->replacement)
        return vlm_error(VLM_ERR_FORMAT, "Metaspace: \"replacement\" must be one character");
    memcpy(out->replacement, rep, r->len);
    out->replacement_len = r->len;
    out->split = tj_bool(tj_get(node, "split"), true);
    return tok_parse_prepend_scheme(node, &out->prepend_scheme);
}

static vlm_status sequence_from_json(const tj_node *list, tok_pretokenizer *out, int depth) {
    if (!tj_is(list, TJ_ARRAY))
        return vlm_error(VLM_ERR_FORMAT, "pre_tokenizer Sequence: \"pretokenizers\" must be a list");
    out->children = vlm_calloc(list->count, sizeof *out->children);
    if (!out->children) return VLM_ERR_OUT_OF_MEMORY;
    for (const tj_node *c = list->v.child; c; c = c->next) {
        /* counted before checking, so that free releases a half-built child */
        vlm_status st = tok_pretokenizer_from_json(c, &out->children[out->n_children++], depth + 1);
        if (st) return st;
    }
    return VLM_OK;
}

vlm_status tok_pretokenizer_from_json(const tj_node *node, tok_pretokenizer *out, int depth) {
    memset(out, 0, sizeof *out);
    if (depth > MAX_DEPTH) return vlm_error(VLM_ERR_LIMIT, "pre_tokenizer nesting too deep");
    const char *type = tj_str(tj_get(node, "type"));
    if (!type) return vlm_error(VLM_ERR_FORMAT, "pre_tokenizer without a \"type\"");
    if (strcmp(type, "Split") == 0) {
        out->type = PRE_SPLIT;
        out->invert = tj_bool(tj_get(node, "invert"), false);
        vlm_status st = parse_behavior(tj_str(tj_get(node, "behavior")), &out->behavior);
        return st ? st : tok_pattern_from_json(tj_get(node, "pattern"), &out->pattern, "pre_tokenizer Split");
    }
    if (strcmp(type, "ByteLevel") == 0) {
        out->type = PRE_BYTE_LEVEL;
        out->add_prefix_space = tj_bool(tj_get(node, "add_prefix_space"), true);
        out->use_regex = tj_bool(tj_get(node, "use_regex"), true);
        for (int b = 0; b < 256; b++) {
            char buf[4];
            out->byte_utf8_len[b] = (uint8_t)utf8_encode(byte_level_char((uint8_t)b), buf);
            memcpy(out->byte_utf8[b], buf, 2);
        }
        return out->use_regex ? tok_pattern_regex(GPT2_PATTERN, &out->pattern, "ByteLevel") : VLM_OK;
    }
    if (strcmp(type, "Digits") == 0) {
        out->type = PRE_DIGITS;
        out->individual_digits = tj_bool(tj_get(node, "individual_digits"), false);
        return VLM_OK;
    }
    if (strcmp(type, "Metaspace") == 0) {
        out->type = PRE_METASPACE;
        return metaspace_from_json(node, out);
    }
    if (strcmp(type, "Whitespace") == 0) {
        out->type = PRE_WHITESPACE;
        return tok_pattern_regex(WHITESPACE_PATTERN, &out->pattern, "Whitespace");
    }
    if (strcmp(type, "WhitespaceSplit") == 0) {
        out->type = PRE_WHITESPACE_SPLIT;
        return VLM_OK;
    }
    if (strcmp(type, "Punctuation") == 0) {
        out->type = PRE_PUNCTUATION;
        const char *b = tj_str(tj_get(node, "behavior"));
        out->behavior = SPLIT_ISOLATED;
        return b ? parse_behavior(b, &out->behavior) : VLM_OK;
    }
    if (strcmp(type, "Sequence") == 0) {
        out->type = PRE_SEQUENCE;
        return sequence_from_json(tj_get(node, "pretokenizers"), out, depth);
    }
    return vlm_error(VLM_ERR_UNSUPPORTED, "pre_tokenizer type \"%s\" is not supported yet", type);
}

void tok_pretokenizer_free(tok_pretokenizer *p) {
    for (size_t i = 0; i < p->n_children; i++) tok_pretokenizer_free(&p->children[i]);
    free(p->children);
    tok_pattern_free(&p->pattern);
    memset(p, 0, sizeof *p);
}

/* ---- splitting one piece ---- */

/* A stretch of a piece: a delimiter match or the text between matches. */
typedef struct span {
    size_t start, end;
    bool match;
} span;

typedef struct span_list {
    span *items;
    size_t n, cap;
} span_list;

static vlm_status span_push(span_list *l, size_t start, size_t end, bool match) {
    vlm_status st = tok_grow(&l->items, l->n, &l->cap, sizeof *l->items, 32);
    if (st) return st;
    l->items[l->n++] = (span){start, end, match};
    return VLM_OK;
}

/* Spans of a pattern's matches and the gaps between them. */
static vlm_status pattern_spans(const tok_pattern *pat, tok_matcher *m, const char *s, size_t len,
                                bool invert, span_list *out) {
    size_t pos = 0, ms, me;
    vlm_status st = VLM_OK;
    while (!st && tok_pattern_find(pat, m, s, len, pos, &ms, &me)) {
        if (ms > pos) st = span_push(out, pos, ms, invert);
        if (!st) st = span_push(out, ms, me, !invert);
        pos = me;
    }
    if (!st && pos < len) st = span_push(out, pos, len, invert);
    return st;
}

typedef bool (*char_class)(uint32_t cp);

static bool is_numeric(uint32_t cp) {
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

static bool is_punctuation(uint32_t cp) {
    if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
                          (cp >= 123 && cp <= 126);
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* Each character of the class is its own match (tokenizers' char patterns). */
static vlm_status class_spans(char_class in_class, const char *s, size_t len, span_list *out) {
    size_t gap = 0;
    for (size_t i = 0; i < len;) {
        size_t start = i;
        if (!in_class(utf8_next(s, &i))) continue;
        vlm_status st = start > gap ? span_push(out, gap, start, false) : VLM_OK;
        if (!st) st = span_push(out, start, i, true);
        if (st) return st;
        gap = i;
    }
    return gap < len ? span_push(out, gap, len, false) : VLM_OK;
}

/* Apply a delimiter behavior to spans (in place) and emit the kept pieces. */
static vlm_status emit_split(const char *s, const tok_piece *piece, span_list *l,
                             tok_split_behavior behavior, tok_pieces *out) {
    size_t n = 0;
    bool prev_match = false;
    if (behavior == SPLIT_MERGED_WITH_NEXT) {
        /* walk backwards: a match joins the piece after it */
        for (size_t k = l->n; k-- > 0;) {
            span sp = l->items[k];
            if (sp.match && !prev_match && n > 0) l->items[l->n - n].start = sp.start;
            else l->items[l->n - ++n] = (span){sp.start, sp.end, false};
            prev_match = sp.match;
        }
        memmove(l->items, l->items + l->n - n, n * sizeof *l->items);
    } else {
        for (size_t k = 0; k < l->n; k++) {
            span sp = l->items[k];
            bool join = false;
            if (behavior == SPLIT_MERGED_WITH_PREVIOUS) join = sp.match && !prev_match;
            else if (behavior == SPLIT_CONTIGUOUS) join = sp.match == prev_match;
            if (join && n > 0) l->items[n - 1].end = sp.end;
            else l->items[n++] = (span){sp.start, sp.end, behavior == SPLIT_REMOVED && sp.match};
            prev_match = sp.match;
        }
    }
    l->n = n;
    for (size_t k = 0; k < n; k++) {
        span sp = l->items[k];
        if (sp.match || sp.end == sp.start) continue; /* removed, or empty */
        vlm_status st = tok_pieces_push(out, s + sp.start, sp.end - sp.start,
                                        sp.start < piece->start_span ? piece->start_span - sp.start : 0);
        if (st) return st;
    }
    return VLM_OK;
}

/* ---- ByteLevel and Metaspace transforms ---- */

/* Map bytes to the byte-level alphabet; span counts input bytes standing
 * for the first character and becomes the count of their output bytes. */
static vlm_status byte_level_map(const tok_pretokenizer *p, const char *s, size_t len, size_t span,
                                 tok_pieces *out) {
    tok_buf *t = &out->text;
    vlm_status st = tok_buf_reserve(t, len * 2);
    if (st) return st;
    size_t start = t->len;
    size_t out_span = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)s[i];
        memcpy(t->data + t->len, p->byte_utf8[b], 2);
        t->len += p->byte_utf8_len[b];
        if (i < span) out_span += p->byte_utf8_len[b];
    }
    t->data[t->len] = 0;
    return tok_pieces_close(out, start, out_span);
}

static vlm_status byte_level_piece(const tok_pretokenizer *p, tok_matcher *m, const char *s,
                                   size_t len, const tok_piece *piece, span_list *spans,
                                   tok_buf *scratch, tok_pieces *out) {
    vlm_status st;
    size_t first = piece->start_span;
    if (p->add_prefix_space && (len == 0 || s[0] != ' ')) {
        scratch->len = 0;
        if ((st = tok_buf_append(scratch, " ", 1)) || (st = tok_buf_append(scratch, s, len))) return st;
        s = scratch->data;
        len = scratch->len;
        if (first) first++; /* the space stands for the first character too */
    }
    if (!p->use_regex) return len ? byte_level_map(p, s, len, first, out) : VLM_OK;
    spans->n = 0;
    if ((st = pattern_spans(&p->pattern, m, s, len, false, spans))) return st;
    for (size_t k = 0; k < spans->n; k++) {
        span sp = spans->items[k];
        if (sp.end > sp.start &&
            (st = byte_level_map(p, s + sp.start, sp.end - sp.start, sp.start < first ? first - sp.start : 0, out)))
            return st;
    }
    return VLM_OK;
}

static vlm_status metaspace_piece(const tok_pretokenizer *p, const char *s, size_t len,
                                  const tok_piece *piece, span_list *spans, tok_buf *scratch,
                                  tok_pieces *out) {
    const char *rep = p->replacement;
    size_t rlen = p->replacement_len;
    scratch->len = 0;
    bool starts_with_rep = len > 0 && (s[0] == ' ' || (len >= rlen && memcmp(s, rep, rlen) == 0));
    bool prepend = !starts_with_rep && (p->prepend_scheme == PREPEND_ALWAYS ||
                                        (p->prepend_scheme == PREPEND_FIRST && piece->start_span));
    vlm_status st = prepend ? tok_buf_append(scratch, rep, rlen) : VLM_OK;
    size_t first = 0;
    for (size_t i = 0; !st && i < len; i++) {
        st = s[i] == ' ' ? tok_buf_append(scratch, rep, rlen) : tok_buf_append(scratch, s + i, 1);
        if (i + 1 == piece->start_span) first = scratch->len; /* output of the first character */
    }
    if (st) return st;
    tok_piece whole = {0, scratch->len, first};
    if (!p->split) return scratch->len ? tok_pieces_push(out, scratch->data, scratch->len, first) : VLM_OK;
    tok_pattern lit = {.literal = (char *)rep, .literal_len = rlen};
    spans->n = 0;
    if ((st = pattern_spans(&lit, NULL, scratch->data, scratch->len, false, spans))) return st;
    return emit_split(scratch->data, &whole, spans, SPLIT_MERGED_WITH_NEXT, out);
}

/* ---- driver ---- */

static vlm_status pretokenize_piece(const tok_pretokenizer *p, tok_matcher *m, const char *s,
                                    const tok_piece *piece, span_list *spans, tok_buf *scratch,
                                    tok_pieces *out) {
    size_t len = piece->len;
    spans->n = 0;
    vlm_status st;
    switch (p->type) {
    case PRE_SPLIT:
        st = pattern_spans(&p->pattern, m, s, len, p->invert, spans);
        return st ? st : emit_split(s, piece, spans, p->behavior, out);
    case PRE_WHITESPACE:
        st = pattern_spans(&p->pattern, m, s, len, true, spans);
        return st ? st : emit_split(s, piece, spans, SPLIT_REMOVED, out);
    case PRE_WHITESPACE_SPLIT:
        st = class_spans(unicode_is_white_space, s, len, spans);
        return st ? st : emit_split(s, piece, spans, SPLIT_REMOVED, out);
    case PRE_PUNCTUATION:
        st = class_spans(is_punctuation, s, len, spans);
        return st ? st : emit_split(s, piece, spans, p->behavior, out);
    case PRE_DIGITS:
        st = class_spans(is_numeric, s, len, spans);
        return st ? st
                  : emit_split(s, piece, spans, p->individual_digits ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS, out);
    case PRE_BYTE_LEVEL: return byte_level_piece(p, m, s, len, piece, spans, scratch, out);
    case PRE_METASPACE: return metaspace_piece(p, s, len, piece, spans, scratch, out);
    case PRE_SEQUENCE: break;
    }
    return vlm_error(VLM_ERR_INTERNAL, "bad pre_tokenizer");
}

vlm_status tok_pretokenize(const tok_pretokenizer *p, tok_matcher *m, tok_pieces *io, tok_pieces *tmp) {
    if (p->type == PRE_SEQUENCE) {
        for (size_t i = 0; i < p->n_children; i++) {
            vlm_status st = tok_pretokenize(&p->children[i], m, io, tmp);
            if (st) return st;
        }
        return VLM_OK;
    }
    span_list spans = {0};
    tok_buf scratch = {0};
    vlm_status st = VLM_OK;
    tok_pieces_clear(tmp);
    for (size_t i = 0; !st && i < io->n; i++)
        st = pretokenize_piece(p, m, tok_piece_str(io, i), &io->items[i], &spans, &scratch, tmp);
    free(spans.items);
    tok_buf_free(&scratch);
    if (st) return st;
    tok_pieces swap = *io;
    *io = *tmp;
    *tmp = swap;
    return VLM_OK;
}
