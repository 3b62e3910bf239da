/*
 * tokenizer_normalizer.c — tokenizer.json "normalizer": text rewriting
 * before pre-tokenization (Unicode normal forms through utf8proc, Replace,
 * Prepend, Lowercase, Strip, Sequence). Unknown types are refused at load
 * with VLM_ERR_UNSUPPORTED.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/error.h"
#include "text/tokenizer.h"
#include "text/tokenizer_utf8.h"

#define MAX_DEPTH 16

static vlm_status dup_string(const tj_node *n, char **out, const char *what) {
    const char *s = tj_str(n);
    if (!s) return vlm_error(VLM_ERR_FORMAT, "normalizer %s: missing string field", what);
    *out = vlm_malloc(n->len + 1);
    if (!*out) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(*out, s, n->len + 1);
    return VLM_OK;
}

static vlm_status sequence_from_json(const tj_node *list, tok_normalizer *out, int depth) {
    if (!tj_is(list, TJ_ARRAY))
        return vlm_error(VLM_ERR_FORMAT, "normalizer Sequence: \"normalizers\" must be a list");
    out->children = vlm_calloc(list->count, sizeof *out->children);
    if (!out->children) return VLM_ERR_OUT_OF_MEMORY;
    for (const tj_node *c = list->v.child; c; c = c->next) {
        /* counted before checking, so that free releases a half-built child */
        vlm_status st = tok_normalizer_from_json(c, &out->children[out->n_children++], depth + 1);
        if (st) return st;
    }
    return VLM_OK;
}

vlm_status tok_normalizer_from_json(const tj_node *node, tok_normalizer *out, int depth) {
    memset(out, 0, sizeof *out);
    if (depth > MAX_DEPTH) return vlm_error(VLM_ERR_LIMIT, "normalizer nesting too deep");
    const char *type = tj_str(tj_get(node, "type"));
    if (!type) return vlm_error(VLM_ERR_FORMAT, "normalizer without a \"type\"");
    static const struct { const char *name; tok_norm_type type; } simple[] = {
        {"NFC", NORM_NFC}, {"NFD", NORM_NFD}, {"NFKC", NORM_NFKC}, {"NFKD", NORM_NFKD},
        {"Lowercase", NORM_LOWERCASE}};
    for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
        if (strcmp(type, simple[i].name) == 0) {
            out->type = simple[i].type;
            return VLM_OK;
        }
    if (strcmp(type, "Prepend") == 0) {
        out->type = NORM_PREPEND;
        return dup_string(tj_get(node, "prepend"), &out->content, type);
    }
    if (strcmp(type, "Replace") == 0) {
        out->type = NORM_REPLACE;
        vlm_status st = dup_string(tj_get(node, "content"), &out->content, type);
        return st ? st : tok_pattern_from_json(tj_get(node, "pattern"), &out->pattern, "normalizer Replace");
    }
    if (strcmp(type, "Strip") == 0) {
        out->type = NORM_STRIP;
        out->strip_left = tj_bool(tj_get(node, "strip_left"), true);
        out->strip_right = tj_bool(tj_get(node, "strip_right"), true);
        return VLM_OK;
    }
    if (strcmp(type, "Sequence") == 0) {
        out->type = NORM_SEQUENCE;
        return sequence_from_json(tj_get(node, "normalizers"), out, depth);
    }
    return vlm_error(VLM_ERR_UNSUPPORTED, "normalizer type \"%s\" is not supported yet", type);
}

void tok_normalizer_free(tok_normalizer *n) {
    for (size_t i = 0; i < n->n_children; i++) tok_normalizer_free(&n->children[i]);
    free(n->children);
    free(n->content);
    tok_pattern_free(&n->pattern);
    memset(n, 0, sizeof *n);
}

/* ---- the individual rewrites; each writes the result into out ---- */

static vlm_status map_form(tok_norm_type type, const char *s, size_t len, tok_buf *out) {
    int opts = UTF8PROC_STABLE;
    if (type == NORM_NFC || type == NORM_NFKC) opts |= UTF8PROC_COMPOSE;
    else opts |= UTF8PROC_DECOMPOSE;
    if (type == NORM_NFKC || type == NORM_NFKD) opts |= UTF8PROC_COMPAT;
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
                                      (utf8proc_option_t)opts);
    if (n < 0) return vlm_error(VLM_ERR_INTERNAL, "unicode normalization failed: %s", utf8proc_errmsg(n));
    vlm_status st = tok_buf_append(out, (const char *)dst, (size_t)n);
    free(dst);
    return st;
}

/* A character NFC/NFKC leaves alone and never combines with a neighbour:
 * a starter with no decomposition (canonical, or any for NFKC) that is in
 * no composition pair and is not Hangul. */
static bool is_inert(uint32_t cp, bool compat) {
    if ((cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7FF))
        return false;
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
    bool decomposes = p->decomp_seqindex != UINT16_MAX && (compat || p->decomp_type == 0);
    return p->combining_class == 0 && p->comb_index == UINT16_MAX && !decomposes;
}

/* NFC/NFKC work per stretch: the text can be cut before any ASCII or
 * inert character (a starter nothing composes with), and stretches made
 * of ASCII and inert characters only are already normalized. Only the
 * stretches around other characters go through utf8proc. */
