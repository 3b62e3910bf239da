/*
 * jinja_filters.c — Jinja2's builtin filters (jinja2/filters.py) as chat
 * templates use them, plus transformers' own tojson. Each follows the
 * Python original's argument names, defaults and edge cases.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/jinja_runtime.h"

#define FILTER(name) static vlm_status f_##name(jctx *c, const jnode *at, jv v, const jargs *a, jv *out)
#define TRY(x)                \
    do {                      \
        vlm_status st_ = (x); \
        if (st_) return st_;  \
    } while (0)

static bool arg_bool(const jargs *a, size_t i, const char *name, bool dflt) {
    const jv *v = jarg(a, i, name);
    return v ? jv_truthy(*v) : dflt;
}

static vlm_status need_undefined_ok(jctx *c, const jnode *at, jv v) {
    return v.type == JV_UNDEFINED ? jraise_undefined(c, at, v) : VLM_OK;
}

static vlm_status need_int(jctx *c, const jnode *at, const jv *v, const char *what, int64_t *out) {
    if (v->type == JV_INT) *out = v->i;
    else if (v->type == JV_BOOL) *out = v->b;
    else if (v->type == JV_FLOAT) *out = (int64_t)v->f;
    else return jraise(c, at, "TypeError", "%s must be an integer, not %s", what, jv_type_name(*v));
    return VLM_OK;
}

/* Jinja's attribute getter: "a.b.0" walks items/attributes. */
static vlm_status attr_path(jctx *c, const jnode *at, jv obj, jv path, jv *out) {
    if (path.type != JV_STR) return jgetitem(c, at, obj, path, out);
    size_t start = 0;
    *out = obj;
    for (size_t i = 0; i <= path.len; i++) {
        if (i < path.len && path.s[i] != '.') continue;
        jv part = jv_str_view(path.s + start, i - start);
        bool digits = part.len > 0;
        for (size_t k = 0; k < part.len; k++) digits = digits && path.s[start + k] >= '0' && path.s[start + k] <= '9';
        jv key = digits ? jv_int(strtoll(part.s, NULL, 10)) : part;
        TRY(jgetitem(c, at, *out, key, out));
        start = i + 1;
    }
    return VLM_OK;
}

static vlm_status items_of(jctx *c, const jnode *at, jv v, jlist **items) {
    return jiterate(c, at, v, items);
}

/* ---- sorting (stable merge sort with a failing comparator) --------------- */

typedef struct sortctx {
    jctx *c;
    const jnode *at;
    const jv *keys;
    bool case_insensitive, reverse;
    bool equal_first; /* the sort filter's keys are lists: equal keys never need `<` */
} sortctx;

static vlm_status merge_sort(sortctx *s, size_t *idx, size_t *tmp, size_t n) {
    if (n < 2) return VLM_OK;
    size_t h = n / 2;
    TRY(merge_sort(s, idx, tmp, h));
    TRY(merge_sort(s, idx + h, tmp, n - h));
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int r = 0;
        if (!s->equal_first || !jv_equal(s->keys[idx[j]], s->keys[idx[i]]))
            TRY(jorder(s->c, s->at, s->keys[idx[j]], s->keys[idx[i]], s->case_insensitive, &r));
        if (s->reverse) r = -r;
        tmp[k++] = r < 0 ? idx[j++] : idx[i++];
    }
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, n * sizeof *idx);
    return VLM_OK;
}

/* Order of items by key (attribute path or the item itself). */
static vlm_status sorted_index(jctx *c, const jnode *at, jlist *items, const jv *attribute, bool case_insensitive,
                               bool reverse, bool equal_first, size_t **order) {
    size_t n = items->n;
    jv *keys = jarena_alloc(c->arena, (n + 1) * sizeof *keys);
    size_t *idx = jarena_alloc(c->arena, (n + 1) * sizeof *idx), *tmp = jarena_alloc(c->arena, (n + 1) * sizeof *tmp);
    if (!keys || !idx || !tmp) return jarena_status(c);
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        keys[i] = items->items[i];
        if (attribute && attribute->type != JV_NONE) TRY(attr_path(c, at, items->items[i], *attribute, &keys[i]));
        TRY(jstep(c, at));
    }
    sortctx s = {c, at, keys, case_insensitive, reverse, equal_first};
    TRY(merge_sort(&s, idx, tmp, n));
    *order = idx;
    return VLM_OK;
}

FILTER(sort) {
    jlist *items;
    TRY(items_of(c, at, v, &items));
    size_t *order;
    TRY(sorted_index(c, at, items, jarg(a, 2, "attribute"), !arg_bool(a, 1, "case_sensitive", false),
                     arg_bool(a, 0, "reverse", false), true, &order));
    jv r = jv_list_new(c->arena, items->n);
    for (size_t i = 0; i < items->n; i++) jlist_push(c->arena, r.l, items->items[order[i]]);
    *out = r;
    return jarena_status(c);
}

