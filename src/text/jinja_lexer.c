/*
 * jinja_lexer.c — Jinja2's lexer rules in C (see jinja_lexer.h).
 *
 * Mirrors jinja2/lexer.py: text up to the next `{{`, `{%` or `{#`, whose
 * trailing whitespace is removed by a `-` on the tag, or (lstrip_blocks) the
 * spaces before a block/comment tag when they start the line; after `%}`
 * or `#}` one newline is dropped (trim_blocks) unless `+%}`; `-%}` / `-}}`
 * eat all following whitespace. Inside tags: names, numbers, strings and
 * operators, with bracket balancing so `}}` inside a dict literal is not
 * the end of the tag.
 */
#include "text/jinja_lexer.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/jinja_str.h"

#define MAX_BRACKET_DEPTH 256

vlm_status jsource_init(jsource *s, jarena *a, const char *name, const char *src, size_t len) {
    s->name = name ? name : "template";
    s->text = jarena_alloc(a, len + 1);
    if (!s->text) return a->failure;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] == '\r') {
            s->text[o++] = '\n';
            if (i + 1 < len && src[i + 1] == '\n') i++;
        } else {
            s->text[o++] = src[i];
        }
    }
    if (o > 0 && s->text[o - 1] == '\n') o--; /* keep_trailing_newline=False */
    s->text[o] = '\0';
    s->len = o;
    return VLM_OK;
}