static vlm_status compose_form(tok_norm_type type, const char *s, size_t len, tok_buf *out) {
    bool compat = type == NORM_NFKC, dirty = false;
    size_t copied = 0, stretch = 0;
    vlm_status st = tok_buf_reserve(out, len);
    for (size_t i = 0; !st && i < len;) {
        size_t start = i;
        uint32_t cp = (unsigned char)s[i] < 0x80 ? (uint32_t)s[i++] : utf8_next(s, &i);
        bool inert = cp >= 0x80 && is_inert(cp, compat);
        if (cp < 0x80 || inert) { /* a safe cut before this character */
            if (dirty && !(st = tok_buf_append(out, s + copied, stretch - copied)))
                st = map_form(type, s + stretch, start - stretch, out), copied = start;
            dirty = false;
            stretch = start;
        }
        if (cp >= 0x80 && !inert) dirty = true;
    }
    if (!st && dirty && !(st = tok_buf_append(out, s + copied, stretch - copied)))
        return map_form(type, s + stretch, len - stretch, out);
    return st ? st : tok_buf_append(out, s + copied, len - copied);
}

static vlm_status unicode_form(tok_norm_type type, const char *s, size_t len, tok_buf *out) {
    if (type == NORM_NFC || type == NORM_NFKC) return compose_form(type, s, len, out);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) return map_form(type, s, len, out);
    return tok_buf_append(out, s, len); /* ASCII has no decompositions */
}

static vlm_status lowercase(const char *s, size_t len, tok_buf *out) {
    vlm_status st = tok_buf_reserve(out, len * 2);
    if (st) return st;
    for (size_t i = 0; i < len;) {
        uint32_t cp = utf8_next(s, &i);
        char buf[8];
        size_t n;
        if (cp == 0x130) { /* İ lowercases to "i̇" (two code points), as Rust does */
            memcpy(buf, "i\xCC\x87", 3);
            n = 3;
        } else {
            n = utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), buf);
        }
        if ((st = tok_buf_append(out, buf, n))) return st;
    }
    return VLM_OK;
}

/* Replace matches by the content; content stands where its match began,
 * and text deleted at the very start moves the start away (span 0). */
static vlm_status replace(const tok_normalizer *n, tok_matcher *m, const char *s, size_t len, tok_buf *out,
                          size_t *span) {
    size_t pos = 0, ms, me, in_span = *span, out_span = 0;
    size_t clen = strlen(n->content);
    bool start_kept = true;
    vlm_status st;
    while (tok_pattern_find(&n->pattern, m, s, len, pos, &ms, &me)) {
        if (ms == 0 && clen == 0) start_kept = false;
        if (pos < in_span) out_span += (ms < in_span ? ms : in_span) - pos;
        if (ms < in_span) out_span += clen;
        if ((st = tok_buf_append(out, s + pos, ms - pos)) || (st = tok_buf_append(out, n->content, clen)))
            return st;
        pos = me;
    }
    if (pos < in_span) out_span += in_span - pos;
    *span = start_kept ? out_span : 0;
    return tok_buf_append(out, s + pos, len - pos);
}

static vlm_status strip(const tok_normalizer *n, const char *s, size_t len, tok_buf *out, size_t *span) {
    size_t start = 0, end = len;
    if (n->strip_left)
        while (start < len) {
            size_t i = start;
            if (!unicode_is_white_space(utf8_next(s, &i))) break;
            start = i;
        }
    if (n->strip_right)
        while (end > start) {
            size_t i = end - 1;
            while (i > start && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
            size_t j = i;
            if (!unicode_is_white_space(utf8_next(s, &j))) break;
            end = i;
        }
    *span = start > 0 ? 0 : (*span < end ? *span : end);
    return tok_buf_append(out, s + start, end - start);
}

/* Normal forms and lowercasing rewrite character by character: the first
 * character's bytes become the rewrite of the first span bytes alone. */
static vlm_status per_character(const tok_normalizer *n, const char *s, size_t len, tok_buf *out, size_t *span) {
    vlm_status st = n->type == NORM_LOWERCASE ? lowercase(s, len, out) : unicode_form(n->type, s, len, out);
    if (st || *span == 0 || *span >= len) {
        if (*span >= len) *span = out->len;
        return st;
    }
    tok_buf head = {0};
    st = n->type == NORM_LOWERCASE ? lowercase(s, *span, &head) : unicode_form(n->type, s, *span, &head);
    *span = head.len;
    tok_buf_free(&head);
    return st;
}

vlm_status tok_normalize(const tok_normalizer *n, tok_matcher *m, const char *s, size_t len, tok_buf *out,
                         size_t *start_span) {
    size_t ignored = 0;
    size_t *span = start_span ? start_span : &ignored;
    out->len = 0;
    switch (n->type) {
    case NORM_NFC:
    case NORM_NFD:
    case NORM_NFKC:
    case NORM_NFKD:
    case NORM_LOWERCASE: return per_character(n, s, len, out, span);
    case NORM_PREPEND: {
        size_t plen = strlen(n->content);
        vlm_status st = len ? tok_buf_append(out, n->content, plen) : VLM_OK;
        if (len && *span) *span += plen; /* prepended text stands for the first character */
        return st ? st : tok_buf_append(out, s, len);
    }
    case NORM_REPLACE: return replace(n, m, s, len, out, span);
    case NORM_STRIP: return strip(n, s, len, out, span);
    case NORM_SEQUENCE: {
        vlm_status st = tok_buf_append(out, s, len);
        tok_buf tmp = {0};
        for (size_t i = 0; !st && i < n->n_children; i++) {
            st = tok_normalize(&n->children[i], m, out->data, out->len, &tmp, span);
            tok_buf swap = *out;
            *out = tmp;
            tmp = swap;
        }
        tok_buf_free(&tmp);
        return st;
    }
    }
    return vlm_error(VLM_ERR_INTERNAL, "bad normalizer");
}
