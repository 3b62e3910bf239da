/*
 * jinja_print.c — how values become text: Python's str() for template
 * output (None, True, 1.5, ['a', 1], {'k': 'v'}) and repr() inside
 * containers, with floats in Python's shortest round-trip form.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text/jinja_runtime.h"

void jfloat_repr(double f, char buf[32]) {
    if (isnan(f)) {
        strcpy(buf, "nan");
        return;
    }
    if (isinf(f)) {
        strcpy(buf, f < 0 ? "-inf" : "inf");
        return;
    }
    char e[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, f);
        if (strtod(e, NULL) == f) break;
    }
    /* e = [-]d[.ddd]e[+-]XX -> digits and decimal exponent */
    char digits[24];
    size_t nd = 0;
    const char *p = e;
    bool neg = *p == '-';
    if (neg) p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    digits[nd] = '\0';
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = '\0';
    char *o = buf;
    if (neg) *o++ = '-';
    if (exp10 < -4 || exp10 >= 16) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, nd - 1);
            o += nd - 1;
        }
        sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        return;
    }
    if (exp10 < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int k = 0; k < -exp10 - 1; k++) *o++ = '0';
        memcpy(o, digits, nd);
        o += nd;
    } else {
        for (int k = 0; k <= exp10; k++) *o++ = (size_t)k < nd ? digits[k] : '0';
        *o++ = '.';
        if ((size_t)exp10 + 1 < nd) {
            memcpy(o, digits + exp10 + 1, nd - (size_t)exp10 - 1);
            o += nd - (size_t)exp10 - 1;
        } else {
            *o++ = '0';
        }
    }
    *o = '\0';
}

/* Python's str.isprintable() for one code point. */
static bool printable(uint32_t cp) {
    if (cp < 0x20 || cp == 0x7F) return false;
    if (cp < 0x7F) return true;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS: return false;
    default: return true;
    }
}

static void write_str_repr(jsb *b, jv s) {
    bool has_single = memchr(s.s, '\'', s.len) != NULL, has_double = memchr(s.s, '"', s.len) != NULL;
    char q = has_single && !has_double ? '"' : '\'';
    jsb_putc(b, q);
    size_t i = 0;
    while (i < s.len) {
        size_t start = i;
        uint32_t cp = jutf8_next(s.s, s.len, &i);
        if (cp == (uint32_t)q || cp == '\\') {
            jsb_putc(b, '\\');
            jsb_putc(b, (char)cp);
        } else if (cp == '\n') jsb_puts(b, "\\n");
        else if (cp == '\r') jsb_puts(b, "\\r");
        else if (cp == '\t') jsb_puts(b, "\\t");
        else if (printable(cp)) jsb_put(b, s.s + start, i - start);
        else if (cp < 0x100) jsb_printf(b, "\\x%02x", cp);
        else if (cp < 0x10000) jsb_printf(b, "\\u%04x", cp);
        else jsb_printf(b, "\\U%08x", cp);
    }
    jsb_putc(b, q);
}

static void write_repr_at(jsb *b, jv v, int depth);
static void write_common(jsb *b, jv v, int depth);

/* Stop at JV_MAX_NESTING with a sticky VLM_ERR_LIMIT instead of recursing on. */
static bool too_deep(jsb *b, int depth) {
    if (depth <= JV_MAX_NESTING) return false;
    if (!b->arena->failure) {
        b->arena->failure = VLM_ERR_LIMIT;
        vlm_error(VLM_ERR_LIMIT, "template value nested deeper than %d levels", JV_MAX_NESTING);
    }
    return true;
}

static void write_seq(jsb *b, jv v, int depth) {
    bool tuple = v.type == JV_TUPLE;
    if (tuple && v.flavor == JK_GROUP && v.l->n == 2) {
        jsb_puts(b, "_GroupTuple(grouper=");
        write_repr_at(b, v.l->items[0], depth + 1);
        jsb_puts(b, ", list=");
        write_repr_at(b, v.l->items[1], depth + 1);
        jsb_putc(b, ')');
        return;
    }
    jsb_putc(b, tuple ? '(' : '[');
    for (size_t i = 0; i < v.l->n; i++) {
        if (i) jsb_puts(b, ", ");
        write_repr_at(b, v.l->items[i], depth + 1);
    }
    if (tuple && v.l->n == 1) jsb_putc(b, ',');
    jsb_putc(b, tuple ? ')' : ']');
}

static void write_dict(jsb *b, const jdict *d, int depth) {
    jsb_putc(b, '{');
    for (size_t i = 0; i < d->n; i++) {
        if (i) jsb_puts(b, ", ");
        write_repr_at(b, d->keys[i], depth + 1);
        jsb_puts(b, ": ");
        write_repr_at(b, d->vals[i], depth + 1);
    }
    jsb_putc(b, '}');
}

static void write_common(jsb *b, jv v, int depth) {
    char buf[32];
    if (too_deep(b, depth)) return;
    if (jv_is_iterator(v)) {
        jsb_printf(b, "<%s object>", jv_type_name(v));
        return;
    }
    switch ((jv_type)v.type) {
    case JV_UNDEFINED: break;
    case JV_NONE: jsb_puts(b, "None"); break;
    case JV_BOOL: jsb_puts(b, v.b ? "True" : "False"); break;
    case JV_INT: jsb_printf(b, "%lld", (long long)v.i); break;
    case JV_FLOAT: jfloat_repr(v.f, buf); jsb_puts(b, buf); break;
    case JV_LIST:
    case JV_TUPLE: write_seq(b, v, depth); break;
    case JV_DICT: write_dict(b, v.d, depth); break;
    case JV_NAMESPACE: jsb_puts(b, "<Namespace "); write_dict(b, v.d, depth); jsb_putc(b, '>'); break;
    case JV_FUNC: jsb_printf(b, "<function %s>", v.fn->name ? v.fn->name : "?"); break;
    case JV_LOOP:
        jsb_printf(b, "<LoopContext %zu/%zu>", v.loop->index0 + 1, v.loop->items->n);
        break;
    case JV_STR: jsb_put(b, v.s, v.len); break;
    }
}

void jwrite_str(jsb *b, jv v) { write_common(b, v, 0); }

static void write_repr_at(jsb *b, jv v, int depth) {
    if (v.type == JV_STR) write_str_repr(b, v);
    else if (v.type == JV_UNDEFINED) jsb_puts(b, "Undefined");
    else write_common(b, v, depth);
}

void jwrite_repr(jsb *b, jv v) { write_repr_at(b, v, 0); }

jv jto_str(jctx *c, jv v) {
    if (v.type == JV_STR) return v;
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    jwrite_str(&b, v);
    return jsb_value(&b);
}