FILTER(dictsort) {
    if (v.type != JV_DICT) return jraise(c, at, "TypeError", "dictsort needs a mapping");
    const jv *by = jarg(a, 1, "by");
    bool by_value = by && jv_str_eq_cstr(*by, "value");
    jv pairs = jv_list_new(c->arena, v.d->n), keys = jv_list_new(c->arena, v.d->n);
    for (size_t i = 0; i < v.d->n; i++) {
        jv t = jv_tuple_new(c->arena, 2);
        jlist_push(c->arena, t.l, v.d->keys[i]);
        jlist_push(c->arena, t.l, v.d->vals[i]);
        jlist_push(c->arena, pairs.l, t);
        jlist_push(c->arena, keys.l, by_value ? v.d->vals[i] : v.d->keys[i]);
    }
    TRY(jarena_status(c));
    size_t *order;
    size_t *tmp = jarena_alloc(c->arena, (v.d->n + 1) * sizeof *tmp);
    order = jarena_alloc(c->arena, (v.d->n + 1) * sizeof *order);
    if (!tmp || !order) return jarena_status(c);
    for (size_t i = 0; i < v.d->n; i++) order[i] = i;
    sortctx s = {c, at, keys.l->items, !arg_bool(a, 0, "case_sensitive", false), arg_bool(a, 2, "reverse", false),
                 false};
    TRY(merge_sort(&s, order, tmp, v.d->n));
    jv r = jv_list_new(c->arena, v.d->n);
    for (size_t i = 0; i < v.d->n; i++) jlist_push(c->arena, r.l, pairs.l->items[order[i]]);
    *out = r;
    return jarena_status(c);
}

/* ---- strings ----------------------------------------------------------- */

FILTER(string) {
    (void)at;
    (void)a;
    *out = jto_str(c, v);
    return jarena_status(c);
}

static vlm_status case_filter(jctx *c, jv v, char how, jv *out) {
    *out = jpy_case(c->arena, jto_str(c, v), how);
    return jarena_status(c);
}
FILTER(upper) { (void)at; (void)a; return case_filter(c, v, 'u', out); }
FILTER(lower) { (void)at; (void)a; return case_filter(c, v, 'l', out); }
/* Jinja's title is not str.title(): words start after runs of
 * whitespace, '-', '(', '{', '[' or '<'; each word's first character is
 * upper-cased and the rest lower-cased. */
