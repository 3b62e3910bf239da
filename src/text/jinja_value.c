/*
 * jinja_value.c — value constructors, list/dict storage and the Python
 * rules for truthiness, equality and type names (see jinja_value.h).
 *
 * The two static empty containers below are what constructors return once
 * the render arena has failed; they are never written (see fresh_list), so
 * concurrent renders on different threads can share them.
 */
#include "text/jinja_value.h"

#include <string.h>

static jlist empty_list_storage;
static jdict empty_dict_storage;

/* Refused allocations fall back to these; their capacity is 0, so a push
 * needs memory, the sticky arena failure refuses it, and they stay empty. */
static jlist *fresh_list(jarena *a, size_t cap) {
    jlist *l = jarena_alloc(a, sizeof *l);
    if (!l) return &empty_list_storage;
    l->n = 0;
    l->cap = 0;
    l->items = NULL;
    if (cap) {
        l->items = jarena_alloc(a, cap * sizeof *l->items);
        if (l->items) l->cap = cap;
    }
    return l;
}

jv jv_str_copy(jarena *a, const char *s, size_t len) {
    char *p = jarena_alloc(a, len ? len : 1);
    if (!p) return jv_str_view("", 0);
    if (len) memcpy(p, s, len);
    return jv_str_view(p, len);
}

jv jv_cstr(const char *s) { return jv_str_view(s, strlen(s)); }

jv jv_undefined(jarena *a, jundef_kind kind, const char *owner, jv key) {
    static const jundef plain = {JU_PLAIN, NULL, {.type = JV_NONE}};
    jundef *u = jarena_alloc(a, sizeof *u);
    jv v = {.type = JV_UNDEFINED, .u = &plain};
    if (!u) return v;
    u->kind = kind;
    u->owner = owner;
    u->key = key;
    v.u = u;
    return v;
}

jv jv_list_new(jarena *a, size_t cap) {
    jv v = {.type = JV_LIST, .l = fresh_list(a, cap)};
    return v;
}

jv jv_tuple_new(jarena *a, size_t cap) {
    jv v = {.type = JV_TUPLE, .l = fresh_list(a, cap)};
    return v;
}

jv jv_dict_new(jarena *a, size_t cap) {
    jdict *d = jarena_alloc(a, sizeof *d);
    if (!d) {
        jv e = {.type = JV_DICT, .d = &empty_dict_storage};
        return e;
    }
    d->n = d->cap = 0;
    d->keys = d->vals = NULL;
    if (cap) {
        d->keys = jarena_alloc(a, cap * sizeof *d->keys);
        d->vals = jarena_alloc(a, cap * sizeof *d->vals);
        if (d->keys && d->vals) d->cap = cap;
    }
    jv v = {.type = JV_DICT, .d = d};
    return v;
}

void jlist_push(jarena *a, jlist *l, jv item) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        jv *items = jarena_alloc(a, cap * sizeof *items);
        if (!items) return;
        if (l->n) memcpy(items, l->items, l->n * sizeof *items);
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = item;
}

long jdict_find(const jdict *d, jv key) {
    for (size_t i = 0; i < d->n; i++) {
        const jv *k = &d->keys[i];
        if (key.type == JV_STR && k->type == JV_STR) {
            if (k->len == key.len && !memcmp(k->s, key.s, key.len)) return (long)i;
        } else if (jv_equal(*k, key)) {
            return (long)i;
        }
    }
    return -1;
}

const jv *jdict_get_cstr(const jdict *d, const char *key) {
    long i = jdict_find(d, jv_cstr(key));
    return i < 0 ? NULL : &d->vals[i];
}

void jdict_set(jarena *a, jdict *d, jv key, jv val) {
    long i = jdict_find(d, key);
    if (i >= 0) {
        d->vals[i] = val;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        jv *keys = jarena_alloc(a, cap * sizeof *keys);
        jv *vals = jarena_alloc(a, cap * sizeof *vals);
        if (!keys || !vals) return;
        if (d->n) {
            memcpy(keys, d->keys, d->n * sizeof *keys);
            memcpy(vals, d->vals, d->n * sizeof *vals);
        }
        d->keys = keys;
        d->vals = vals;
        d->cap = cap;
    }
    d->keys[d->n] = key;
    d->vals[d->n] = val;
    d->n++;
}

bool jv_truthy(jv v) {
    if (jv_is_iterator(v)) return true;
    switch ((jv_type)v.type) {
    case JV_UNDEFINED:
    case JV_NONE: return false;
    case JV_BOOL: return v.b;
    case JV_INT: return v.i != 0;
    case JV_FLOAT: return v.f != 0.0;
    case JV_STR: return v.len != 0;
    case JV_LIST:
    case JV_TUPLE: return v.l->n != 0;
    case JV_DICT: return v.d->n != 0;
    default: return true;
    }
}

static bool equal_at(jv a, jv b, int depth);

static bool seq_equal(const jlist *a, const jlist *b, int depth) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++)
        if (!equal_at(a->items[i], b->items[i], depth + 1)) return false;
    return true;
}

static bool dict_equal(const jdict *a, const jdict *b, int depth) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        long j = jdict_find(b, a->keys[i]);
        if (j < 0 || !equal_at(a->vals[i], b->vals[j], depth + 1)) return false;
    }
    return true;
}

bool jv_equal(jv a, jv b) { return equal_at(a, b, 0); }

/* Python ==; past JV_MAX_NESTING levels, distinct containers are unequal. */
static bool equal_at(jv a, jv b, int depth) {
    if (jv_is_number(a) && jv_is_number(b)) {
        if (a.type == JV_FLOAT || b.type == JV_FLOAT) return jv_as_double(a) == jv_as_double(b);
        int64_t x = a.type == JV_BOOL ? a.b : a.i, y = b.type == JV_BOOL ? b.b : b.i;
        return x == y;
    }
    if (a.type != b.type) return false;
    if (jv_is_iterator(a) || jv_is_iterator(b)) return a.flavor == b.flavor && a.l == b.l;
    switch ((jv_type)a.type) {
    case JV_UNDEFINED:
    case JV_NONE: return true;
    case JV_STR: return a.len == b.len && !memcmp(a.s, b.s, a.len);
    case JV_LIST:
    case JV_TUPLE: return a.l == b.l || (depth < JV_MAX_NESTING && seq_equal(a.l, b.l, depth));
    case JV_DICT: return a.d == b.d || (depth < JV_MAX_NESTING && dict_equal(a.d, b.d, depth));
    case JV_NAMESPACE: return a.d == b.d;
    case JV_FUNC: return a.fn == b.fn;
    case JV_LOOP: return a.loop == b.loop;
    default: return false;
    }
}

const char *jv_type_name(jv v) {
    static const char *const flavor_names[] = {"list", "generator", "list_reverseiterator", "reversed", "_GroupTuple"};
    if (v.flavor && (v.type == JV_LIST || v.type == JV_TUPLE)) return flavor_names[v.flavor];
    switch ((jv_type)v.type) {
    case JV_UNDEFINED: return "Undefined";
    case JV_NONE: return "NoneType";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STR: return "str";
    case JV_LIST: return "list";
    case JV_TUPLE: return "tuple";
    case JV_DICT: return "dict";
    case JV_NAMESPACE: return "Namespace";
    case JV_FUNC: return "function";
    case JV_LOOP: return "LoopContext";
    }
    return "object";
}

bool jv_str_eq_cstr(jv v, const char *s) {
    size_t n = strlen(s);
    return v.type == JV_STR && v.len == n && !memcmp(v.s, s, n);
}
