/*
 * jinja_format.c — Python's two string formatting languages as templates
 * use them: `"%-5s|%.2f" % args` (printf style, also the format filter)
 * and the format-spec mini language of str.format ("{:>8.2f}").
 * Both parse into one spec and share the number and padding code.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/jinja_runtime.h"

typedef struct fspec {
    char fill, align; /* align: 0 (type default), '<', '>', '^', '=' */
    char sign;        /* 0, '+', '-', ' ' */
    bool alt, zero, grouping;
    int width, precision; /* -1: not given */
    char type;            /* 0 or a conversion letter */
} fspec;

static void pad_to(jsb *b, const fspec *s, const char *body, size_t len, bool numeric) {
    size_t chars = jutf8_count(body, len);
    size_t pad = s->width > 0 && (size_t)s->width > chars ? (size_t)s->width - chars : 0;
    char align = s->align ? s->align : numeric ? '>' : '<';
    char fill = s->fill ? s->fill : ' ';
    size_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0;
    if (align == '=' && len && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) {
        jsb_putc(b, body[0]);
        body++;
        len--;
        left = pad;
    } else if (align == '=') {
        left = pad;
    }
    for (size_t i = 0; i < left; i++) jsb_putc(b, fill);
    jsb_put(b, body, len);
    for (size_t i = left; i < pad; i++) jsb_putc(b, fill);
}

/* Digits with a thousands separator inserted. */
static void group_digits(char *num, size_t cap) {
    char *dot = strpbrk(num, ".eE");
    size_t int_end = dot ? (size_t)(dot - num) : strlen(num), start = (num[0] == '-' || num[0] == '+' || num[0] == ' ');
    size_t digits = int_end - start;
    if (digits <= 3) return;
    size_t commas = (digits - 1) / 3, len = strlen(num);
    if (len + commas + 1 > cap) return;
    memmove(num + int_end + commas, num + int_end, len - int_end + 1);
    for (size_t i = digits, o = int_end + commas, k = 0; i-- > 0; k++) {
        if (k && k % 3 == 0) num[--o] = ',';
        num[--o] = num[start + i];
    }
}

static vlm_status format_number(jctx *c, const jnode *at, jv v, const fspec *s, jsb *b) {
    char num[400], cfmt[32];
    char type = s->type;
    bool is_int = v.type == JV_INT || v.type == JV_BOOL;
    int64_t iv = v.type == JV_BOOL ? v.b : v.i;
    if (!type) type = is_int ? 'd' : 0;
    if (strchr("dnboxXc", type) && !is_int)
        return jraise(c, at, "ValueError", "Unknown format code '%c' for object of type '%s'", type,
                      jv_type_name(v));
    if (type == 'c') {
        jsb cb;
        jsb_init(&cb, c->arena, 0);
        jsb_put_cp(&cb, (uint32_t)iv);
        pad_to(b, s, cb.p ? cb.p : "", cb.len, false);
        return VLM_OK;
    }
    if (type == 'b') {
        char bits[70];
        int n = 0;
        uint64_t u = iv < 0 ? (uint64_t)-iv : (uint64_t)iv;
        do bits[n++] = (char)('0' + (u & 1)); while (u >>= 1);
        size_t o = 0;
        if (iv < 0) num[o++] = '-';
        if (s->alt) num[o++] = '0', num[o++] = 'b';
        while (n) num[o++] = bits[--n];
        num[o] = '\0';
    } else if (strchr("dnoxX", type)) {
        const char *conv = type == 'o' ? "llo" : type == 'x' ? "llx" : type == 'X' ? "llX" : "lld";
        uint64_t mag = iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv;
        if (type == 'd' || type == 'n') snprintf(num, sizeof num, "%lld", (long long)iv);
        else {
            snprintf(cfmt, sizeof cfmt, "%s%s%%%s", iv < 0 ? "-" : "", s->alt ? (type == 'o' ? "0o" : type == 'x' ? "0x" : "0X") : "", conv);
            snprintf(num, sizeof num, cfmt, (unsigned long long)mag);
        }
    } else {
        double f = jv_as_double(v);
        int prec = s->precision >= 0 ? s->precision : 6;
        if (prec > 300) prec = 300;
        if (!type && s->precision < 0) {
            jfloat_repr(f, num);
        } else if (type == '%') {
            snprintf(num, sizeof num, "%.*f%%", prec, f * 100.0);
        } else if (!type) {
            snprintf(num, sizeof num, "%.*g", prec ? prec : 1, f);
            if (isfinite(f) && !strpbrk(num, ".e")) strcat(num, ".0");
        } else {
            if (!strchr("eEfFgG", type))
                return jraise(c, at, "ValueError", "Unknown format code '%c' for object of type 'float'", type);
            snprintf(cfmt, sizeof cfmt, "%%%s.%d%c", s->alt ? "#" : "", prec, type);
            snprintf(num, sizeof num, cfmt, f);
        }
    }
    if (s->grouping) group_digits(num, sizeof num);
    char signed_num[420];
    bool neg = num[0] == '-';
    snprintf(signed_num, sizeof signed_num, "%s%s", !neg && s->sign == '+' ? "+" : !neg && s->sign == ' ' ? " " : "",
             num);
    fspec eff = *s;
    if (s->zero && !s->align) {
        eff.fill = '0';
        eff.align = '=';
    }
    pad_to(b, &eff, signed_num, strlen(signed_num), true);
    return VLM_OK;
}

