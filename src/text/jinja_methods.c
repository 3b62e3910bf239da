/*
 * jinja_methods.c — Python methods templates call on values: str
 * (startswith, split, strip, format, ...), dict (items, keys, values,
 * get), list (index, count) and the loop object (cycle, changed). The
 * mutating methods (list.append, dict.update, ...) are refused the way
 * Jinja's ImmutableSandboxedEnvironment refuses them.
 */
#include <stdlib.h>
#include <string.h>

#include "text/jinja_runtime.h"

#define METHOD(name) static vlm_status m_##name(jctx *c, const jnode *at, jv self, const jargs *a, jv *out)
#define TRY(x)                \
    do {                      \
        vlm_status st_ = (x); \
        if (st_) return st_;  \
    } while (0)

static vlm_status str_arg(jctx *c, const jnode *at, const jargs *a, size_t i, const char *name, const char *method,
                          jv *out) {
    const jv *v = jarg(a, i, name);
    if (!v) return jraise(c, at, "TypeError", "%s() missing required argument '%s'", method, name);
    if (v->type != JV_STR)
        return jraise(c, at, "TypeError", "%s() argument must be str, not %s", method, jv_type_name(*v));
    *out = *v;
    return VLM_OK;
}

static int64_t int_arg(const jargs *a, size_t i, const char *name, int64_t dflt) {
    const jv *v = jarg(a, i, name);
    if (!v || v->type == JV_NONE) return dflt;
    return v->type == JV_INT ? v->i : v->type == JV_BOOL ? v->b : dflt;
}

/* ---- str ------------------------------------------------------------------ */

static vlm_status affix(jctx *c, const jnode *at, jv self, const jargs *a, bool prefix, jv *out) {
    const jv *p = jarg(a, 0, NULL);
    const char *method = prefix ? "startswith" : "endswith";
    if (!p) return jraise(c, at, "TypeError", "%s() takes at least 1 argument (0 given)", method);
    bool tuple = p->type == JV_TUPLE;
    if (p->type != JV_STR && !tuple)
        return jraise(c, at, "TypeError", "%s first arg must be str or a tuple of str, not %s", method,
                      jv_type_name(*p));
    size_t n = tuple ? p->l->n : 1;
    for (size_t i = 0; i < n; i++) {
        jv x = tuple ? p->l->items[i] : *p;
        if (x.type != JV_STR)
            return jraise(c, at, "TypeError", "tuple for %s must only contain str, not %s", method,
                          jv_type_name(x));
        if (x.len <= self.len && !memcmp(prefix ? self.s : self.s + self.len - x.len, x.s, x.len)) {
            *out = jv_bool(true);
            return VLM_OK;
        }
    }
    *out = jv_bool(false);
    return VLM_OK;
}
METHOD(startswith) { return affix(c, at, self, a, true, out); }
METHOD(endswith) { return affix(c, at, self, a, false, out); }

static vlm_status strip_method(jctx *c, const jnode *at, jv self, const jargs *a, bool l, bool r, jv *out) {
    const jv *chars = jarg(a, 0, "chars");
    if (chars && chars->type != JV_NONE && chars->type != JV_STR)
        return jraise(c, at, "TypeError", "strip arg must be None or str");
    *out = jpy_strip(self, chars && chars->type == JV_STR ? chars : NULL, l, r);
    return VLM_OK;
}
METHOD(strip) { return strip_method(c, at, self, a, true, true, out); }
METHOD(lstrip) { return strip_method(c, at, self, a, true, false, out); }
METHOD(rstrip) { return strip_method(c, at, self, a, false, true, out); }

METHOD(upper) { (void)at; (void)a; *out = jpy_case(c->arena, self, 'u'); return jarena_status(c); }
METHOD(lower) { (void)at; (void)a; *out = jpy_case(c->arena, self, 'l'); return jarena_status(c); }
METHOD(title) { (void)at; (void)a; *out = jpy_case(c->arena, self, 't'); return jarena_status(c); }
METHOD(capitalize) { (void)at; (void)a; *out = jpy_case(c->arena, self, 'c'); return jarena_status(c); }

