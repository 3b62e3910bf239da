/*
 * tokenizer_pattern.c — the patterns of Split pre-tokenizers and Replace
 * normalizers/decoders: a literal string or a regex.
 *
 * tokenizers compiles regexes with Oniguruma (Ruby syntax, UTF-8). We use
 * PCRE2 with JIT and translate the few escapes whose meaning differs:
 *   \s  Oniguruma: Unicode White_Space (includes U+0085); PCRE2 UCP omits
 *       U+0085, so it becomes [\t-\r\x{85}\p{Z}]
 *   \w  Oniguruma: letters, marks, decimal digits, connector punctuation
 *   \h  Oniguruma (Ruby): a hexadecimal digit, not horizontal space
 * Everything the HF tokenizers use (\p{L}, (?i:...), lookahead, possessive
 * quantifiers, {m,n}) is native PCRE2 syntax.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

#define SPACE_SET "\\t-\\r\\x{85}\\p{Z}"
#define WORD_SET "\\p{L}\\p{M}\\p{Nd}\\p{Pc}"
#define HEX_SET "0-9a-fA-F"

/* Replacement for escape letter c, inside or outside a class. */
static const char *translate_escape(char c, bool in_class) {
    switch (c) {
    case 's': return in_class ? SPACE_SET : "[" SPACE_SET "]";
    case 'S': return in_class ? NULL : "[^" SPACE_SET "]";
    case 'w': return in_class ? WORD_SET : "[" WORD_SET "]";
    case 'W': return in_class ? NULL : "[^" WORD_SET "]";
    case 'h': return in_class ? HEX_SET : "[" HEX_SET "]";
    case 'H': return in_class ? NULL : "[^" HEX_SET "]";
    default: return NULL;
    }
}

static vlm_status translate_onig(const char *src, tok_buf *out) {
    bool in_class = false;
    for (size_t i = 0; src[i]; i++) {
        char c = src[i];
        vlm_status st;
        if (c == '\\' && src[i + 1]) {
            const char *rep = translate_escape(src[i + 1], in_class);
            if (rep) st = tok_buf_append(out, rep, strlen(rep));
            else st = tok_buf_append(out, src + i, 2);
            i++;
        } else {
            if (c == '[' && !in_class) {
                in_class = true;
                st = tok_buf_append(out, src + i, 1);
                /* a leading ']' (or '^]') is literal inside a class */
                if (src[i + 1] == '^') st = st ? st : tok_buf_append(out, src + ++i, 1);
                if (src[i + 1] == ']') st = st ? st : tok_buf_append(out, src + ++i, 1);
                if (st) return st;
                continue;
            }
            if (c == ']' && in_class) in_class = false;
            st = tok_buf_append(out, src + i, 1);
        }
        if (st) return st;
    }
    return tok_buf_append(out, "", 0);
}

vlm_status tok_pattern_regex(const char *onig, tok_pattern *out, const char *what) {
    memset(out, 0, sizeof *out);
    tok_buf pcre = {0};
    vlm_status st = translate_onig(onig, &pcre);
    if (st) return st;
    int err;
    PCRE2_SIZE off;
    out->re = pcre2_compile((PCRE2_SPTR)pcre.data, pcre.len, PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK,
                            &err, &off, NULL);
    tok_buf_free(&pcre);
    if (!out->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        return vlm_error(VLM_ERR_UNSUPPORTED, "%s: cannot compile regex \"%.80s\": %s", what, onig,
                         (const char *)msg);
    }
    pcre2_jit_compile(out->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    return VLM_OK;
}

vlm_status tok_pattern_from_json(const tj_node *node, tok_pattern *out, const char *what) {
    memset(out, 0, sizeof *out);
    const char *s = tj_str(tj_get(node, "String"));
    if (s) {
        const tj_node *n = tj_get(node, "String");
        out->literal = vlm_malloc(n->len + 1);
        if (!out->literal) return VLM_ERR_OUT_OF_MEMORY;
        memcpy(out->literal, s, n->len + 1);
        out->literal_len = n->len;
        return VLM_OK;
    }
    const char *re = tj_str(tj_get(node, "Regex"));
    if (re) return tok_pattern_regex(re, out, what);
    return vlm_error(VLM_ERR_FORMAT, "%s: pattern must be {\"String\": ...} or {\"Regex\": ...}", what);
}

void tok_pattern_free(tok_pattern *p) {
    free(p->literal);
    if (p->re) pcre2_code_free(p->re);
    memset(p, 0, sizeof *p);
}

vlm_status tok_matcher_init(tok_matcher *m) {
    m->md = pcre2_match_data_create(4, NULL);
    if (!m->md) return vlm_error(VLM_ERR_OUT_OF_MEMORY, "out of memory (regex match data)");
    return VLM_OK;
}

void tok_matcher_free(tok_matcher *m) {
    if (m->md) pcre2_match_data_free(m->md);
    m->md = NULL;
}

static bool find_literal(const tok_pattern *p, const char *s, size_t len, size_t from, size_t *ms,
                         size_t *me) {
    if (p->literal_len == 0 || from >= len) return false;
    const char *hit = memmem(s + from, len - from, p->literal, p->literal_len);
    if (!hit) return false;
    *ms = (size_t)(hit - s);
    *me = *ms + p->literal_len;
    return true;
}

bool tok_pattern_find(const tok_pattern *p, tok_matcher *m, const char *s, size_t len,
                      size_t from, size_t *ms, size_t *me) {
    if (!p->re) return find_literal(p, s, len, from, ms, me);
    while (from <= len) {
        int rc = pcre2_match(p->re, (PCRE2_SPTR)s, len, from, PCRE2_NO_UTF_CHECK, m->md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* the interpreter keeps its backtracking on the heap */
            rc = pcre2_match(p->re, (PCRE2_SPTR)s, len, from, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, m->md, NULL);
        if (rc < 0) return false;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m->md);
        if (ov[1] > ov[0]) {
            *ms = ov[0];
            *me = ov[1];
            return true;
        }
        /* an empty match splits nothing: look again one character later */
        if (ov[0] >= len) return false;
        from = ov[0] + 1;
        while (from < len && ((unsigned char)s[from] & 0xC0) == 0x80) from++;
    }
    return false;
}
