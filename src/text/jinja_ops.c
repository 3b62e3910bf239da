/*
 * jinja_ops.c — Python operator semantics: arithmetic, concatenation,
 * comparison and ordering, membership, attribute and item lookup under
 * Jinja's sandbox rules, slicing, and printf-style `str % args`.
 * Error messages are Python's, so a failing template reads as in Jinja2.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "text/jinja_runtime.h"

static int64_t as_int(jv v) { return v.type == JV_BOOL ? (int64_t)v.b : v.i; }
static bool is_intlike(jv v) { return v.type == JV_INT || v.type == JV_BOOL; }

static const char *op_symbol(jop op) {
    static const char *const sym[] = {"+", "-", "*", "/", "//", "%", "**", "~"};
    return op <= JOP_CONCAT ? sym[op] : "?";
}

static vlm_status unsupported(jctx *c, const jnode *at, jop op, jv a, jv b) {
    return jraise(c, at, "TypeError", "unsupported operand type(s) for %s: '%s' and '%s'",
                  op == JOP_POW ? "** or pow()" : op_symbol(op), jv_type_name(a), jv_type_name(b));
}

static vlm_status overflow(jctx *c, const jnode *at) {
    return jraise(c, at, "OverflowError", "integer result too large for the template engine");
}

/* Repeat a str or sequence n times (size checked against the output limit). */
static vlm_status repeat(jctx *c, const jnode *at, jv seq, int64_t n, jv *out) {
    if (n < 0) n = 0;
    size_t unit = seq.type == JV_STR ? seq.len : seq.l->n * sizeof(jv);
    if (unit && (uint64_t)n > (uint64_t)c->limits.max_output / unit)
        return vlm_error(VLM_ERR_LIMIT, "%s: repetition result exceeds the output limit of %zu bytes",
                         c->src->name, c->limits.max_output);
    (void)at;
    if (seq.type == JV_STR) {
        jsb b;
        jsb_init(&b, c->arena, 0);
        for (int64_t i = 0; i < n; i++) jsb_put(&b, seq.s, seq.len);
        *out = jsb_value(&b);
    } else {
        jv r = seq.type == JV_LIST ? jv_list_new(c->arena, seq.l->n * (size_t)n)
                                   : jv_tuple_new(c->arena, seq.l->n * (size_t)n);
        for (int64_t i = 0; i < n; i++)
            for (size_t k = 0; k < seq.l->n; k++) jlist_push(c->arena, r.l, seq.l->items[k]);
        *out = r;
    }
    return jarena_status(c);
}

static vlm_status concat_seq(jctx *c, jv a, jv b, jv *out) {
    jv r = a.type == JV_LIST ? jv_list_new(c->arena, a.l->n + b.l->n) : jv_tuple_new(c->arena, a.l->n + b.l->n);
    for (size_t i = 0; i < a.l->n; i++) jlist_push(c->arena, r.l, a.l->items[i]);
    for (size_t i = 0; i < b.l->n; i++) jlist_push(c->arena, r.l, b.l->items[i]);
    *out = r;
    return jarena_status(c);
}

static vlm_status add(jctx *c, const jnode *at, jv a, jv b, jv *out) {
    if (a.type == JV_STR && b.type == JV_STR) {
        jsb s;
        jsb_init(&s, c->arena, c->limits.max_output);
        jsb_put(&s, a.s, a.len);
        jsb_put(&s, b.s, b.len);
        *out = jsb_value(&s);
        return jarena_status(c);
    }
    if (jv_is_seq(a) && jv_is_seq(b) && a.type == b.type) return concat_seq(c, a, b, out);
    if (a.type == JV_STR || jv_is_seq(a))
        return jraise(c, at, "TypeError", "can only concatenate %s (not \"%s\") to %s", jv_type_name(a),
                      jv_type_name(b), jv_type_name(a));
    return unsupported(c, at, JOP_ADD, a, b);
}