FILTER(title) {
    (void)at;
    (void)a;
    jv s = jto_str(c, v);
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    bool word_start = true;
    size_t i = 0;
    while (i < s.len) {
        size_t start = i;
        uint32_t cp = jutf8_next(s.s, s.len, &i);
        bool sep = jpy_isspace(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
        jv ch = jv_str_view(s.s + start, i - start);
        jv mapped = sep ? ch : jpy_case(c->arena, ch, word_start ? 'u' : 'l');
        jsb_put(&b, mapped.s, mapped.len);
        word_start = sep;
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}
FILTER(capitalize) { (void)at; (void)a; return case_filter(c, v, 'c', out); }

FILTER(trim) {
    (void)at;
    const jv *chars = jarg(a, 0, "chars");
    jv s = jto_str(c, v);
    *out = jpy_strip(s, chars && chars->type == JV_STR ? chars : NULL, true, true);
    return jarena_status(c);
}

FILTER(replace) {
    const jv *old = jarg(a, 0, "old"), *new_ = jarg(a, 1, "new"), *count = jarg(a, 2, "count");
    if (!old || !new_) return jraise(c, at, "TypeError", "replace() needs old and new");
    jv s = jto_str(c, v), o = jto_str(c, *old), n = jto_str(c, *new_);
    int64_t limit = -1;
    if (count && count->type != JV_NONE) TRY(need_int(c, at, count, "count", &limit));
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    size_t i = 0;
    int64_t done = 0;
    if (o.len == 0) { /* Python inserts new between every character */
        while (limit < 0 || done < limit) {
            jsb_put(&b, n.s, n.len);
            done++;
            if (i >= s.len) break;
            size_t j = i;
            jutf8_next(s.s, s.len, &j);
            jsb_put(&b, s.s + i, j - i);
            i = j;
        }
        jsb_put(&b, s.s + i, s.len - i);
    } else {
        while (i < s.len && (limit < 0 || done < limit)) {
            const char *hit = memmem(s.s + i, s.len - i, o.s, o.len);
            if (!hit) break;
            jsb_put(&b, s.s + i, (size_t)(hit - s.s) - i);
            jsb_put(&b, n.s, n.len);
            i = (size_t)(hit - s.s) + o.len;
            done++;
        }
        jsb_put(&b, s.s + i, s.len - i);
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}

static bool is_line_break(char ch) { return ch == '\n' || ch == '\r'; }

FILTER(indent) {
    const jv *w = jarg(a, 0, "width");
    jv ind = jv_cstr("    ");
    if (w && w->type == JV_STR) ind = *w;
    else if (w) {
        int64_t n;
        TRY(need_int(c, at, w, "width", &n));
        jsb sp;
        jsb_init(&sp, c->arena, 0);
        for (int64_t k = 0; k < n && k < 1024; k++) jsb_putc(&sp, ' ');
        ind = jsb_value(&sp);
    }
    bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
    jv s = jto_str(c, v);
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    if (first) jsb_put(&b, ind.s, ind.len);
    /* Jinja: (s + "\n").splitlines(), i.e. every piece between line breaks,
     * including the empty one after a trailing newline */
    size_t i = 0, line = 0;
    for (;;) {
        size_t e = i;
        while (e < s.len && !is_line_break(s.s[e])) e++;
        if (line) {
            jsb_putc(&b, '\n');
            if (blank || e > i) jsb_put(&b, ind.s, ind.len);
        }
        jsb_put(&b, s.s + i, e - i);
        line++;
        if (e >= s.len) break;
        if (s.s[e] == '\r' && e + 1 < s.len && s.s[e + 1] == '\n') e++;
        i = e + 1;
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}

FILTER(center) {
    const jv *w = jarg(a, 0, "width");
    int64_t width = 80;
    if (w) TRY(need_int(c, at, w, "width", &width));
    jv s = jto_str(c, v);
    int64_t n = (int64_t)jutf8_count(s.s, s.len);
    if (width > (int64_t)c->limits.max_output) width = (int64_t)c->limits.max_output;
    if (width <= n) {
        *out = s;
        return VLM_OK;
    }
    int64_t pad = width - n, left = pad / 2 + (pad & width & 1);
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    for (int64_t k = 0; k < left; k++) jsb_putc(&b, ' ');
    jsb_put(&b, s.s, s.len);
    for (int64_t k = 0; k < pad - left; k++) jsb_putc(&b, ' ');
    *out = jsb_value(&b);
    return jarena_status(c);
}

FILTER(escape) {
    (void)at;
    (void)a;
    jv s = jto_str(c, v);
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    for (size_t i = 0; i < s.len; i++) {
        switch (s.s[i]) {
        case '&': jsb_puts(&b, "&amp;"); break;
        case '<': jsb_puts(&b, "&lt;"); break;
        case '>': jsb_puts(&b, "&gt;"); break;
        case '"': jsb_puts(&b, "&#34;"); break;
        case '\'': jsb_puts(&b, "&#39;"); break;
        default: jsb_putc(&b, s.s[i]);
        }
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}

FILTER(safe) {
    (void)c;
    (void)at;
    (void)a;
    *out = v;
    return VLM_OK;
}

FILTER(striptags) {
    (void)at;
    (void)a;
    jv s = jto_str(c, v);
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    bool space = false, in_tag = false;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.s[i];
        char next = i + 1 < s.len ? (char)(s.s[i + 1] | 32) : 0;
        if (!in_tag && ch == '<' && (next == '/' || next == '!' || (next >= 'a' && next <= 'z'))) {
            in_tag = true;
            continue;
        }
        if (in_tag) {
            if (ch == '>') in_tag = false;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
            space = b.len > 0;
            continue;
        }
        if (space) jsb_putc(&b, ' ');
        space = false;
        jsb_putc(&b, ch);
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}

FILTER(truncate) {
    jv s = jto_str(c, v);
    const jv *len_arg = jarg(a, 0, "length"), *end_arg = jarg(a, 2, "end"), *leeway_arg = jarg(a, 3, "leeway");
    int64_t length = 255, leeway = 5;
    if (len_arg) TRY(need_int(c, at, len_arg, "length", &length));
    if (leeway_arg && leeway_arg->type != JV_NONE) TRY(need_int(c, at, leeway_arg, "leeway", &leeway));
    jv end = end_arg ? jto_str(c, *end_arg) : jv_cstr("...");
    int64_t end_len = (int64_t)jutf8_count(end.s, end.len), n = (int64_t)jutf8_count(s.s, s.len);
    if (length < end_len) return jraise(c, at, "AssertionError", "expected length >= %lld, got %lld",
                                        (long long)end_len, (long long)length);
    if (n <= length + leeway) {
        *out = s;
        return VLM_OK;
    }
    size_t cut = jutf8_offset(s.s, s.len, (size_t)(length - end_len));
    if (!arg_bool(a, 1, "killwords", false)) {
        for (size_t k = cut; k-- > 0;)
            if (s.s[k] == ' ') {
                cut = k;
                break;
            }
    }
    jsb b;
    jsb_init(&b, c->arena, 0);
    jsb_put(&b, s.s, cut);
    jsb_put(&b, end.s, end.len);
    *out = jsb_value(&b);
    return jarena_status(c);
}

FILTER(wordcount) {
    (void)at;
    (void)a;
    jv s = jto_str(c, v);
    int64_t words = 0;
    bool in_word = false;
    size_t i = 0;
    while (i < s.len) {
        uint32_t cp = jutf8_next(s.s, s.len, &i);
        bool w = cp == '_' || (cp < 0x80 ? ((cp | 32) >= 'a' && (cp | 32) <= 'z') || (cp >= '0' && cp <= '9')
                                         : !jpy_isspace(cp));
        if (w && !in_word) words++;
        in_word = w;
    }
    *out = jv_int(words);
    return VLM_OK;
}

FILTER(format) {
    jv args;
    if (a->n_kw) {
        args = jv_dict_new(c->arena, a->n_kw);
        for (size_t k = 0; k < a->n_kw; k++) jdict_set(c->arena, args.d, jv_cstr(a->kw_names[k]), a->kw[k]);
    } else {
        args = jv_tuple_new(c->arena, a->n_pos);
        for (size_t k = 0; k < a->n_pos; k++) jlist_push(c->arena, args.l, a->pos[k]);
    }
    return jbinop(c, at, JOP_MOD, jto_str(c, v), args, out);
}

/* transformers: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False) */
FILTER(tojson) {
    static const char *const kw[] = {"ensure_ascii", "indent", "separators", "sort_keys", NULL};
    TRY(jargs_check(c, at, a, "tojson", 4, kw));
    const jv *indent = jarg(a, 1, "indent"), *seps = jarg(a, 2, "separators");
    jv ind_str = {0};
    const jv *ind = NULL;
    if (indent && indent->type != JV_NONE) {
        if (indent->type == JV_STR) {
            ind_str = *indent;
        } else {
            int64_t n;
            TRY(need_int(c, at, indent, "indent", &n));
            jsb sp;
            jsb_init(&sp, c->arena, 0);
            for (int64_t k = 0; k < n && k < 1024; k++) jsb_putc(&sp, ' ');
            ind_str = jsb_value(&sp);
            if (!sp.p) ind_str = jv_str_view("", 0);
        }
        ind = &ind_str;
    }
    const char *item_sep = NULL, *key_sep = NULL;
    if (seps && seps->type != JV_NONE) {
        if (!jv_is_seq(*seps) || seps->l->n != 2 || seps->l->items[0].type != JV_STR || seps->l->items[1].type != JV_STR)
            return jraise(c, at, "ValueError", "separators must be a pair of strings");
        item_sep = jarena_strndup(c->arena, seps->l->items[0].s, seps->l->items[0].len);
        key_sep = jarena_strndup(c->arena, seps->l->items[1].s, seps->l->items[1].len);
        TRY(jarena_status(c));
    }
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    TRY(jjson_dump(c, at, v, arg_bool(a, 0, "ensure_ascii", false), ind, item_sep, key_sep,
                   arg_bool(a, 3, "sort_keys", false), &b));
    *out = jsb_value(&b);
    return jarena_status(c);
}

/* ---- numbers ------------------------------------------------------------- */

FILTER(abs) {
    (void)a;
    if (v.type == JV_INT) *out = v.i == INT64_MIN ? jv_float(9.223372036854775808e18) : jv_int(v.i < 0 ? -v.i : v.i);
    else if (v.type == JV_BOOL) *out = jv_int(v.b);
    else if (v.type == JV_FLOAT) *out = jv_float(fabs(v.f));
    else if (v.type == JV_UNDEFINED) return jraise_undefined(c, at, v);
    else return jraise(c, at, "TypeError", "bad operand type for abs(): '%s'", jv_type_name(v));
    return VLM_OK;
}

static bool parse_float_str(jv s, double *out) {
    jv t = jpy_strip(s, NULL, true, true);
    char buf[128];
    if (!t.len || t.len >= sizeof buf) return false;
    size_t k = 0;
    for (size_t i = 0; i < t.len; i++)
        if (t.s[i] != '_') buf[k++] = t.s[i];
    buf[k] = '\0';
    char *end;
    *out = strtod(buf, &end);
    return *end == '\0';
}

FILTER(float) {
    (void)at;
    const jv *d = jarg(a, 0, "default");
    double f;
    if (jv_is_number(v)) *out = jv_float(jv_as_double(v));
    else if (v.type == JV_STR && parse_float_str(v, &f)) *out = jv_float(f);
    else *out = d ? *d : jv_float(0.0);
    (void)c;
    return VLM_OK;
}

FILTER(int) {
    const jv *d = jarg(a, 0, "default"), *base_arg = jarg(a, 1, "base");
    int64_t base = 10;
    if (base_arg) TRY(need_int(c, at, base_arg, "base", &base));
    if (v.type == JV_INT || v.type == JV_BOOL) {
        *out = jv_int(v.type == JV_BOOL ? v.b : v.i);
        return VLM_OK;
    }
    if (v.type == JV_FLOAT && isfinite(v.f) && fabs(v.f) < 9.2e18) {
        *out = jv_int((int64_t)v.f);
        return VLM_OK;
    }
    if (v.type == JV_STR) {
        jv t = jpy_strip(v, NULL, true, true);
        char buf[128];
        if (t.len && t.len < sizeof buf) {
            memcpy(buf, t.s, t.len);
            buf[t.len] = '\0';
            char *end;
            long long iv = strtoll(buf, &end, (int)base);
            if (*end == '\0') {
                *out = jv_int(iv);
                return VLM_OK;
            }
            double f;
            if (parse_float_str(t, &f) && isfinite(f) && fabs(f) < 9.2e18) {
                *out = jv_int((int64_t)f);
                return VLM_OK;
            }
        }
    }
    *out = d ? *d : jv_int(0);
    return VLM_OK;
}

/* Python round(x, n): correctly rounded, ties to even (printf rounds the
 * exact binary value the same way). */
static double python_round(double x, int64_t digits) {
    if (!isfinite(x)) return x;
    if (digits < 0) {
        double scale = pow(10.0, (double)-digits);
        return nearbyint(x / scale) * scale;
    }
    if (digits > 300) return x;
    char buf[400];
    snprintf(buf, sizeof buf, "%.*f", (int)digits, x);
    return strtod(buf, NULL);
}

FILTER(round) {
    const jv *p = jarg(a, 0, "precision"), *m = jarg(a, 1, "method");
    int64_t precision = 0;
    if (p) TRY(need_int(c, at, p, "precision", &precision));
    if (!jv_is_number(v)) {
        if (v.type == JV_UNDEFINED) return jraise_undefined(c, at, v);
        return jraise(c, at, "TypeError", "type %s doesn't define __round__ method", jv_type_name(v));
    }
    double x = jv_as_double(v), scale = pow(10.0, (double)precision);
    if (m && jv_str_eq_cstr(*m, "ceil")) x = ceil(x * scale) / scale;
    else if (m && jv_str_eq_cstr(*m, "floor")) x = floor(x * scale) / scale;
    else if (!m || jv_str_eq_cstr(*m, "common")) x = python_round(x, precision);
    else return jraise(c, at, "FilterArgumentError", "method must be common, ceil or floor");
    *out = jv_float(x);
    return VLM_OK;
}

FILTER(sum) {
    jlist *items;
    TRY(items_of(c, at, v, &items));
    const jv *attr = jarg(a, 0, "attribute"), *start = jarg(a, 1, "start");
    jv acc = start ? *start : jv_int(0);
    for (size_t i = 0; i < items->n; i++) {
        jv x = items->items[i];
        if (attr && attr->type != JV_NONE) TRY(attr_path(c, at, x, *attr, &x));
        TRY(jbinop(c, at, JOP_ADD, acc, x, &acc));
        TRY(jstep(c, at));
    }
    *out = acc;
    return VLM_OK;
}

/* ---- sequences ----------------------------------------------------------- */

FILTER(length) {
    (void)a;
    if (jv_is_iterator(v)) return jraise(c, at, "TypeError", "object of type '%s' has no len()", jv_type_name(v));
    switch ((jv_type)v.type) {
    case JV_STR: *out = jv_int((int64_t)jutf8_count(v.s, v.len)); break;
    case JV_LIST:
    case JV_TUPLE: *out = jv_int((int64_t)v.l->n); break;
    case JV_DICT: *out = jv_int((int64_t)v.d->n); break;
    case JV_UNDEFINED: *out = jv_int(0); break;
    case JV_LOOP: *out = jv_int((int64_t)v.loop->items->n); break;
    default: return jraise(c, at, "TypeError", "object of type '%s' has no len()", jv_type_name(v));
    }
    return VLM_OK;
}

/* first / last item, Undefined when there is none. */
static vlm_status end_item(jctx *c, const jnode *at, jv v, bool last, jv *out) {
    jlist *items;
    TRY(need_undefined_ok(c, at, v));
    TRY(items_of(c, at, v, &items));
    *out = items->n ? items->items[last ? items->n - 1 : 0] : jv_undefined(c->arena, JU_PLAIN, NULL, jv_none());
    return jarena_status(c);
}
FILTER(first) { (void)a; return end_item(c, at, v, false, out); }
FILTER(last) { (void)a; return end_item(c, at, v, true, out); }

FILTER(list) {
    (void)a;
    jlist *items;
    TRY(items_of(c, at, v, &items));
    jv r = jv_list_new(c->arena, items->n);
    for (size_t i = 0; i < items->n; i++) jlist_push(c->arena, r.l, items->items[i]);
    *out = r;
    return jarena_status(c);
}

FILTER(reverse) {
    (void)a;
    if (v.type == JV_STR) {
        jlist *chars;
        TRY(jiterate(c, at, v, &chars));
        jsb b;
        jsb_init(&b, c->arena, 0);
        for (size_t i = chars->n; i-- > 0;) jsb_put(&b, chars->items[i].s, chars->items[i].len);
        *out = jsb_value(&b);
        return jarena_status(c);
    }
    jlist *items;
    TRY(items_of(c, at, v, &items));
    jv r = jv_list_new(c->arena, items->n);
    for (size_t i = items->n; i-- > 0;) jlist_push(c->arena, r.l, items->items[i]);
    *out = jv_flavored(r, v.type == JV_LIST && !v.flavor ? JK_LIST_REVERSE : JK_REVERSED);
    return jarena_status(c);
}

FILTER(join) {
    const jv *sep = jarg(a, 0, "d"), *attr = jarg(a, 1, "attribute");
    jv d = sep ? jto_str(c, *sep) : jv_str_view("", 0);
    jlist *items;
    TRY(items_of(c, at, v, &items));
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    for (size_t i = 0; i < items->n; i++) {
        jv x = items->items[i];
        if (attr && attr->type != JV_NONE) TRY(attr_path(c, at, x, *attr, &x));
        if (i) jsb_put(&b, d.s, d.len);
        jwrite_str(&b, x);
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}

FILTER(items) {
    (void)a;
    jv r = jv_list_new(c->arena, 0);
    if (v.type == JV_UNDEFINED) {
        *out = r;
        return VLM_OK;
    }
    if (v.type != JV_DICT) return jraise(c, at, "TypeError", "Can only get item pairs from a mapping.");
    for (size_t i = 0; i < v.d->n; i++) {
        jv t = jv_tuple_new(c->arena, 2);
        jlist_push(c->arena, t.l, v.d->keys[i]);
        jlist_push(c->arena, t.l, v.d->vals[i]);
        jlist_push(c->arena, r.l, t);
    }
    *out = jv_flavored(r, JK_GENERATOR);
    return jarena_status(c);
}

FILTER(batch) {
    const jv *cnt = jarg(a, 0, "linecount"), *fill = jarg(a, 1, "fill_with");
    int64_t n;
    if (!cnt) return jraise(c, at, "TypeError", "batch() needs linecount");
    TRY(need_int(c, at, cnt, "linecount", &n));
    if (n <= 0) return jraise(c, at, "ValueError", "linecount must be positive");
    jlist *items;
    TRY(items_of(c, at, v, &items));
    jv r = jv_list_new(c->arena, 0), row = jv_none();
    for (size_t i = 0; i < items->n; i++) {
        if (i % (size_t)n == 0) {
            row = jv_list_new(c->arena, (size_t)n);
            jlist_push(c->arena, r.l, row);
        }
        jlist_push(c->arena, row.l, items->items[i]);
    }
    if (fill && fill->type != JV_NONE && row.type == JV_LIST)
        while (row.l->n < (size_t)n) jlist_push(c->arena, row.l, *fill);
    *out = jv_flavored(r, JK_GENERATOR);
    return jarena_status(c);
}

FILTER(slice) {
    const jv *cnt = jarg(a, 0, "slices"), *fill = jarg(a, 1, "fill_with");
    int64_t slices;
    if (!cnt) return jraise(c, at, "TypeError", "slice() needs slices");
    TRY(need_int(c, at, cnt, "slices", &slices));
    if (slices <= 0 || slices > 100000) return jraise(c, at, "ValueError", "slices must be positive");
    jlist *items;
    TRY(items_of(c, at, v, &items));
    size_t len = items->n, per = len / (size_t)slices, extra = len % (size_t)slices, offset = 0;
    jv r = jv_list_new(c->arena, (size_t)slices);
    for (size_t k = 0; k < (size_t)slices; k++) {
        size_t start = offset + k * per;
        if (k < extra) offset++;
        size_t end = offset + (k + 1) * per;
        jv part = jv_list_new(c->arena, end - start + 1);
        for (size_t i = start; i < end; i++) jlist_push(c->arena, part.l, items->items[i]);
        if (fill && fill->type != JV_NONE && k >= extra && extra) jlist_push(c->arena, part.l, *fill);
        jlist_push(c->arena, r.l, part);
    }
    *out = jv_flavored(r, JK_GENERATOR);
    return jarena_status(c);
}

/* Python min()/max() over (attribute) keys, case-folded unless
 * case_sensitive: the first of equal extremes wins. */
static vlm_status min_max(jctx *c, const jnode *at, jv v, const jargs *a, bool want_max, jv *out) {
    jlist *items;
    TRY(items_of(c, at, v, &items));
    if (!items->n) {
        *out = jv_undefined(c->arena, JU_PLAIN, NULL, jv_none());
        return VLM_OK;
    }
    const jv *attr = jarg(a, 1, "attribute");
    bool fold = !arg_bool(a, 0, "case_sensitive", false);
    size_t best = 0;
    jv best_key = jv_none();
    for (size_t i = 0; i < items->n; i++) {
        jv key = items->items[i];
        if (attr && attr->type != JV_NONE) TRY(attr_path(c, at, key, *attr, &key));
        if (fold && key.type == JV_STR) key = jpy_case(c->arena, key, 'l');
        int r = 0;
        if (i) TRY(jorder(c, at, key, best_key, false, &r));
        if (i == 0 || (want_max ? r > 0 : r < 0)) {
            best = i;
            best_key = key;
        }
        TRY(jstep(c, at));
    }
    *out = items->items[best];
    return VLM_OK;
}
FILTER(max) { return min_max(c, at, v, a, true, out); }
FILTER(min) { return min_max(c, at, v, a, false, out); }

FILTER(unique) {
    jlist *items;
    TRY(items_of(c, at, v, &items));
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const jv *attr = jarg(a, 1, "attribute");
    jv r = jv_list_new(c->arena, items->n), seen = jv_list_new(c->arena, items->n);
    for (size_t i = 0; i < items->n; i++) {
        jv key = items->items[i];
        if (attr && attr->type != JV_NONE) TRY(attr_path(c, at, key, *attr, &key));
        if (!cs && key.type == JV_STR) key = jpy_case(c->arena, key, 'l');
        bool dup = false;
        for (size_t k = 0; k < seen.l->n && !dup; k++) dup = jv_equal(seen.l->items[k], key);
        TRY(jstep(c, at));
        if (dup) continue;
        jlist_push(c->arena, seen.l, key);
        jlist_push(c->arena, r.l, items->items[i]);
    }
    *out = jv_flavored(r, JK_GENERATOR);
    return jarena_status(c);
}

FILTER(groupby) {
    const jv *attr = jarg(a, 0, "attribute"), *dflt = jarg(a, 1, "default");
    if (!attr) return jraise(c, at, "TypeError", "groupby() needs an attribute");
    jlist *items;
    TRY(items_of(c, at, v, &items));
    size_t *order;
    TRY(sorted_index(c, at, items, attr, !arg_bool(a, 2, "case_sensitive", false), false, false, &order));
    jv r = jv_list_new(c->arena, 0), group = jv_none(), last_key = jv_none();
    for (size_t i = 0; i < items->n; i++) {
        jv item = items->items[order[i]], key;
        TRY(attr_path(c, at, item, *attr, &key));
        if (key.type == JV_UNDEFINED && dflt) key = *dflt;
        if (group.type == JV_NONE || !jv_equal(key, last_key)) {
            jv pair = jv_flavored(jv_tuple_new(c->arena, 2), JK_GROUP);
            group = jv_list_new(c->arena, 4);
            jlist_push(c->arena, pair.l, key);
            jlist_push(c->arena, pair.l, group);
            jlist_push(c->arena, r.l, pair);
            last_key = key;
        }
        jlist_push(c->arena, group.l, item);
    }
    *out = r;
    return jarena_status(c);
}

/* map(attribute=...) or map('filter', args...) */
FILTER(map) {
    jlist *items;
    TRY(items_of(c, at, v, &items));
    const jv *attr = jarg(a, SIZE_MAX, "attribute"), *dflt = jarg(a, SIZE_MAX, "default");
    jbuiltin_fn fn = NULL;
    jargs rest = {0};
    if (!attr) {
        if (!a->n_pos || a->pos[0].type != JV_STR) return jraise(c, at, "FilterArgumentError", "map requires a filter argument");
        char name[64];
        size_t n = a->pos[0].len < sizeof name - 1 ? a->pos[0].len : sizeof name - 1;
        memcpy(name, a->pos[0].s, n);
        name[n] = '\0';
        fn = jfilter_lookup(name);
        if (!fn) return jraise(c, at, "TemplateRuntimeError", "No filter named '%s'.", name);
        rest = *a;
        rest.pos++;
        rest.n_pos--;
    }
    jv r = jv_list_new(c->arena, items->n);
    for (size_t i = 0; i < items->n; i++) {
        jv x;
        TRY(jstep(c, at));
        if (attr) {
            TRY(attr_path(c, at, items->items[i], *attr, &x));
            if (x.type == JV_UNDEFINED && dflt) x = *dflt;
        } else {
            TRY(fn(c, at, items->items[i], &rest, &x));
        }
        jlist_push(c->arena, r.l, x);
    }
    *out = jv_flavored(r, JK_GENERATOR);
    return jarena_status(c);
}

/* select / reject / selectattr / rejectattr */
static vlm_status select_items(jctx *c, const jnode *at, jv v, const jargs *a, bool by_attr, bool keep, jv *out) {
    jlist *items;
    TRY(items_of(c, at, v, &items));
    size_t first_arg = by_attr ? 1 : 0;
    if (by_attr && !a->n_pos) return jraise(c, at, "TypeError", "missing attribute name");
    jv test_name = a->n_pos > first_arg ? a->pos[first_arg] : jv_none();
    char name[64] = "";
    if (test_name.type == JV_STR) {
        size_t n = test_name.len < sizeof name - 1 ? test_name.len : sizeof name - 1;
        memcpy(name, test_name.s, n);
        name[n] = '\0';
    }
    jargs rest = *a;
    size_t skip = first_arg + (test_name.type == JV_STR ? 1 : 0);
    rest.pos += skip < a->n_pos ? skip : a->n_pos;
    rest.n_pos = a->n_pos > skip ? a->n_pos - skip : 0;
    jv r = jv_list_new(c->arena, items->n);
    for (size_t i = 0; i < items->n; i++) {
        jv x = items->items[i];
        TRY(jstep(c, at));
        if (by_attr) TRY(attr_path(c, at, x, a->pos[0], &x));
        bool ok;
        if (name[0]) TRY(jrun_test(c, at, name, x, &rest, &ok));
        else ok = jv_truthy(x);
        if (ok == keep) jlist_push(c->arena, r.l, items->items[i]);
    }
    *out = jv_flavored(r, JK_GENERATOR);
    return jarena_status(c);
}
FILTER(select) { return select_items(c, at, v, a, false, true, out); }
FILTER(reject) { return select_items(c, at, v, a, false, false, out); }
FILTER(selectattr) { return select_items(c, at, v, a, true, true, out); }
FILTER(rejectattr) { return select_items(c, at, v, a, true, false, out); }

/* ---- misc ---------------------------------------------------------------- */

FILTER(default) {
    (void)at;
    const jv *d = jarg(a, 0, "default_value");
    bool boolean = arg_bool(a, 1, "boolean", false);
    bool use_default = v.type == JV_UNDEFINED || (boolean && !jv_truthy(v));
    *out = use_default ? (d ? *d : jv_str_view("", 0)) : v;
    (void)c;
    return VLM_OK;
}

FILTER(attr) {
    const jv *name = jarg(a, 0, "name");
    if (!name) return jraise(c, at, "TypeError", "attr() needs a name");
    if (v.type == JV_DICT && name->type == JV_STR) { /* attributes of a dict are its methods only */
        if (!jmethod_value(c, v, *name, out)) *out = jv_undefined(c->arena, JU_ATTR, "dict object", *name);
        return jarena_status(c);
    }
    return jgetattr(c, at, v, *name, out);
}

typedef struct named_filter {
    const char *name;
    jbuiltin_fn fn;
} named_filter;

static const named_filter filters[] = {
    {"abs", f_abs}, {"attr", f_attr}, {"batch", f_batch}, {"capitalize", f_capitalize},
    {"center", f_center}, {"count", f_length}, {"d", f_default}, {"default", f_default},
    {"dictsort", f_dictsort}, {"e", f_escape}, {"escape", f_escape}, {"first", f_first},
    {"float", f_float}, {"forceescape", f_escape}, {"format", f_format}, {"groupby", f_groupby},
    {"indent", f_indent}, {"int", f_int}, {"items", f_items}, {"join", f_join}, {"last", f_last},
    {"length", f_length}, {"list", f_list}, {"lower", f_lower}, {"map", f_map}, {"max", f_max},
    {"min", f_min}, {"reject", f_reject}, {"rejectattr", f_rejectattr}, {"replace", f_replace},
    {"reverse", f_reverse}, {"round", f_round}, {"safe", f_safe}, {"select", f_select},
    {"selectattr", f_selectattr}, {"slice", f_slice}, {"sort", f_sort}, {"string", f_string},
    {"striptags", f_striptags}, {"sum", f_sum}, {"title", f_title}, {"tojson", f_tojson},
    {"trim", f_trim}, {"truncate", f_truncate}, {"unique", f_unique}, {"upper", f_upper},
    {"wordcount", f_wordcount},
};

jbuiltin_fn jfilter_lookup(const char *name) {
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if (!strcmp(filters[i].name, name)) return filters[i].fn;
    return NULL;
}