/* Format one value by a parsed spec. */
static vlm_status format_value(jctx *c, const jnode *at, jv v, const fspec *s, jsb *b) {
    bool numeric = v.type == JV_INT || v.type == JV_FLOAT || (v.type == JV_BOOL && s->type);
    if (numeric && s->type != 's') return format_number(c, at, v, s, b);
    if (s->type && s->type != 's')
        return jraise(c, at, "ValueError", "Unknown format code '%c' for object of type '%s'", s->type,
                      jv_type_name(v));
    jv text = jto_str(c, v);
    size_t len = text.len;
    if (s->precision >= 0) len = jutf8_offset(text.s, text.len, (size_t)s->precision);
    pad_to(b, s, text.s, len, false);
    return jarena_status(c);
}

/* [[fill]align][sign][#][0][width][,|_][.precision][type] */
vlm_status jformat_spec(jctx *c, const jnode *at, jv v, const char *spec, size_t n, jsb *out) {
    fspec s = {.width = -1, .precision = -1};
    size_t i = 0;
    if (n >= 2 && strchr("<>^=", spec[1])) {
        s.fill = spec[0];
        s.align = spec[1];
        i = 2;
    } else if (n >= 1 && strchr("<>^=", spec[0])) {
        s.align = spec[0];
        i = 1;
    }
    if (i < n && strchr("+- ", spec[i])) s.sign = spec[i++];
    if (i < n && spec[i] == '#') s.alt = true, i++;
    if (i < n && spec[i] == '0') s.zero = true, i++;
    while (i < n && spec[i] >= '0' && spec[i] <= '9') s.width = (s.width < 0 ? 0 : s.width) * 10 + (spec[i++] - '0');
    if (i < n && (spec[i] == ',' || spec[i] == '_')) s.grouping = true, i++;
    if (i < n && spec[i] == '.') {
        s.precision = 0;
        for (i++; i < n && spec[i] >= '0' && spec[i] <= '9'; i++) s.precision = s.precision * 10 + (spec[i] - '0');
    }
    if (i < n) s.type = spec[i++];
    if (i != n || s.width > 100000) return jraise(c, at, "ValueError", "Invalid format specifier '%.*s'", (int)n, spec);
    return format_value(c, at, v, &s, out);
}

