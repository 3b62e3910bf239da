/*
 * jinja_str.c — output buffer and Python str helpers over UTF-8
 * (see jinja_str.h). Case mapping uses utf8proc's simple mappings.
 */
#include "text/jinja_str.h"

#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

void jsb_init(jsb *b, jarena *a, size_t limit) {
    b->arena = a;
    b->p = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
}

static bool jsb_reserve(jsb *b, size_t extra) {
    if (b->len + extra <= b->cap) return true;
    if (b->limit && b->len + extra > b->limit) {
        if (!b->arena->failure) {
            b->arena->failure = VLM_ERR_LIMIT;
            vlm_error(VLM_ERR_LIMIT, "template output exceeds the limit of %zu bytes", b->limit);
        }
        return false;
    }
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->len + extra) cap *= 2;
    char *p = jarena_alloc(b->arena, cap);
    if (!p) return false;
    if (b->len) memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
    return true;
}

void jsb_put(jsb *b, const char *s, size_t n) {
    if (!n || !jsb_reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void jsb_putc(jsb *b, char c) { jsb_put(b, &c, 1); }

void jsb_printf(jsb *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        jsb_put(b, tmp, (size_t)n);
        return;
    }
    if (!jsb_reserve(b, (size_t)n + 1)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void jsb_put_cp(jsb *b, uint32_t cp) {
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t n = utf8proc_encode_char((utf8proc_int32_t)cp, buf);
    if (n > 0) jsb_put(b, (const char *)buf, (size_t)n);
}

jv jsb_value(const jsb *b) { return jv_str_view(b->p ? b->p : "", b->len); }

uint32_t jutf8_next(const char *s, size_t n, size_t *i) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + *i,
                                          (utf8proc_ssize_t)(n - *i), &cp);
    if (k <= 0) {
        cp = (unsigned char)s[*i];
        k = 1;
    }
    *i += (size_t)k;
    return (uint32_t)cp;
}

size_t jutf8_count(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

size_t jutf8_offset(const char *s, size_t n, size_t cp) {
    size_t i = 0;
    while (cp > 0 && i < n) {
        jutf8_next(s, n, &i);
        cp--;
    }
    return i;
}

bool jpy_isspace(uint32_t cp) {
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85)
        return true;
    if (cp < 0x80) return false;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

static bool in_chars(uint32_t cp, const jv *chars) {
    if (!chars) return jpy_isspace(cp);
    size_t i = 0;
    while (i < chars->len)
        if (jutf8_next(chars->s, chars->len, &i) == cp) return true;
    return false;
}

jv jpy_strip(jv s, const jv *chars, bool left, bool right) {
    size_t start = 0, end = s.len;
    if (left) {
        while (start < end) {
            size_t j = start;
            if (!in_chars(jutf8_next(s.s, end, &j), chars)) break;
            start = j;
        }
    }
    if (right) {
        while (end > start) {
            size_t k = end - 1;
            while (k > start && ((unsigned char)s.s[k] & 0xC0) == 0x80) k--;
            size_t j = k;
            if (!in_chars(jutf8_next(s.s, end, &j), chars)) break;
            end = k;
        }
    }
    return jv_str_view(s.s + start, end - start);
}

/* Python's title(): a letter after a cased letter is lowered, otherwise
 * titled; capitalize(): first upper, rest lower. */
jv jpy_case(jarena *a, jv s, char how) {
    jsb b;
    jsb_init(&b, a, 0);
    size_t i = 0;
    bool prev_cased = false, first = true;
    while (i < s.len) {
        utf8proc_int32_t cp = (utf8proc_int32_t)jutf8_next(s.s, s.len, &i), out = cp;
        switch (how) {
        case 'u': out = utf8proc_toupper(cp); break;
        case 'l': out = utf8proc_tolower(cp); break;
        case 't':
            out = prev_cased ? utf8proc_tolower(cp) : utf8proc_totitle(cp);
            prev_cased = utf8proc_tolower(cp) != cp || utf8proc_toupper(cp) != cp ||
                         utf8proc_category(cp) == UTF8PROC_CATEGORY_LT;
            break;
        case 'c': out = first ? utf8proc_toupper(cp) : utf8proc_tolower(cp); break;
        }
        first = false;
        jsb_put_cp(&b, (uint32_t)out);
    }
    return jsb_value(&b);
}