void jsource_linecol(const jsource *s, size_t pos, int *line, int *col) {
    int l = 1;
    size_t start = 0;
    if (pos > s->len) pos = s->len;
    for (size_t i = 0; i < pos; i++)
        if (s->text[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = (int)jutf8_count(s->text + start, pos - start) + 1;
}

vlm_status jsource_syntax_error(const jsource *s, size_t pos, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    jsource_linecol(s, pos, &line, &col);
    return vlm_error(VLM_ERR_TEMPLATE, "%s:%d:%d: TemplateSyntaxError: %s", s->name, line, col, msg);
}

typedef struct lexer {
    jarena *arena;
    const jsource *src;
    const char *t; /* source text */
    size_t n, pos;
    bool line_starting;
    jtoken *toks;
    size_t ntoks, cap;
    char brackets[MAX_BRACKET_DEPTH];
    int depth;
} lexer;

static jtoken *emit(lexer *L, jtok_type type, size_t pos, const char *s, size_t len) {
    if (L->ntoks == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 64;
        jtoken *t = jarena_alloc(L->arena, cap * sizeof *t);
        if (!t) return NULL;
        if (L->ntoks) memcpy(t, L->toks, L->ntoks * sizeof *t);
        L->toks = t;
        L->cap = cap;
    }
    jtoken *tok = &L->toks[L->ntoks++];
    memset(tok, 0, sizeof *tok);
    tok->type = (uint8_t)type;
    tok->pos = (uint32_t)pos;
    tok->s = s;
    tok->len = len;
    return tok;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Python's \s+ fullmatch over text[from, to): whitespace only, non-empty. */
static bool all_space(const char *s, size_t from, size_t to) {
    if (from >= to) return false;
    size_t i = from;
    while (i < to)
        if (!jpy_isspace(jutf8_next(s, to, &i))) return false;
    return true;
}

/* Python str.rstrip() end offset. */
static size_t rstrip_end(const char *s, size_t from, size_t to) {
    jv v = jpy_strip(jv_str_view(s + from, to - from), NULL, false, true);
    return from + v.len;
}

/* Emit the text before a tag, applying `-` / lstrip_blocks. */
static vlm_status emit_text(lexer *L, size_t from, size_t to, char sign, bool is_variable) {
    if (sign == '-') {
        to = rstrip_end(L->t, from, to);
    } else if (sign != '+' && !is_variable) {
        size_t l_pos = to;
        while (l_pos > from && L->t[l_pos - 1] != '\n') l_pos--;
        bool after_newline = l_pos > from;
        if ((after_newline || L->line_starting) && all_space(L->t, l_pos, to)) to = l_pos;
    }
    if (to > from && !emit(L, JT_DATA, from, L->t + from, to - from)) return L->arena->failure;
    return VLM_OK;
}

/* Skip whitespace after a `-` closer; returns the new position. */
static size_t skip_ws(lexer *L, size_t p) {
    while (p < L->n) {
        size_t q = p;
        if (!jpy_isspace(jutf8_next(L->t, L->n, &q))) break;
        p = q;
    }
    return p;
}

/* After a tag closer at [p, p+2): handle -, + and trim_blocks. Returns the
 * position after the closer; sign is the char before it. */
static size_t close_tag(lexer *L, size_t p, char sign, bool trims) {
    size_t e = p + 2;
    if (sign == '-') e = skip_ws(L, e);
    else if (sign != '+' && trims && e < L->n && L->t[e] == '\n') e++;
    L->line_starting = e > 0 && L->t[e - 1] == '\n';
    return e;
}

static vlm_status lex_comment(lexer *L, size_t open) {
    const char *end = strstr(L->t + L->pos, "#}");
    if (!end) return jsource_syntax_error(L->src, open, "Missing end of comment tag");
    size_t p = (size_t)(end - L->t);
    char sign = p > L->pos && (L->t[p - 1] == '-' || L->t[p - 1] == '+') ? L->t[p - 1] : 0;
    L->pos = close_tag(L, p, sign, true);
    return VLM_OK;
}

/* `{% raw %}` at tag_start? Sets *body to the position after its closer. */
static bool match_raw_begin(lexer *L, size_t tag_start, size_t *body) {
    size_t p = tag_start + 2;
    if (p < L->n && (L->t[p] == '-' || L->t[p] == '+')) p++;
    while (p < L->n && is_ws(L->t[p])) p++;
    if (L->n - p < 3 || memcmp(L->t + p, "raw", 3)) return false;
    p += 3;
    while (p < L->n && is_ws(L->t[p])) p++;
    if (p + 2 < L->n + 1 && L->t[p] == '-' && p + 2 < L->n && !memcmp(L->t + p + 1, "%}", 2)) {
        *body = skip_ws(L, p + 3);
        return true;
    }
    if (p + 1 < L->n && !memcmp(L->t + p, "%}", 2)) {
        *body = p + 2;
        return true;
    }
    return false;
}

static vlm_status lex_raw(lexer *L, size_t open, size_t body) {
    for (size_t p = body; p + 1 < L->n; p++) {
        if (L->t[p] != '{' || L->t[p + 1] != '%') continue;
        size_t q = p + 2;
        char sign = 0;
        if (q < L->n && (L->t[q] == '-' || L->t[q] == '+')) sign = L->t[q++];
        while (q < L->n && is_ws(L->t[q])) q++;
        if (L->n - q < 6 || memcmp(L->t + q, "endraw", 6)) continue;
        q += 6;
        while (q < L->n && is_ws(L->t[q])) q++;
        char close_sign = 0;
        if (q < L->n && (L->t[q] == '-' || L->t[q] == '+')) close_sign = L->t[q++];
        if (q + 1 >= L->n || memcmp(L->t + q, "%}", 2)) continue;
        L->line_starting = false;
        vlm_status st = emit_text(L, body, p, sign, false);
        if (st) return st;
        L->pos = close_tag(L, q, close_sign, true);
        return VLM_OK;
    }
    return jsource_syntax_error(L->src, open, "Missing end of raw directive");
}

static vlm_status lex_string(lexer *L) {
    size_t start = L->pos;
    char quote = L->t[L->pos++];
    jsb b;
    jsb_init(&b, L->arena, 0);
    while (L->pos < L->n && L->t[L->pos] != quote) {
        char c = L->t[L->pos++];
        if (c != '\\') {
            jsb_putc(&b, c);
            continue;
        }
        if (L->pos >= L->n) break;
        char e = L->t[L->pos++];
        int hex = 0;
        switch (e) {
        case 'n': jsb_putc(&b, '\n'); break;
        case 't': jsb_putc(&b, '\t'); break;
        case 'r': jsb_putc(&b, '\r'); break;
        case 'a': jsb_putc(&b, '\a'); break;
        case 'b': jsb_putc(&b, '\b'); break;
        case 'f': jsb_putc(&b, '\f'); break;
        case 'v': jsb_putc(&b, '\v'); break;
        case '\\': case '\'': case '"': jsb_putc(&b, e); break;
        case '\n': break; /* line continuation */
        case 'x': hex = 2; break;
        case 'u': hex = 4; break;
        case 'U': hex = 8; break;
        default:
            if (e >= '0' && e <= '7') {
                unsigned v = (unsigned)(e - '0');
                for (int k = 0; k < 2 && L->pos < L->n && L->t[L->pos] >= '0' && L->t[L->pos] <= '7'; k++)
                    v = v * 8 + (unsigned)(L->t[L->pos++] - '0');
                jsb_put_cp(&b, v);
            } else {
                jsb_putc(&b, '\\');
                jsb_putc(&b, e);
            }
        }
        if (hex) {
            uint32_t v = 0;
            for (int k = 0; k < hex; k++) {
                if (L->pos >= L->n || !isxdigit((unsigned char)L->t[L->pos]))
                    return jsource_syntax_error(L->src, start, "truncated \\%cXX escape", e);
                char h = L->t[L->pos++];
                v = v * 16 + (uint32_t)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
            }
            if (v > 0x10FFFF) return jsource_syntax_error(L->src, start, "illegal Unicode character");
            jsb_put_cp(&b, v);
        }
    }
    if (L->pos >= L->n) return jsource_syntax_error(L->src, start, "unexpected end of string");
    L->pos++;
    jtoken *t = emit(L, JT_STRING, start, b.p ? b.p : "", b.len);
    return t ? VLM_OK : L->arena->failure;
}

/* Digits with optional single underscores between them. */
static size_t scan_digits(const char *t, size_t n, size_t p, int base) {
    size_t q = p;
    while (q < n) {
        char c = t[q];
        if (c == '_' && q > p && q + 1 < n && isxdigit((unsigned char)t[q + 1])) {
            q++;
            continue;
        }
        int d = isdigit((unsigned char)c) ? c - '0' : isxdigit((unsigned char)c) ? tolower(c) - 'a' + 10 : 99;
        if (d >= base) break;
        q++;
    }
    return q;
}

static vlm_status lex_number(lexer *L) {
    size_t start = L->pos, n = L->n;
    const char *t = L->t;
    int base = 10;
    size_t p = start;
    if (t[p] == '0' && p + 1 < n && strchr("bBoOxX", t[p + 1])) {
        char k = (char)tolower(t[p + 1]);
        base = k == 'b' ? 2 : k == 'o' ? 8 : 16;
        p += 2;
        if (p < n && t[p] == '_') p++;
    }
    size_t q = scan_digits(t, n, p, base);
    bool is_float = false;
    if (base == 10 && !(start > 0 && t[start - 1] == '.')) {
        size_t r = q;
        if (r + 1 < n && t[r] == '.' && isdigit((unsigned char)t[r + 1])) {
            r = scan_digits(t, n, r + 1, 10);
            is_float = true;
        }
        if (r < n && (t[r] == 'e' || t[r] == 'E')) {
            size_t s = r + 1;
            if (s < n && (t[s] == '+' || t[s] == '-')) s++;
            if (s < n && isdigit((unsigned char)t[s])) {
                r = scan_digits(t, n, s, 10);
                is_float = true;
            }
        }
        if (is_float) q = r;
    }
    char buf[128];
    size_t k = 0;
    for (size_t i = (is_float || base == 10) ? start : p; i < q && k + 1 < sizeof buf; i++)
        if (t[i] != '_') buf[k++] = t[i];
    buf[k] = '\0';
    jtoken *tok = emit(L, is_float ? JT_FLOAT : JT_INT, start, t + start, q - start);
    if (!tok) return L->arena->failure;
    errno = 0;
    if (is_float) {
        tok->f = strtod(buf, NULL);
    } else {
        unsigned long long v = strtoull(buf, NULL, base);
        if (errno || v > INT64_MAX)
            return jsource_syntax_error(L->src, start, "integer literal too large");
        tok->i = (int64_t)v;
    }
    L->pos = q;
    return VLM_OK;
}

static const char *const two_char_ops[] = {"//", "**", "==", "!=", ">=", "<="};

static vlm_status lex_operator(lexer *L) {
    size_t p = L->pos;
    for (size_t k = 0; k < sizeof two_char_ops / sizeof *two_char_ops; k++)
        if (p + 1 < L->n && !memcmp(L->t + p, two_char_ops[k], 2)) {
            L->pos += 2;
            return emit(L, JT_OP, p, L->t + p, 2) ? VLM_OK : L->arena->failure;
        }
    char c = L->t[p];
    if (!strchr("+-/*%~[](){}><=.:|,;", c) || c == '\0')
        return jsource_syntax_error(L->src, p, "unexpected char '%c' at %zu", c, p);
    if (c == '(' || c == '[' || c == '{') {
        if (L->depth >= MAX_BRACKET_DEPTH)
            return vlm_error(VLM_ERR_LIMIT, "%s: brackets nested deeper than %d", L->src->name,
                             MAX_BRACKET_DEPTH);
        L->brackets[L->depth++] = c == '(' ? ')' : c == '[' ? ']' : '}';
    } else if (c == ')' || c == ']' || c == '}') {
        if (!L->depth) return jsource_syntax_error(L->src, p, "unexpected '%c'", c);
        char want = L->brackets[--L->depth];
        if (want != c) return jsource_syntax_error(L->src, p, "unexpected '%c', expected '%c'", c, want);
    }
    L->pos++;
    return emit(L, JT_OP, p, L->t + p, 1) ? VLM_OK : L->arena->failure;
}

/* Tokens inside {{ }} or {% %} up to and including the closer. */
static vlm_status lex_tag(lexer *L, size_t open, bool is_block) {
    const char *closer = is_block ? "%}" : "}}";
    L->depth = 0;
    for (;;) {
        while (L->pos < L->n && is_ws(L->t[L->pos])) L->pos++;
        if (L->pos >= L->n)
            return jsource_syntax_error(L->src, open, "unexpected end of template, expected '%s'", closer);
        size_t p = L->pos;
        char c = L->t[p];
        if (!L->depth) {
            char sign = (c == '-' || c == '+') ? c : 0;
            size_t q = sign ? p + 1 : p;
            if (q + 1 < L->n && !memcmp(L->t + q, closer, 2) && (sign != '+' || is_block)) {
                if (!emit(L, is_block ? JT_BLOCK_END : JT_VAR_END, p, L->t + p, 0)) return L->arena->failure;
                L->pos = close_tag(L, q, sign, is_block);
                return VLM_OK;
            }
        }
        vlm_status st;
        if (isalpha((unsigned char)c) || c == '_') {
            size_t q = p;
            while (q < L->n && (isalnum((unsigned char)L->t[q]) || L->t[q] == '_')) q++;
            st = emit(L, JT_NAME, p, L->t + p, q - p) ? VLM_OK : L->arena->failure;
            L->pos = q;
        } else if (isdigit((unsigned char)c)) {
            st = lex_number(L);
        } else if (c == '\'' || c == '"') {
            st = lex_string(L);
        } else {
            st = lex_operator(L);
        }
        if (st) return st;
    }
}

vlm_status jlex(jarena *a, const jsource *src, jtoken **tokens, size_t *n_tokens) {
    lexer L = {.arena = a, .src = src, .t = src->text, .n = src->len, .line_starting = true};
    while (L.pos < L.n) {
        const char *open = NULL;
        for (const char *s = L.t + L.pos; (s = strchr(s, '{')) != NULL; s++)
            if (s[1] == '{' || s[1] == '%' || s[1] == '#') {
                open = s;
                break;
            }
        if (!open) {
            if (!emit(&L, JT_DATA, L.pos, L.t + L.pos, L.n - L.pos)) return a->failure;
            break;
        }
        size_t at = (size_t)(open - L.t);
        char kind = open[1];
        char sign = (open[2] == '-' || open[2] == '+') ? open[2] : 0;
        size_t raw_body;
        vlm_status st;
        if (kind == '%' && match_raw_begin(&L, at, &raw_body)) {
            st = emit_text(&L, L.pos, at, sign, false);
            if (!st) st = lex_raw(&L, at, raw_body);
        } else if (kind == '#') {
            st = emit_text(&L, L.pos, at, sign, false);
            L.pos = at + 2 + (sign ? 1 : 0);
            if (!st) st = lex_comment(&L, at);
        } else {
            bool is_block = kind == '%';
            st = emit_text(&L, L.pos, at, sign, !is_block);
            if (!st && !emit(&L, is_block ? JT_BLOCK_BEGIN : JT_VAR_BEGIN, at, open, 2)) st = a->failure;
            L.pos = at + 2 + (sign ? 1 : 0);
            L.line_starting = false;
            if (!st) st = lex_tag(&L, at, is_block);
        }
        if (st) return st;
    }
    if (!emit(&L, JT_EOF, L.n, L.t + L.n, 0)) return a->failure;
    *tokens = L.toks;
    *n_tokens = L.ntoks;
    return VLM_OK;
}