/* One %-conversion of printf-style formatting. */
static vlm_status percent_one(jctx *c, const jnode *at, fspec *s, char conv, jv arg, jsb *b) {
    switch (conv) {
    case 's': s->type = 0; return format_value(c, at, jto_str(c, arg), s, b);
    case 'r':
    case 'a': {
        jsb r;
        jsb_init(&r, c->arena, c->limits.max_output);
        jwrite_repr(&r, arg);
        s->type = 0;
        return format_value(c, at, jsb_value(&r), s, b);
    }
    case 'd': case 'i': case 'u':
        if (!jv_is_number(arg))
            return jraise(c, at, "TypeError", "%%%c format: a real number is required, not %s", conv, jv_type_name(arg));
        s->type = 'd';
        return format_number(c, at, arg.type == JV_FLOAT ? jv_int((int64_t)arg.f) : arg, s, b);
    case 'x': case 'X': case 'o': case 'c':
        if (arg.type != JV_INT && arg.type != JV_BOOL)
            return jraise(c, at, "TypeError", "%%%c format: an integer is required, not %s", conv, jv_type_name(arg));
        s->type = conv;
        return format_number(c, at, arg, s, b);
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
        if (!jv_is_number(arg))
            return jraise(c, at, "TypeError", "must be real number, not %s", jv_type_name(arg));
        s->type = conv;
        if (s->precision < 0) s->precision = 6;
        return format_number(c, at, jv_float(jv_as_double(arg)), s, b);
    default:
        return jraise(c, at, "ValueError", "unsupported format character '%c' (0x%x)", conv, (unsigned char)conv);
    }
}

vlm_status jpercent_format(jctx *c, const jnode *at, jv fmt, jv args, jv *out) {
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    bool tuple = args.type == JV_TUPLE, mapping = args.type == JV_DICT;
    size_t argi = 0;
    for (size_t i = 0; i < fmt.len; i++) {
        if (fmt.s[i] != '%') {
            jsb_putc(&b, fmt.s[i]);
            continue;
        }
        if (++i >= fmt.len) return jraise(c, at, "ValueError", "incomplete format");
        jv arg = jv_none();
        bool keyed = false;
        if (fmt.s[i] == '(') {
            const char *close = memchr(fmt.s + i, ')', fmt.len - i);
            if (!close) return jraise(c, at, "ValueError", "incomplete format key");
            if (!mapping) return jraise(c, at, "TypeError", "format requires a mapping");
            jv key = jv_str_view(fmt.s + i + 1, (size_t)(close - fmt.s) - i - 1);
            long k = jdict_find(args.d, key);
            if (k < 0) return jraise(c, at, "KeyError", "'%.*s'", (int)key.len, key.s);
            arg = args.d->vals[k];
            keyed = true;
            i = (size_t)(close - fmt.s) + 1;
        }
        fspec s = {.width = -1, .precision = -1};
        for (; i < fmt.len && strchr("-+ #0", fmt.s[i]); i++) {
            if (fmt.s[i] == '-') s.align = '<';
            else if (fmt.s[i] == '0') s.zero = true;
            else if (fmt.s[i] == '#') s.alt = true;
            else s.sign = fmt.s[i];
        }
        for (; i < fmt.len && fmt.s[i] >= '0' && fmt.s[i] <= '9'; i++) s.width = (s.width < 0 ? 0 : s.width) * 10 + (fmt.s[i] - '0');
        if (i < fmt.len && fmt.s[i] == '.') {
            s.precision = 0;
            for (i++; i < fmt.len && fmt.s[i] >= '0' && fmt.s[i] <= '9'; i++) s.precision = s.precision * 10 + (fmt.s[i] - '0');
        }
        if (i >= fmt.len) return jraise(c, at, "ValueError", "incomplete format");
        if (s.width > 100000 || s.precision > 1000) return jraise(c, at, "ValueError", "format width too large");
        char conv = fmt.s[i];
        if (conv == '%') {
            jsb_putc(&b, '%');
            continue;
        }
        if (!s.align) s.align = '>';
        if (s.zero && s.align == '>' && conv != 's' && conv != 'r') {
            s.align = 0; /* numbers: zero padding after the sign */
        } else {
            s.zero = false;
        }
        if (!keyed) {
            if (tuple) {
                if (argi >= args.l->n) return jraise(c, at, "TypeError", "not enough arguments for format string");
                arg = args.l->items[argi++];
            } else if (mapping) {
                arg = args;
            } else {
                if (argi++) return jraise(c, at, "TypeError", "not enough arguments for format string");
                arg = args;
            }
        }
        vlm_status st = percent_one(c, at, &s, conv, arg, &b);
        if (st) return st;
    }
    if (tuple ? argi < args.l->n : (!mapping && argi == 0))
        return jraise(c, at, "TypeError", "not all arguments converted during string formatting");
    *out = jsb_value(&b);
    return jarena_status(c);
}
