/*
 * jinja_tests.c — the `is` tests of Jinja2 (jinja2/tests.py): defined,
 * none, string, mapping, iterable, comparisons, divisibleby, ...
 */
#include <string.h>

#include "text/jinja_runtime.h"

#define TEST(name) static vlm_status t_##name(jctx *c, const jnode *at, jv v, const jargs *a, jv *out)

static vlm_status need_arg(jctx *c, const jnode *at, const jargs *a, const char *test, jv *arg) {
    const jv *x = jarg(a, 0, NULL);
    if (!x) return jraise(c, at, "TypeError", "test '%s' needs an argument", test);
    *arg = *x;
    return VLM_OK;
}

#define SIMPLE_TEST(name, expr)          \
    TEST(name) {                         \
        (void)c;                         \
        (void)at;                        \
        (void)a;                         \
        *out = jv_bool(expr);            \
        return VLM_OK;                   \
    }

SIMPLE_TEST(defined, v.type != JV_UNDEFINED)
SIMPLE_TEST(undefined, v.type == JV_UNDEFINED)
SIMPLE_TEST(none, v.type == JV_NONE)
SIMPLE_TEST(boolean, v.type == JV_BOOL)
SIMPLE_TEST(is_false, v.type == JV_BOOL && !v.b)
SIMPLE_TEST(is_true, v.type == JV_BOOL && v.b)
SIMPLE_TEST(string, v.type == JV_STR)
SIMPLE_TEST(number, v.type == JV_INT || v.type == JV_FLOAT || v.type == JV_BOOL)
SIMPLE_TEST(integer, v.type == JV_INT)
SIMPLE_TEST(float, v.type == JV_FLOAT)
SIMPLE_TEST(mapping, v.type == JV_DICT)
SIMPLE_TEST(callable, v.type == JV_FUNC || v.type == JV_UNDEFINED)
SIMPLE_TEST(iterable, v.type == JV_STR || jv_is_seq(v) || v.type == JV_DICT || v.type == JV_UNDEFINED ||
                          v.type == JV_LOOP)
SIMPLE_TEST(sequence, v.type == JV_STR || jv_is_seq(v) || v.type == JV_DICT || v.type == JV_UNDEFINED)


static vlm_status int_of(jctx *c, const jnode *at, jv v, int64_t *out) {
    if (v.type == JV_UNDEFINED) return jraise_undefined(c, at, v);
    if (v.type == JV_INT) *out = v.i;
    else if (v.type == JV_BOOL) *out = v.b;
    else return jraise(c, at, "TypeError", "expected an integer, got %s", jv_type_name(v));
    return VLM_OK;
}

TEST(odd) {
    (void)a;
    int64_t i = 0;
    vlm_status st = int_of(c, at, v, &i);
    *out = jv_bool(i % 2 != 0);
    return st;
}

TEST(even) {
    (void)a;
    int64_t i = 0;
    vlm_status st = int_of(c, at, v, &i);
    *out = jv_bool(i % 2 == 0);
    return st;
}

TEST(divisibleby) {
    jv n = jv_none();
    int64_t x = 0, d = 0;
    vlm_status st = need_arg(c, at, a, "divisibleby", &n);
    if (!st) st = int_of(c, at, v, &x);
    if (!st) st = int_of(c, at, n, &d);
    if (st) return st;
    if (d == 0) return jraise(c, at, "ZeroDivisionError", "integer modulo by zero");
    *out = jv_bool(x % d == 0);
    return VLM_OK;
}

static vlm_status case_test(jctx *c, jv v, char how, jv *out) {
    jv s = jto_str(c, v);
    jv mapped = jpy_case(c->arena, s, how);
    jv other = jpy_case(c->arena, s, how == 'l' ? 'u' : 'l');
    /* Python: all cased characters have that case and there is at least one */
    bool has_cased = !jv_equal(mapped, other);
    *out = jv_bool(has_cased && jv_equal(mapped, s));
    return jarena_status(c);
}

TEST(lower) { (void)at; (void)a; return case_test(c, v, 'l', out); }
TEST(upper) { (void)at; (void)a; return case_test(c, v, 'u', out); }

static vlm_status compare_test(jctx *c, const jnode *at, jv v, const jargs *a, jop op, jv *out) {
    jv other = jv_none();
    bool r;
    vlm_status st = need_arg(c, at, a, "comparison", &other);
    if (!st) st = jcompare(c, at, op, v, other, &r);
    if (!st) *out = jv_bool(r);
    return st;
}

TEST(eq) { return compare_test(c, at, v, a, JOP_EQ, out); }
TEST(ne) { return compare_test(c, at, v, a, JOP_NE, out); }
TEST(lt) { return compare_test(c, at, v, a, JOP_LT, out); }
TEST(le) { return compare_test(c, at, v, a, JOP_LE, out); }
TEST(gt) { return compare_test(c, at, v, a, JOP_GT, out); }
TEST(ge) { return compare_test(c, at, v, a, JOP_GE, out); }
TEST(in) { return compare_test(c, at, v, a, JOP_IN, out); }

TEST(sameas) {
    jv other = jv_none();
    vlm_status st = need_arg(c, at, a, "sameas", &other);
    if (st) return st;
    bool same = v.type == other.type;
    if (same) {
        switch ((jv_type)v.type) {
        case JV_NONE: case JV_UNDEFINED: break;
        case JV_BOOL: same = v.b == other.b; break;
        case JV_INT: same = v.i == other.i; break;
        case JV_STR: same = v.s == other.s && v.len == other.len; break;
        default: same = v.l == other.l; break;
        }
    }
    *out = jv_bool(same);
    return VLM_OK;
}

typedef struct named_test {
    const char *name;
    jbuiltin_fn fn;
} named_test;

static const named_test tests[] = {
    {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"boolean", t_boolean},
    {"false", t_is_false}, {"true", t_is_true}, {"string", t_string}, {"number", t_number},
    {"integer", t_integer}, {"float", t_float}, {"mapping", t_mapping}, {"iterable", t_iterable},
    {"sequence", t_sequence}, {"callable", t_callable}, {"odd", t_odd}, {"even", t_even},
    {"divisibleby", t_divisibleby}, {"lower", t_lower}, {"upper", t_upper}, {"sameas", t_sameas},
    {"eq", t_eq}, {"equalto", t_eq}, {"==", t_eq}, {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt},
    {"lessthan", t_lt}, {"<", t_lt}, {"le", t_le}, {"<=", t_le}, {"gt", t_gt}, {"greaterthan", t_gt},
    {">", t_gt}, {"ge", t_ge}, {">=", t_ge}, {"in", t_in},
};

jbuiltin_fn jtest_lookup(const char *name) {
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++)
        if (!strcmp(tests[i].name, name)) return tests[i].fn;
    return NULL;
}

vlm_status jrun_test(jctx *c, const jnode *at, const char *name, jv value, const jargs *args, bool *out) {
    jbuiltin_fn fn = jtest_lookup(name);
    if (!fn) return jraise(c, at, "TemplateRuntimeError", "No test named '%s'.", name);
    jv r;
    vlm_status st = fn(c, at, value, args, &r);
    *out = !st && jv_truthy(r);
    return st;
}