/* Whitespace-run split from the left (Python str.split()). */
static void split_ws(jctx *c, jv s, int64_t maxsplit, jlist *out) {
    size_t i = 0;
    int64_t splits = 0;
    while (i < s.len) {
        while (i < s.len) { /* skip whitespace */
            size_t j = i;
            if (!jpy_isspace(jutf8_next(s.s, s.len, &j))) break;
            i = j;
        }
        if (i >= s.len) break;
        if (maxsplit >= 0 && splits >= maxsplit) {
            jlist_push(c->arena, out, jv_str_view(s.s + i, s.len - i));
            return;
        }
        size_t start = i;
        while (i < s.len) {
            size_t j = i;
            if (jpy_isspace(jutf8_next(s.s, s.len, &j))) break;
            i = j;
        }
        jlist_push(c->arena, out, jv_str_view(s.s + start, i - start));
        splits++;
    }
}

static size_t prev_cp(const char *s, size_t i) {
    while (i > 0 && ((unsigned char)s[--i] & 0xC0) == 0x80) {
    }
    return i;
}

/* Whitespace-run split from the right (Python str.rsplit()). */
static void rsplit_ws(jctx *c, jv s, int64_t maxsplit, jlist *out) {
    size_t end = s.len;
    int64_t splits = 0;
    jv parts = jv_list_new(c->arena, 4);
    while (end > 0) {
        while (end > 0) {
            size_t k = prev_cp(s.s, end), j = k;
            if (!jpy_isspace(jutf8_next(s.s, s.len, &j))) break;
            end = k;
        }
        if (end == 0) break;
        if (maxsplit >= 0 && splits >= maxsplit) {
            jlist_push(c->arena, parts.l, jv_str_view(s.s, end));
            break;
        }
        size_t start = end;
        while (start > 0) {
            size_t k = prev_cp(s.s, start), j = k;
            if (jpy_isspace(jutf8_next(s.s, s.len, &j))) break;
            start = k;
        }
        jlist_push(c->arena, parts.l, jv_str_view(s.s + start, end - start));
        end = start;
        splits++;
    }
    for (size_t i = parts.l->n; i-- > 0;) jlist_push(c->arena, out, parts.l->items[i]);
}

static vlm_status split_method(jctx *c, const jnode *at, jv self, const jargs *a, bool from_right, jv *out) {
    const jv *sep = jarg(a, 0, "sep");
    int64_t maxsplit = int_arg(a, 1, "maxsplit", -1);
    jv r = jv_list_new(c->arena, 4);
    *out = r;
    if (!sep || sep->type == JV_NONE) {
        if (from_right) rsplit_ws(c, self, maxsplit, r.l);
        else split_ws(c, self, maxsplit, r.l);
        return jarena_status(c);
    }
    if (sep->type != JV_STR) return jraise(c, at, "TypeError", "must be str or None, not %s", jv_type_name(*sep));
    if (!sep->len) return jraise(c, at, "ValueError", "empty separator");
    if (!from_right) {
        size_t i = 0;
        int64_t splits = 0;
        for (;;) {
            const char *hit = (maxsplit < 0 || splits < maxsplit) ? memmem(self.s + i, self.len - i, sep->s, sep->len) : NULL;
            if (!hit) break;
            jlist_push(c->arena, r.l, jv_str_view(self.s + i, (size_t)(hit - self.s) - i));
            i = (size_t)(hit - self.s) + sep->len;
            splits++;
        }
        jlist_push(c->arena, r.l, jv_str_view(self.s + i, self.len - i));
        return jarena_status(c);
    }
    jv parts = jv_list_new(c->arena, 4);
    size_t end = self.len;
    int64_t splits = 0;
    while (maxsplit < 0 || splits < maxsplit) {
        size_t found = SIZE_MAX;
        for (size_t k = end; k >= sep->len; k--)
            if (!memcmp(self.s + k - sep->len, sep->s, sep->len)) {
                found = k - sep->len;
                break;
            }
        if (found == SIZE_MAX) break;
        jlist_push(c->arena, parts.l, jv_str_view(self.s + found + sep->len, end - found - sep->len));
        end = found;
        splits++;
    }
    jlist_push(c->arena, parts.l, jv_str_view(self.s, end));
    for (size_t i = parts.l->n; i-- > 0;) jlist_push(c->arena, r.l, parts.l->items[i]);
    return jarena_status(c);
}
METHOD(split) { return split_method(c, at, self, a, false, out); }
METHOD(rsplit) { return split_method(c, at, self, a, true, out); }