static vlm_status int_arith(jctx *c, const jnode *at, jop op, int64_t x, int64_t y, jv *out) {
    int64_t r;
    switch (op) {
    case JOP_ADD: if (__builtin_add_overflow(x, y, &r)) return overflow(c, at); break;
    case JOP_SUB: if (__builtin_sub_overflow(x, y, &r)) return overflow(c, at); break;
    case JOP_MUL: if (__builtin_mul_overflow(x, y, &r)) return overflow(c, at); break;
    case JOP_DIV:
        if (y == 0) return jraise(c, at, "ZeroDivisionError", "division by zero");
        *out = jv_float((double)x / (double)y);
        return VLM_OK;
    case JOP_FLOORDIV:
    case JOP_MOD: {
        if (y == 0)
            return jraise(c, at, "ZeroDivisionError", op == JOP_MOD ? "integer modulo by zero"
                                                                       : "integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) return overflow(c, at);
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {
            q--;
            m += y;
        }
        r = op == JOP_MOD ? m : q;
        break;
    }
    case JOP_POW: {
        if (y < 0) {
            if (x == 0) return jraise(c, at, "ZeroDivisionError", "0.0 cannot be raised to a negative power");
            *out = jv_float(pow((double)x, (double)y));
            return VLM_OK;
        }
        r = 1;
        int64_t base = x;
        while (y) {
            if ((y & 1) && __builtin_mul_overflow(r, base, &r)) return overflow(c, at);
            y >>= 1;
            if (y && __builtin_mul_overflow(base, base, &base)) return overflow(c, at);
        }
        break;
    }
    default: return overflow(c, at);
    }
    *out = jv_int(r);
    return VLM_OK;
}

static vlm_status float_arith(jctx *c, const jnode *at, jop op, double x, double y, jv *out) {
    double r;
    switch (op) {
    case JOP_ADD: r = x + y; break;
    case JOP_SUB: r = x - y; break;
    case JOP_MUL: r = x * y; break;
    case JOP_DIV:
        if (y == 0) return jraise(c, at, "ZeroDivisionError", "float division by zero");
        r = x / y;
        break;
    case JOP_FLOORDIV:
    case JOP_MOD: {
        if (y == 0)
            return jraise(c, at, "ZeroDivisionError",
                          op == JOP_MOD ? "float modulo by zero" : "float floor division by zero");
        /* CPython's float_divmod */
        double mod = fmod(x, y), div = (x - mod) / y;
        if (mod != 0) {
            if ((y < 0) != (mod < 0)) {
                mod += y;
                div -= 1.0;
            }
        } else {
            mod = copysign(0.0, y);
        }
        double fdiv = copysign(0.0, x / y);
        if (div != 0) {
            fdiv = floor(div);
            if (div - fdiv > 0.5) fdiv += 1.0;
        }
        r = op == JOP_MOD ? mod : fdiv;
        break;
    }
    case JOP_POW:
        if (x == 0 && y < 0) return jraise(c, at, "ZeroDivisionError", "0.0 cannot be raised to a negative power");
        r = pow(x, y);
        break;
    default: return unsupported(c, at, op, jv_float(x), jv_float(y));
    }
    *out = jv_float(r);
    return VLM_OK;
}

vlm_status jbinop(jctx *c, const jnode *at, jop op, jv a, jv b, jv *out) {
    if (op == JOP_CONCAT) {
        jsb s;
        jsb_init(&s, c->arena, c->limits.max_output);
        jwrite_str(&s, a);
        jwrite_str(&s, b);
        *out = jsb_value(&s);
        return jarena_status(c);
    }
    if (a.type == JV_UNDEFINED) return jraise_undefined(c, at, a);
    if (b.type == JV_UNDEFINED) return jraise_undefined(c, at, b);
    if (jv_is_number(a) && jv_is_number(b)) {
        if (is_intlike(a) && is_intlike(b)) return int_arith(c, at, op, as_int(a), as_int(b), out);
        return float_arith(c, at, op, jv_as_double(a), jv_as_double(b), out);
    }
    switch (op) {
    case JOP_ADD: return add(c, at, a, b, out);
    case JOP_MUL:
        if ((a.type == JV_STR || jv_is_seq(a)) && is_intlike(b)) return repeat(c, at, a, as_int(b), out);
        if ((b.type == JV_STR || jv_is_seq(b)) && is_intlike(a)) return repeat(c, at, b, as_int(a), out);
        if (a.type == JV_STR || jv_is_seq(a))
            return jraise(c, at, "TypeError", "can't multiply sequence by non-int of type '%s'", jv_type_name(b));
        break;
    case JOP_MOD:
        if (a.type == JV_STR) return jpercent_format(c, at, a, b, out);
        break;
    default: break;
    }
    return unsupported(c, at, op, a, b);
}

/* ---- comparison ---------------------------------------------------------- */

static int cmp_bytes(jv a, jv b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int r = memcmp(a.s, b.s, n);
    if (r) return r < 0 ? -1 : 1;
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

static int cmp_casefold(jctx *c, jv a, jv b) {
    return cmp_bytes(jpy_case(c->arena, a, 'l'), jpy_case(c->arena, b, 'l'));
}

static vlm_status order_at(jctx *c, const jnode *at, jv a, jv b, bool case_insensitive, int depth, int *out);

vlm_status jorder(jctx *c, const jnode *at, jv a, jv b, bool case_insensitive, int *out) {
    return order_at(c, at, a, b, case_insensitive, 0, out);
}

static vlm_status order_at(jctx *c, const jnode *at, jv a, jv b, bool case_insensitive, int depth, int *out) {
    if (depth > JV_MAX_NESTING) return jraise(c, at, "RecursionError", "maximum recursion depth exceeded in comparison");
    if (a.type == JV_UNDEFINED) return jraise_undefined(c, at, a);
    if (b.type == JV_UNDEFINED) return jraise_undefined(c, at, b);
    if (jv_is_number(a) && jv_is_number(b)) {
        if (is_intlike(a) && is_intlike(b)) {
            int64_t x = as_int(a), y = as_int(b);
            *out = x < y ? -1 : x > y;
        } else {
            double x = jv_as_double(a), y = jv_as_double(b);
            *out = x < y ? -1 : x > y;
        }
        return VLM_OK;
    }
    if (a.type == JV_STR && b.type == JV_STR) {
        *out = case_insensitive ? cmp_casefold(c, a, b) : cmp_bytes(a, b);
        return VLM_OK;
    }
    if (jv_is_seq(a) && jv_is_seq(b) && a.type == b.type) {
        for (size_t i = 0; i < a.l->n && i < b.l->n; i++) {
            if (jv_equal(a.l->items[i], b.l->items[i])) continue;
            return order_at(c, at, a.l->items[i], b.l->items[i], case_insensitive, depth + 1, out);
        }
        *out = a.l->n < b.l->n ? -1 : a.l->n > b.l->n;
        return VLM_OK;
    }
    return jraise(c, at, "TypeError", "'<' not supported between instances of '%s' and '%s'", jv_type_name(a),
                  jv_type_name(b));
}

static vlm_status contains(jctx *c, const jnode *at, jv item, jv container, bool *out) {
    switch ((jv_type)container.type) {
    case JV_STR:
        if (item.type != JV_STR)
            return jraise(c, at, "TypeError", "'in <string>' requires string as left operand, not %s",
                          jv_type_name(item));
        *out = item.len == 0 || memmem(container.s, container.len, item.s, item.len) != NULL;
        return VLM_OK;
    case JV_LIST:
    case JV_TUPLE:
        *out = false;
        for (size_t i = 0; i < container.l->n && !*out; i++) *out = jv_equal(container.l->items[i], item);
        return VLM_OK;
    case JV_DICT:
    case JV_NAMESPACE: *out = jdict_find(container.d, item) >= 0; return VLM_OK;
    case JV_UNDEFINED: *out = false; return VLM_OK;
    default:
        return jraise(c, at, "TypeError", "argument of type '%s' is not iterable", jv_type_name(container));
    }
}

vlm_status jcompare(jctx *c, const jnode *at, jop op, jv a, jv b, bool *out) {
    int r;
    vlm_status st;
    switch (op) {
    case JOP_EQ: *out = jv_equal(a, b); return VLM_OK;
    case JOP_NE: *out = !jv_equal(a, b); return VLM_OK;
    case JOP_IN: return contains(c, at, a, b, out);
    case JOP_NOTIN:
        st = contains(c, at, a, b, out);
        *out = !*out;
        return st;
    default: break;
    }
    if ((st = jorder(c, at, a, b, false, &r))) {
        if (jv_is_number(a) == jv_is_number(b) || a.type == JV_UNDEFINED || b.type == JV_UNDEFINED) return st;
        static const char *const sym[] = {"<", "<=", ">", ">="};
        return jraise(c, at, "TypeError", "'%s' not supported between instances of '%s' and '%s'",
                      sym[op - JOP_LT], jv_type_name(a), jv_type_name(b));
    }
    switch (op) {
    case JOP_LT: *out = r < 0; break;
    case JOP_LE: *out = r <= 0; break;
    case JOP_GT: *out = r > 0; break;
    default: *out = r >= 0; break;
    }
    return VLM_OK;
}

/* ---- attribute and item lookup -------------------------------------------- */

static const char *owner_name(jv v) {
    if (jv_is_iterator(v)) return v.flavor == JK_GENERATOR ? "generator object" : "iterator object";
    switch ((jv_type)v.type) {
    case JV_NONE: return "None";
    case JV_BOOL: return "bool object";
    case JV_INT: return "int object";
    case JV_FLOAT: return "float object";
    case JV_STR: return "str object";
    case JV_LIST: return "list object";
    case JV_TUPLE: return "tuple object";
    case JV_DICT: return "dict object";
    case JV_NAMESPACE: return "jinja2.utils.Namespace object";
    case JV_LOOP: return "jinja2.runtime.LoopContext object";
    default: return "function object";
    }
}

static jv loop_attr(jctx *c, const jloop *l, jv name, bool *found) {
    size_t n = l->items->n, i = l->index0;
    *found = true;
    if (jv_str_eq_cstr(name, "index")) return jv_int((int64_t)i + 1);
    if (jv_str_eq_cstr(name, "index0")) return jv_int((int64_t)i);
    if (jv_str_eq_cstr(name, "revindex")) return jv_int((int64_t)(n - i));
    if (jv_str_eq_cstr(name, "revindex0")) return jv_int((int64_t)(n - i - 1));
    if (jv_str_eq_cstr(name, "first")) return jv_bool(i == 0);
    if (jv_str_eq_cstr(name, "last")) return jv_bool(i + 1 == n);
    if (jv_str_eq_cstr(name, "length")) return jv_int((int64_t)n);
    if (jv_str_eq_cstr(name, "depth")) return jv_int(l->depth);
    if (jv_str_eq_cstr(name, "depth0")) return jv_int(l->depth - 1);
    if (jv_str_eq_cstr(name, "previtem"))
        return i > 0 ? l->items->items[i - 1] : jv_undefined(c->arena, JU_PLAIN, NULL, jv_none());
    if (jv_str_eq_cstr(name, "nextitem"))
        return i + 1 < n ? l->items->items[i + 1] : jv_undefined(c->arena, JU_PLAIN, NULL, jv_none());
    *found = false;
    return jv_none();
}

bool jmethod_value(jctx *c, jv obj, jv name, jv *out) {
    char buf[32];
    if (name.len >= sizeof buf) return false;
    memcpy(buf, name.s, name.len);
    buf[name.len] = '\0';
    bool unsafe = false;
    jbuiltin_fn fn = jmethod_lookup(obj, buf, &unsafe);
    if (unsafe) {
        *out = jv_undefined(c->arena, JU_UNSAFE, jv_type_name(obj), name);
        return true;
    }
    if (!fn) return false;
    *out = jfunc_builtin(c, jarena_strndup(c->arena, buf, name.len), fn, obj);
    return true;
}

vlm_status jgetattr(jctx *c, const jnode *at, jv obj, jv name, jv *out) {
    if (obj.type == JV_UNDEFINED) return jraise_undefined(c, at, obj);
    if (name.type == JV_STR && jmethod_value(c, obj, name, out)) return jarena_status(c);
    if (obj.type == JV_DICT || obj.type == JV_NAMESPACE) {
        long i = jdict_find(obj.d, name);
        if (i >= 0) {
            *out = obj.d->vals[i];
            return VLM_OK;
        }
    } else if (obj.type == JV_TUPLE && obj.flavor == JK_GROUP && obj.l->n == 2 &&
               (jv_str_eq_cstr(name, "grouper") || jv_str_eq_cstr(name, "list"))) {
        *out = obj.l->items[jv_str_eq_cstr(name, "grouper") ? 0 : 1];
        return VLM_OK;
    } else if (obj.type == JV_LOOP && name.type == JV_STR) {
        bool found;
        *out = loop_attr(c, obj.loop, name, &found);
        if (found) return jarena_status(c);
    }
    *out = jv_undefined(c->arena, name.type == JV_STR ? JU_ATTR : JU_ELEMENT, owner_name(obj), name);
    return jarena_status(c);
}

static bool index_of(jv key, size_t n, size_t *idx) {
    if (!is_intlike(key)) return false;
    int64_t i = as_int(key);
    if (i < 0) i += (int64_t)n;
    if (i < 0 || (uint64_t)i >= n) return false;
    *idx = (size_t)i;
    return true;
}

vlm_status jgetitem(jctx *c, const jnode *at, jv obj, jv key, jv *out) {
    size_t idx;
    if (jv_is_iterator(obj)) return jraise(c, at, "TypeError", "'%s' object is not subscriptable", jv_type_name(obj));
    switch ((jv_type)obj.type) {
    case JV_UNDEFINED: return jraise_undefined(c, at, obj);
    case JV_DICT: {
        long i = jdict_find(obj.d, key);
        if (i >= 0) {
            *out = obj.d->vals[i];
            return VLM_OK;
        }
        break;
    }
    case JV_LIST:
    case JV_TUPLE:
        if (index_of(key, obj.l->n, &idx)) {
            *out = obj.l->items[idx];
            return VLM_OK;
        }
        break;
    case JV_STR: {
        size_t n = jutf8_count(obj.s, obj.len);
        if (index_of(key, n, &idx)) {
            size_t a = jutf8_offset(obj.s, obj.len, idx), b = a;
            jutf8_next(obj.s, obj.len, &b);
            *out = jv_str_view(obj.s + a, b - a);
            return VLM_OK;
        }
        break;
    }
    default: break;
    }
    if (key.type == JV_STR) return jgetattr(c, at, obj, key, out);
    *out = jv_undefined(c->arena, JU_ELEMENT, owner_name(obj), key);
    return jarena_status(c);
}

/* Python slice.indices(). */
static vlm_status slice_bound(jctx *c, const jnode *at, jv v, int64_t n, int64_t step, bool is_start,
                              int64_t *out) {
    if (v.type == JV_NONE || v.type == JV_UNDEFINED) {
        *out = step > 0 ? (is_start ? 0 : n) : (is_start ? n - 1 : -1);
        return VLM_OK;
    }
    if (!is_intlike(v))
        return jraise(c, at, "TypeError", "slice indices must be integers or None or have an __index__ method");
    int64_t i = as_int(v);
    if (i < 0) {
        i += n;
        if (i < 0) i = step > 0 ? 0 : -1;
    } else if (i >= n) {
        i = step > 0 ? n : n - 1;
    }
    *out = i;
    return VLM_OK;
}

vlm_status jslice(jctx *c, const jnode *at, jv obj, jv start, jv stop, jv step, jv *out) {
    if (obj.type == JV_UNDEFINED) return jraise_undefined(c, at, obj);
    int64_t st_ = 1;
    if (step.type != JV_NONE && step.type != JV_UNDEFINED) {
        if (!is_intlike(step))
            return jraise(c, at, "TypeError", "slice indices must be integers or None or have an __index__ method");
        st_ = as_int(step);
        if (st_ == 0) return jraise(c, at, "ValueError", "slice step cannot be zero");
    }
    int64_t n;
    if (obj.type == JV_STR) n = (int64_t)jutf8_count(obj.s, obj.len);
    else if (jv_is_seq(obj)) n = (int64_t)obj.l->n;
    else return jraise(c, at, "TypeError", "'%s' object is not subscriptable", jv_type_name(obj));
    int64_t a, b;
    vlm_status st = slice_bound(c, at, start, n, st_, true, &a);
    if (!st) st = slice_bound(c, at, stop, n, st_, false, &b);
    if (st) return st;
    if (obj.type == JV_STR) {
        if (st_ == 1) {
            size_t x = jutf8_offset(obj.s, obj.len, (size_t)a), y = a < b ? jutf8_offset(obj.s, obj.len, (size_t)b) : x;
            *out = jv_str_view(obj.s + x, y - x);
            return VLM_OK;
        }
        jlist *chars;
        if ((st = jiterate(c, at, obj, &chars))) return st;
        jsb s;
        jsb_init(&s, c->arena, 0);
        for (int64_t i = a; st_ > 0 ? i < b : i > b; i += st_) jsb_put(&s, chars->items[i].s, chars->items[i].len);
        *out = jsb_value(&s);
        return jarena_status(c);
    }
    jv r = obj.type == JV_LIST ? jv_list_new(c->arena, 0) : jv_tuple_new(c->arena, 0);
    for (int64_t i = a; st_ > 0 ? i < b : i > b; i += st_) jlist_push(c->arena, r.l, obj.l->items[i]);
    *out = r;
    return jarena_status(c);
}
