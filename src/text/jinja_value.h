/*
 * jinja_value.h — the values a Jinja template computes with.
 *
 * Python semantics in C: Undefined, None, bool, int, float, str, list,
 * tuple, dict (insertion-ordered), namespace, callables (builtins, macros,
 * bound methods) and the for-loop's `loop` object. A value is 16 bytes and
 * passed by copy; strings are (pointer, byte length) views, containers are
 * pointers to arena memory. Every constructor allocates from the render
 * arena and never returns a NULL pointer: when the arena refuses (memory or
 * limit), it hands back an empty object and the arena's sticky failure is
 * reported by the interpreter at the next check.
 */
#ifndef VLM_TEXT_JINJA_VALUE_H
#define VLM_TEXT_JINJA_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text/jinja_arena.h"

typedef enum jv_type {
    JV_UNDEFINED,
    JV_NONE,
    JV_BOOL,
    JV_INT,
    JV_FLOAT,
    JV_STR,
    JV_LIST,
    JV_TUPLE,
    JV_DICT,
    JV_NAMESPACE,
    JV_FUNC,
    JV_LOOP
} jv_type;

typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jfunc jfunc;
typedef struct jloop jloop;
typedef struct jundef jundef;

/* Which Python type a JV_LIST / JV_TUPLE stands for. Iterators (what
 * select/map/unique/... and reverse return in Jinja) iterate like lists but
 * are always true, have no len() and cannot be indexed; groupby's items are
 * tuples with .grouper and .list. */
typedef enum jv_flavor { JK_PLAIN, JK_GENERATOR, JK_LIST_REVERSE, JK_REVERSED, JK_GROUP } jv_flavor;

typedef struct jv {
    uint8_t type;  /* jv_type */
    uint8_t flavor; /* jv_flavor for JV_LIST / JV_TUPLE */
    uint32_t len;  /* JV_STR: byte length */
    union {
        bool b;
        int64_t i;
        double f;
        const char *s; /* JV_STR: UTF-8 bytes (not NUL-terminated) */
        jlist *l;      /* JV_LIST, JV_TUPLE */
        jdict *d;      /* JV_DICT, JV_NAMESPACE */
        jfunc *fn;
        jloop *loop;
        const jundef *u;
    };
} jv;

struct jlist {
    jv *items;
    size_t n, cap;
};

struct jdict {
    jv *keys, *vals;
    size_t n, cap;
};

/* Why a value is undefined; decides the UndefinedError message. */
typedef enum jundef_kind {
    JU_NAME,      /* 'x' is undefined */
    JU_ATTR,      /* 'dict object' has no attribute 'x' */
    JU_ELEMENT,   /* 'list object' has no element 3 */
    JU_UNSAFE,    /* access to attribute 'append' of 'list' object is unsafe. */
    JU_PLAIN      /* an else-less conditional expression */
} jundef_kind;

struct jundef {
    jundef_kind kind;
    const char *owner; /* "list", "dict", ... for JU_ATTR / JU_ELEMENT / JU_UNSAFE */
    jv key;            /* the name, attribute or element */
};

/* ---- constructors -------------------------------------------------------- */

static inline jv jv_none(void) { jv v = {.type = JV_NONE}; return v; }
static inline jv jv_bool(bool b) { jv v = {.type = JV_BOOL, .b = b}; return v; }
static inline jv jv_int(int64_t i) { jv v = {.type = JV_INT, .i = i}; return v; }
static inline jv jv_float(double f) { jv v = {.type = JV_FLOAT, .f = f}; return v; }
/* A string view of bytes that outlive the render (template text, arena). */
static inline jv jv_str_view(const char *s, size_t len) {
    jv v = {.type = JV_STR, .len = (uint32_t)len, .s = s};
    return v;
}
jv jv_str_copy(jarena *a, const char *s, size_t len);
jv jv_cstr(const char *s); /* view of a static C string */
jv jv_undefined(jarena *a, jundef_kind kind, const char *owner, jv key);
jv jv_list_new(jarena *a, size_t cap);
jv jv_tuple_new(jarena *a, size_t cap);
jv jv_dict_new(jarena *a, size_t cap);

/* ---- containers ---------------------------------------------------------- */

void jlist_push(jarena *a, jlist *l, jv item);
/* Index of key in d, or -1. */
long jdict_find(const jdict *d, jv key);
/* Lookup by C string key; NULL when absent. */
const jv *jdict_get_cstr(const jdict *d, const char *key);
/* Insert or replace, keeping insertion order. */
void jdict_set(jarena *a, jdict *d, jv key, jv val);

/* ---- Python semantics ---------------------------------------------------- */

/* Containers nested deeper than this are not printed or compared (Python
 * raises RecursionError); templates can build such values in a loop. */
#define JV_MAX_NESTING 500

bool jv_truthy(jv v);
/* Python ==. */
bool jv_equal(jv a, jv b);
/* Python type name of v as used in error messages: "str", "list", ... */
const char *jv_type_name(jv v);
static inline bool jv_is_str(jv v) { return v.type == JV_STR; }
/* An iterator stand-in (generator, reversed(...)). */
static inline bool jv_is_iterator(jv v) { return v.type == JV_LIST && v.flavor != JK_PLAIN; }
/* A real list or tuple (not an iterator stand-in). */
static inline bool jv_is_seq(jv v) { return (v.type == JV_LIST && !v.flavor) || v.type == JV_TUPLE; }
/* Mark a fresh list or tuple as standing for another Python type. */
static inline jv jv_flavored(jv seq, jv_flavor kind) {
    seq.flavor = (uint8_t)kind;
    return seq;
}
static inline bool jv_is_number(jv v) {
    return v.type == JV_INT || v.type == JV_FLOAT || v.type == JV_BOOL;
}
/* Numeric value of an int/float/bool. */
static inline double jv_as_double(jv v) {
    return v.type == JV_FLOAT ? v.f : v.type == JV_INT ? (double)v.i : (double)v.b;
}
bool jv_str_eq_cstr(jv v, const char *s);

#endif