METHOD(splitlines) {
    (void)at;
    jv r = jv_list_new(c->arena, 4);
    bool keep = jarg(a, 0, "keepends") && jv_truthy(*jarg(a, 0, "keepends"));
    size_t i = 0;
    while (i < self.len) {
        size_t e = i;
        while (e < self.len && self.s[e] != '\n' && self.s[e] != '\r') e++;
        size_t next = e < self.len ? e + 1 : e;
        if (e < self.len && self.s[e] == '\r' && e + 1 < self.len && self.s[e + 1] == '\n') next++;
        jlist_push(c->arena, r.l, jv_str_view(self.s + i, (keep ? next : e) - i));
        i = next;
    }
    *out = r;
    return jarena_status(c);
}

/* str.replace(old, new[, count]) is the replace filter on a str receiver. */
METHOD(replace) {
    if (!jarg(a, 0, "old") || jarg(a, 0, "old")->type != JV_STR || !jarg(a, 1, "new") ||
        jarg(a, 1, "new")->type != JV_STR)
        return jraise(c, at, "TypeError", "replace() arguments must be str");
    return jfilter_lookup("replace")(c, at, self, a, out);
}

static vlm_status find_method(jctx *c, const jnode *at, jv self, const jargs *a, bool from_right, bool raise,
                              jv *out) {
    jv sub;
    TRY(str_arg(c, at, a, 0, "sub", from_right ? "rfind" : "find", &sub));
    long found = -1;
    if (!from_right) {
        const char *hit = sub.len ? memmem(self.s, self.len, sub.s, sub.len) : self.s;
        if (hit) found = (long)(hit - self.s);
    } else {
        for (size_t k = self.len + 1; k-- > 0;)
            if (k + sub.len <= self.len && !memcmp(self.s + k, sub.s, sub.len)) {
                found = (long)k;
                break;
            }
    }
    if (found < 0 && raise) return jraise(c, at, "ValueError", "substring not found");
    *out = jv_int(found < 0 ? -1 : (int64_t)jutf8_count(self.s, (size_t)found));
    return VLM_OK;
}
METHOD(find) { return find_method(c, at, self, a, false, false, out); }
METHOD(rfind) { return find_method(c, at, self, a, true, false, out); }

METHOD(count) {
    if (self.type != JV_STR) {
        const jv *x = jarg(a, 0, NULL);
        if (!x) return jraise(c, at, "TypeError", "count() takes exactly one argument (0 given)");
        int64_t n = 0;
        for (size_t i = 0; i < self.l->n; i++) n += jv_equal(self.l->items[i], *x);
        *out = jv_int(n);
        return VLM_OK;
    }
    jv sub;
    TRY(str_arg(c, at, a, 0, "sub", "count", &sub));
    int64_t n = 0;
    if (!sub.len) {
        n = (int64_t)jutf8_count(self.s, self.len) + 1;
    } else {
        for (size_t i = 0; i + sub.len <= self.len;) {
            const char *hit = memmem(self.s + i, self.len - i, sub.s, sub.len);
            if (!hit) break;
            n++;
            i = (size_t)(hit - self.s) + sub.len;
        }
    }
    *out = jv_int(n);
    return VLM_OK;
}

METHOD(join) {
    const jv *it = jarg(a, 0, NULL);
    if (!it) return jraise(c, at, "TypeError", "join() takes exactly one argument (0 given)");
    jlist *items;
    TRY(jiterate(c, at, *it, &items));
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    for (size_t i = 0; i < items->n; i++) {
        if (items->items[i].type != JV_STR)
            return jraise(c, at, "TypeError", "sequence item %zu: expected str instance, %s found", i,
                          jv_type_name(items->items[i]));
        if (i) jsb_put(&b, self.s, self.len);
        jsb_put(&b, items->items[i].s, items->items[i].len);
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}

/* str.format with {}, {0}, {name}, {{ }}, !r/!s and :spec. */
METHOD(format) {
    jsb b;
    jsb_init(&b, c->arena, c->limits.max_output);
    size_t auto_index = 0;
    for (size_t i = 0; i < self.len; i++) {
        char ch = self.s[i];
        if (ch == '}' ) {
            if (i + 1 < self.len && self.s[i + 1] == '}') i++;
            jsb_putc(&b, '}');
            continue;
        }
        if (ch != '{') {
            jsb_putc(&b, ch);
            continue;
        }
        if (i + 1 < self.len && self.s[i + 1] == '{') {
            jsb_putc(&b, '{');
            i++;
            continue;
        }
        const char *close = memchr(self.s + i, '}', self.len - i);
        if (!close) return jraise(c, at, "ValueError", "Single '{' encountered in format string");
        jv field = jv_str_view(self.s + i + 1, (size_t)(close - self.s) - i - 1);
        i = (size_t)(close - self.s);
        char conv = 0;
        const char *bang = memchr(field.s, '!', field.len), *colon = memchr(field.s, ':', field.len);
        size_t name_len = bang ? (size_t)(bang - field.s) : colon ? (size_t)(colon - field.s) : field.len;
        if (bang) conv = bang[1];
        const jv *arg;
        if (name_len == 0) arg = jarg(a, auto_index++, NULL);
        else if (field.s[0] >= '0' && field.s[0] <= '9') arg = jarg(a, (size_t)strtoul(field.s, NULL, 10), NULL);
        else {
            char name[64];
            size_t n = name_len < sizeof name - 1 ? name_len : sizeof name - 1;
            memcpy(name, field.s, n);
            name[n] = '\0';
            arg = jarg(a, SIZE_MAX, name);
            if (!arg) return jraise(c, at, "KeyError", "'%s'", name);
        }
        if (!arg) return jraise(c, at, "IndexError", "Replacement index %zu out of range for positional args tuple",
                                auto_index ? auto_index - 1 : 0);
        jv value = *arg;
        if (conv == 'r') {
            jsb r;
            jsb_init(&r, c->arena, c->limits.max_output);
            jwrite_repr(&r, *arg);
            value = jsb_value(&r);
        }
        if (colon) TRY(jformat_spec(c, at, value, colon + 1, (size_t)(field.s + field.len - colon - 1), &b));
        else jwrite_str(&b, value);
    }
    *out = jsb_value(&b);
    return jarena_status(c);
}

static vlm_status char_class(jctx *c, jv self, int kind, jv *out) {
    (void)c;
    bool ok = self.len > 0;
    size_t i = 0;
    while (ok && i < self.len) {
        uint32_t cp = jutf8_next(self.s, self.len, &i);
        bool digit = cp >= '0' && cp <= '9', alpha = (cp | 32) >= 'a' && (cp | 32) <= 'z';
        if (cp >= 0x80) alpha = !jpy_isspace(cp);
        ok = kind == 'd' ? digit : kind == 'a' ? alpha : kind == 'n' ? (digit || alpha) : jpy_isspace(cp);
    }
    *out = jv_bool(ok);
    return VLM_OK;
}
METHOD(isdigit) { (void)at; (void)a; return char_class(c, self, 'd', out); }
METHOD(isalpha) { (void)at; (void)a; return char_class(c, self, 'a', out); }
METHOD(isalnum) { (void)at; (void)a; return char_class(c, self, 'n', out); }
METHOD(isspace) { (void)at; (void)a; return char_class(c, self, 's', out); }

static vlm_status case_check(jctx *c, jv self, char how, jv *out) {
    jv mapped = jpy_case(c->arena, self, how), other = jpy_case(c->arena, self, how == 'l' ? 'u' : 'l');
    *out = jv_bool(!jv_equal(mapped, other) && jv_equal(mapped, self));
    return jarena_status(c);
}
METHOD(islower) { (void)at; (void)a; return case_check(c, self, 'l', out); }
METHOD(isupper) { (void)at; (void)a; return case_check(c, self, 'u', out); }

/* ---- dict ------------------------------------------------------------------ */

static vlm_status dict_view(jctx *c, jv self, int what, jv *out) {
    jv r = jv_list_new(c->arena, self.d->n);
    for (size_t i = 0; i < self.d->n; i++) {
        if (what == 'k') jlist_push(c->arena, r.l, self.d->keys[i]);
        else if (what == 'v') jlist_push(c->arena, r.l, self.d->vals[i]);
        else {
            jv t = jv_tuple_new(c->arena, 2);
            jlist_push(c->arena, t.l, self.d->keys[i]);
            jlist_push(c->arena, t.l, self.d->vals[i]);
            jlist_push(c->arena, r.l, t);
        }
    }
    *out = r;
    return jarena_status(c);
}
METHOD(items) { (void)at; (void)a; return dict_view(c, self, 'i', out); }
METHOD(keys) { (void)at; (void)a; return dict_view(c, self, 'k', out); }
METHOD(values) { (void)at; (void)a; return dict_view(c, self, 'v', out); }

METHOD(get) {
    const jv *key = jarg(a, 0, NULL), *dflt = jarg(a, 1, NULL);
    if (!key) return jraise(c, at, "TypeError", "get expected at least 1 argument, got 0");
    long i = jdict_find(self.d, *key);
    *out = i >= 0 ? self.d->vals[i] : dflt ? *dflt : jv_none();
    return VLM_OK;
}

METHOD(copy) {
    (void)at;
    (void)a;
    jv r = jv_dict_new(c->arena, self.d->n);
    for (size_t i = 0; i < self.d->n; i++) jdict_set(c->arena, r.d, self.d->keys[i], self.d->vals[i]);
    *out = r;
    return jarena_status(c);
}

/* ---- list ------------------------------------------------------------------ */

METHOD(index) {
    const jv *x = jarg(a, 0, NULL);
    if (!x) return jraise(c, at, "TypeError", "index expected at least 1 argument, got 0");
    if (self.type == JV_STR) return find_method(c, at, self, a, false, true, out);
    for (size_t i = 0; i < self.l->n; i++)
        if (jv_equal(self.l->items[i], *x)) {
            *out = jv_int((int64_t)i);
            return VLM_OK;
        }
    jsb b;
    jsb_init(&b, c->arena, 0);
    jwrite_repr(&b, *x);
    return jraise(c, at, "ValueError", "%.*s is not in list", (int)(b.len > 100 ? 100 : b.len), b.p ? b.p : "");
}

/* ---- loop ------------------------------------------------------------------ */

METHOD(cycle) {
    if (!a->n_pos) return jraise(c, at, "TypeError", "no items for cycling given");
    *out = a->pos[self.loop->index0 % a->n_pos];
    return VLM_OK;
}

METHOD(changed) {
    (void)at;
    jv now = jv_tuple_new(c->arena, a->n_pos);
    for (size_t i = 0; i < a->n_pos; i++) jlist_push(c->arena, now.l, a->pos[i]);
    jloop *l = self.loop;
    bool changed = !l->has_changed || !jv_equal(l->last_changed, now);
    l->last_changed = now;
    l->has_changed = true;
    *out = jv_bool(changed);
    return jarena_status(c);
}

typedef struct named_method {
    const char *name;
    jbuiltin_fn fn; /* NULL: exists but mutates (refused by the sandbox) */
} named_method;

static const named_method str_methods[] = {
    {"startswith", m_startswith}, {"endswith", m_endswith}, {"strip", m_strip}, {"lstrip", m_lstrip},
    {"rstrip", m_rstrip}, {"split", m_split}, {"rsplit", m_rsplit}, {"splitlines", m_splitlines},
    {"upper", m_upper}, {"lower", m_lower}, {"title", m_title}, {"capitalize", m_capitalize},
    {"replace", m_replace}, {"find", m_find}, {"rfind", m_rfind}, {"index", m_index}, {"count", m_count},
    {"join", m_join}, {"format", m_format}, {"isdigit", m_isdigit}, {"isalpha", m_isalpha},
    {"isalnum", m_isalnum}, {"isspace", m_isspace}, {"islower", m_islower}, {"isupper", m_isupper},
    {NULL, NULL}};
static const named_method dict_methods[] = {
    {"items", m_items}, {"keys", m_keys}, {"values", m_values}, {"get", m_get}, {"copy", m_copy},
    {"pop", NULL}, {"popitem", NULL}, {"setdefault", NULL}, {"update", NULL}, {"clear", NULL},
    {NULL, NULL}};
static const named_method list_methods[] = {
    {"index", m_index}, {"count", m_count}, {"append", NULL}, {"extend", NULL}, {"insert", NULL},
    {"pop", NULL}, {"remove", NULL}, {"reverse", NULL}, {"sort", NULL}, {"clear", NULL},
    {NULL, NULL}};
static const named_method tuple_methods[] = {{"index", m_index}, {"count", m_count}, {NULL, NULL}};
static const named_method loop_methods[] = {{"cycle", m_cycle}, {"changed", m_changed}, {NULL, NULL}};

jbuiltin_fn jmethod_lookup(jv self, const char *name, bool *unsafe) {
    const named_method *table;
    *unsafe = false;
    if (jv_is_iterator(self)) return NULL;
    switch ((jv_type)self.type) {
    case JV_STR: table = str_methods; break;
    case JV_DICT: table = dict_methods; break;
    case JV_LIST: table = list_methods; break;
    case JV_TUPLE: table = tuple_methods; break;
    case JV_LOOP: table = loop_methods; break;
    default: return NULL;
    }
    *unsafe = false;
    for (; table->name; table++)
        if (!strcmp(table->name, name)) {
            *unsafe = table->fn == NULL;
            return table->fn;
        }
    return NULL;
}
