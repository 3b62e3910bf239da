/*
 * jinja_parser.c — recursive-descent parser following jinja2/parser.py.
 *
 * Precedence, loosest first: conditional `a if b else c`, or, and, not,
 * comparisons (chained; in / not in), + -, ~, * / // %, ** (left
 * associative, as in Jinja), unary - +, then primaries with postfix
 * `.attr`, `[subscript]`, `(call)` and the filter/test chain (`|f`, `is t`).
 * Statements: if/elif/else, for (else, inline if, unpacking), set (plain,
 * namespace attribute, block), macro, call, filter, with, break,
 * continue and transformers' generation block.
 */
#include "text/jinja_parser.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "text/jinja_runtime.h"

#define MAX_NESTING 200

typedef struct parser {
    jarena *arena;
    const jsource *src;
    const jtoken *t;
    size_t n, i;
    int depth;
} parser;

typedef struct nodevec {
    jnode **items;
    size_t n, cap;
} nodevec;

static vlm_status nodevec_push(parser *P, nodevec *v, jnode *node) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        jnode **items = jarena_alloc(P->arena, cap * sizeof *items);
        if (!items) return P->arena->failure;
        if (v->n) memcpy(items, v->items, v->n * sizeof *items);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = node;
    return VLM_OK;
}

static jnodes nodevec_done(nodevec *v) {
    jnodes r = {v->items, v->n};
    return r;
}

static const jtoken *cur(parser *P) { return &P->t[P->i]; }
static const jtoken *peek(parser *P, size_t k) {
    return &P->t[P->i + k < P->n ? P->i + k : P->n - 1];
}
static void advance(parser *P) {
    if (P->i + 1 < P->n) P->i++;
}

static bool is_op(const jtoken *t, const char *op) {
    return t->type == JT_OP && t->len == strlen(op) && !memcmp(t->s, op, t->len);
}
static bool is_name(const jtoken *t, const char *name) {
    return t->type == JT_NAME && t->len == strlen(name) && !memcmp(t->s, name, t->len);
}

static const char *describe(const jtoken *t, char *buf, size_t size) {
    switch ((jtok_type)t->type) {
    case JT_EOF: return "end of template";
    case JT_VAR_END: return "end of print statement";
    case JT_BLOCK_END: return "end of statement block";
    case JT_DATA: return "template data";
    case JT_STRING: return "string";
    default: snprintf(buf, size, "%.*s", (int)(t->len > 40 ? 40 : t->len), t->s); return buf;
    }
}

static vlm_status fail(parser *P, const jtoken *at, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return jsource_syntax_error(P->src, at->pos, "%s", msg);
}

static vlm_status unexpected(parser *P, const char *expected) {
    char buf[64];
    return fail(P, cur(P), "expected %s, got '%s'", expected, describe(cur(P), buf, sizeof buf));
}

static vlm_status expect_op(parser *P, const char *op) {
    if (!is_op(cur(P), op)) {
        char want[16];
        snprintf(want, sizeof want, "'%s'", op);
        return unexpected(P, want);
    }
    advance(P);
    return VLM_OK;
}

static vlm_status expect_name(parser *P, const char *name) {
    if (!is_name(cur(P), name)) {
        char want[32];
        snprintf(want, sizeof want, "'%s'", name);
        return unexpected(P, want);
    }
    advance(P);
    return VLM_OK;
}

static vlm_status expect_type(parser *P, jtok_type type, const char *what) {
    if (cur(P)->type != type) return unexpected(P, what);
    advance(P);
    return VLM_OK;
}

static jnode *new_node(parser *P, jnode_kind kind, uint32_t pos) {
    jnode *n = jarena_calloc(P->arena, 1, sizeof *n);
    if (n) {
        n->kind = (uint8_t)kind;
        n->pos = pos;
    }
    return n;
}

#define NEW(var, kind, pos)                                   \
    jnode *var = new_node(P, kind, pos);                       \
    if (!var) return P->arena->failure

#define TRY(x)                        \
    do {                              \
        vlm_status st_ = (x);         \
        if (st_) return st_;          \
    } while (0)

static const char *name_of(parser *P, const jtoken *t) {
    return jarena_strndup(P->arena, t->s, t->len);
}

static vlm_status enter(parser *P) {
    if (++P->depth > MAX_NESTING)
        return vlm_error(VLM_ERR_LIMIT, "%s: template nested deeper than %d levels", P->src->name,
                         MAX_NESTING);
    return VLM_OK;
}

/* ---- expressions -------------------------------------------------------- */

static vlm_status parse_expression(parser *P, bool with_condexpr, jnode **out);
static vlm_status parse_unary(parser *P, bool with_filter, jnode **out);
static vlm_status parse_primary(parser *P, jnode **out);
static vlm_status parse_postfix(parser *P, jnode **node);
static vlm_status parse_filter_expr(parser *P, jnode **node);

typedef bool (*end_rule)(const jtoken *t);

static bool end_in(const jtoken *t) { return is_name(t, "in"); }
static bool end_recursive(const jtoken *t) { return is_name(t, "recursive"); }
static bool end_none(const jtoken *t) { (void)t; return false; }

static bool tuple_end(parser *P, end_rule extra) {
    const jtoken *t = cur(P);
    return t->type == JT_VAR_END || t->type == JT_BLOCK_END || is_op(t, ")") || extra(t);
}

/* Comma-separated expressions: a tuple when a comma appears. */
static vlm_status parse_tuple(parser *P, bool simplified, bool with_condexpr, end_rule extra,
                              bool explicit_parens, jnode **out) {
    uint32_t pos = cur(P)->pos;
    nodevec items = {0};
    bool is_tuple = false;
    for (;;) {
        if (items.n) TRY(expect_op(P, ","));
        if (tuple_end(P, extra)) break;
        jnode *e;
        if (simplified) TRY(parse_primary(P, &e));
        else TRY(parse_expression(P, with_condexpr, &e));
        TRY(nodevec_push(P, &items, e));
        if (is_op(cur(P), ",")) is_tuple = true;
        else break;
    }
    if (!is_tuple) {
        if (items.n) {
            *out = items.items[0];
            return VLM_OK;
        }
        if (!explicit_parens) return unexpected(P, "an expression");
    }
    NEW(t, JN_TUPLE, pos);
    t->seq.items = nodevec_done(&items);
    *out = t;
    return VLM_OK;
}

static vlm_status parse_call_args(parser *P, jcall_args *args) {
    TRY(expect_op(P, "("));
    nodevec pos = {0}, kwv = {0};
    const char **names = NULL;
    size_t names_cap = 0;
    bool first = true;
    while (!is_op(cur(P), ")")) {
        if (!first) {
            TRY(expect_op(P, ","));
            if (is_op(cur(P), ")")) break;
        }
        first = false;
        if (is_op(cur(P), "*")) {
            advance(P);
            TRY(parse_expression(P, true, &args->star));
        } else if (is_op(cur(P), "**")) {
            advance(P);
            TRY(parse_expression(P, true, &args->dstar));
        } else if (cur(P)->type == JT_NAME && is_op(peek(P, 1), "=")) {
            const char *key = name_of(P, cur(P));
            advance(P);
            advance(P);
            jnode *value;
            TRY(parse_expression(P, true, &value));
            if (kwv.n == names_cap) {
                size_t cap = names_cap ? names_cap * 2 : 4;
                const char **nn = jarena_alloc(P->arena, cap * sizeof *nn);
                if (!nn) return P->arena->failure;
                if (kwv.n) memcpy(nn, names, kwv.n * sizeof *nn);
                names = nn;
                names_cap = cap;
            }
            names[kwv.n] = key;
            TRY(nodevec_push(P, &kwv, value));
        } else {
            if (kwv.n || args->star || args->dstar)
                return fail(P, cur(P), "positional argument follows keyword argument");
            jnode *value;
            TRY(parse_expression(P, true, &value));
            TRY(nodevec_push(P, &pos, value));
        }
    }
    TRY(expect_op(P, ")"));
    args->pos = nodevec_done(&pos);
    args->kw_values = nodevec_done(&kwv);
    args->kw_names = names;
    return VLM_OK;
}

/* A dotted name after `|` or `is`. */
static vlm_status parse_dotted_name(parser *P, const char **out) {
    if (cur(P)->type != JT_NAME) return unexpected(P, "a name");
    size_t start = P->i;
    advance(P);
    while (is_op(cur(P), ".") && peek(P, 1)->type == JT_NAME) {
        advance(P);
        advance(P);
    }
    const jtoken *a = &P->t[start], *b = &P->t[P->i - 1];
    *out = jarena_strndup(P->arena, a->s, (size_t)(b->s + b->len - a->s));
    return *out ? VLM_OK : P->arena->failure;
}

static vlm_status parse_filter(parser *P, jnode *arg, jnode **out) {
    uint32_t pos = cur(P)->pos;
    NEW(f, JN_FILTER, pos);
    f->filter.arg = arg;
    TRY(parse_dotted_name(P, &f->filter.name));
    f->filter.fn = jfilter_lookup(f->filter.name);
    if (is_op(cur(P), "(")) TRY(parse_call_args(P, &f->filter.args));
    *out = f;
    return VLM_OK;
}

static vlm_status parse_test(parser *P, jnode *arg, jnode **out) {
    uint32_t pos = cur(P)->pos;
    advance(P); /* is */
    NEW(t, JN_TEST, pos);
    t->filter.arg = arg;
    if (is_name(cur(P), "not")) {
        advance(P);
        t->filter.negated = true;
    }
    TRY(parse_dotted_name(P, &t->filter.name));
    t->filter.fn = jtest_lookup(t->filter.name);
    const jtoken *c = cur(P);
    if (is_op(c, "(")) {
        TRY(parse_call_args(P, &t->filter.args));
    } else if ((c->type == JT_NAME || c->type == JT_STRING || c->type == JT_INT || c->type == JT_FLOAT ||
                is_op(c, "[") || is_op(c, "{")) &&
               !is_name(c, "else") && !is_name(c, "or") && !is_name(c, "and")) {
        if (is_name(c, "is")) return fail(P, c, "You cannot chain multiple tests with is");
        jnode *a;
        TRY(parse_primary(P, &a));
        TRY(parse_postfix(P, &a));
        nodevec v = {0};
        TRY(nodevec_push(P, &v, a));
        t->filter.args.pos = nodevec_done(&v);
    }
    *out = t;
    return VLM_OK;
}

static vlm_status parse_filter_expr(parser *P, jnode **node) {
    for (;;) {
        if (is_op(cur(P), "|")) {
            advance(P);
            TRY(parse_filter(P, *node, node));
        } else if (is_name(cur(P), "is")) {
            TRY(parse_test(P, *node, node));
        } else if (is_op(cur(P), "(")) {
            NEW(c, JN_CALL, cur(P)->pos);
            c->call.callee = *node;
            TRY(parse_call_args(P, &c->call.args));
            *node = c;
        } else {
            return VLM_OK;
        }
    }
}

static vlm_status parse_subscribed(parser *P, jnode **out) {
    uint32_t pos = cur(P)->pos;
    jnode *parts[3] = {NULL, NULL, NULL};
    if (!is_op(cur(P), ":")) {
        TRY(parse_expression(P, true, &parts[0]));
        if (!is_op(cur(P), ":")) {
            *out = parts[0];
            return VLM_OK;
        }
    }
    advance(P); /* : */
    if (!is_op(cur(P), "]") && !is_op(cur(P), ",") && !is_op(cur(P), ":"))
        TRY(parse_expression(P, true, &parts[1]));
    if (is_op(cur(P), ":")) {
        advance(P);
        if (!is_op(cur(P), "]") && !is_op(cur(P), ",")) TRY(parse_expression(P, true, &parts[2]));
    }
    NEW(s, JN_SLICE, pos);
    s->slice.start = parts[0];
    s->slice.stop = parts[1];
    s->slice.step = parts[2];
    *out = s;
    return VLM_OK;
}

static vlm_status parse_postfix(parser *P, jnode **node) {
    for (;;) {
        const jtoken *t = cur(P);
        if (is_op(t, ".")) {
            advance(P);
            const jtoken *a = cur(P);
            if (a->type == JT_NAME) {
                NEW(g, JN_GETATTR, a->pos);
                g->getattr.obj = *node;
                g->getattr.attr = name_of(P, a);
                advance(P);
                *node = g;
            } else if (a->type == JT_INT) {
                NEW(g, JN_GETITEM, a->pos);
                NEW(k, JN_CONST, a->pos);
                k->constant = jv_int(a->i);
                g->getitem.obj = *node;
                g->getitem.key = k;
                advance(P);
                *node = g;
            } else {
                return unexpected(P, "name or number");
            }
        } else if (is_op(t, "[")) {
            advance(P);
            nodevec keys = {0};
            while (!is_op(cur(P), "]")) {
                if (keys.n) TRY(expect_op(P, ","));
                if (is_op(cur(P), "]")) break;
                jnode *k = NULL;
                TRY(parse_subscribed(P, &k));
                TRY(nodevec_push(P, &keys, k));
            }
            TRY(expect_op(P, "]"));
            if (!keys.n) return fail(P, t, "expected subscript expression");
            NEW(g, JN_GETITEM, t->pos);
            g->getitem.obj = *node;
            if (keys.n == 1) {
                g->getitem.key = keys.items[0];
            } else {
                NEW(tup, JN_TUPLE, t->pos);
                tup->seq.items = nodevec_done(&keys);
                g->getitem.key = tup;
            }
            *node = g;
        } else if (is_op(t, "(")) {
            NEW(c, JN_CALL, t->pos);
            c->call.callee = *node;
            TRY(parse_call_args(P, &c->call.args));
            *node = c;
        } else {
            return VLM_OK;
        }
    }
}

static vlm_status parse_list_or_dict(parser *P, bool is_dict, jnode **out) {
    const jtoken *open = cur(P);
    advance(P);
    const char *close = is_dict ? "}" : "]";
    nodevec keys = {0}, values = {0};
    while (!is_op(cur(P), close)) {
        if (values.n) TRY(expect_op(P, ","));
        if (is_op(cur(P), close)) break;
        jnode *v;
        TRY(parse_expression(P, true, &v));
        if (is_dict) {
            TRY(expect_op(P, ":"));
            TRY(nodevec_push(P, &keys, v));
            TRY(parse_expression(P, true, &v));
        }
        TRY(nodevec_push(P, &values, v));
    }
    TRY(expect_op(P, close));
    NEW(n, is_dict ? JN_DICT : JN_LIST, open->pos);
    if (is_dict) {
        n->dict.keys = nodevec_done(&keys);
        n->dict.values = nodevec_done(&values);
    } else {
        n->seq.items = nodevec_done(&values);
    }
    *out = n;
    return VLM_OK;
}

static vlm_status parse_primary(parser *P, jnode **out) {
    TRY(enter(P));
    const jtoken *t = cur(P);
    vlm_status st = VLM_OK;
    if (t->type == JT_NAME) {
        jnode *n = new_node(P, JN_CONST, t->pos);
        if (!n) return P->arena->failure;
        if (is_name(t, "true") || is_name(t, "True")) n->constant = jv_bool(true);
        else if (is_name(t, "false") || is_name(t, "False")) n->constant = jv_bool(false);
        else if (is_name(t, "none") || is_name(t, "None")) n->constant = jv_none();
        else {
            n->kind = JN_NAME;
            n->name = name_of(P, t);
        }
        advance(P);
        *out = n;
    } else if (t->type == JT_STRING) {
        jsb b;
        jsb_init(&b, P->arena, 0);
        while (cur(P)->type == JT_STRING) {
            jsb_put(&b, cur(P)->s, cur(P)->len);
            advance(P);
        }
        jnode *n = new_node(P, JN_CONST, t->pos);
        if (!n) return P->arena->failure;
        n->constant = jsb_value(&b);
        *out = n;
    } else if (t->type == JT_INT || t->type == JT_FLOAT) {
        jnode *n = new_node(P, JN_CONST, t->pos);
        if (!n) return P->arena->failure;
        n->constant = t->type == JT_INT ? jv_int(t->i) : jv_float(t->f);
        advance(P);
        *out = n;
    } else if (is_op(t, "(")) {
        advance(P);
        st = parse_tuple(P, false, true, end_none, true, out);
        if (!st) st = expect_op(P, ")");
    } else if (is_op(t, "[") || is_op(t, "{")) {
        st = parse_list_or_dict(P, is_op(t, "{"), out);
    } else {
        char buf[64];
        st = fail(P, t, "unexpected '%s'", describe(t, buf, sizeof buf));
    }
    P->depth--;
    return st;
}

static vlm_status parse_unary(parser *P, bool with_filter, jnode **out) {
    TRY(enter(P));
    const jtoken *t = cur(P);
    if (is_op(t, "-") || is_op(t, "+")) {
        advance(P);
        NEW(u, JN_UNARY, t->pos);
        u->op = is_op(t, "-") ? JOP_NEG : JOP_POS;
        TRY(parse_unary(P, false, &u->unary.operand));
        *out = u;
    } else {
        TRY(parse_primary(P, out));
    }
    TRY(parse_postfix(P, out));
    if (with_filter) TRY(parse_filter_expr(P, out));
    P->depth--;
    return VLM_OK;
}

/* Binary operator levels, loosest first; each level's operands are the
 * next level (the last level's are unary expressions). All left-associative,
 * `**` included, as in Jinja. */
typedef struct binop_level {
    const char *spelling[4];
    jop ops[4];
} binop_level;

static const binop_level binop_levels[] = {
    {{"+", "-"}, {JOP_ADD, JOP_SUB}},
    {{"~"}, {JOP_CONCAT}},
    {{"*", "/", "//", "%"}, {JOP_MUL, JOP_DIV, JOP_FLOORDIV, JOP_MOD}},
    {{"**"}, {JOP_POW}},
};
#define N_BINOP_LEVELS (sizeof binop_levels / sizeof *binop_levels)

static vlm_status parse_binary(parser *P, size_t level, jnode **out) {
    if (level == N_BINOP_LEVELS) return parse_unary(P, true, out);
    TRY(parse_binary(P, level + 1, out));
    for (;;) {
        const jtoken *t = cur(P);
        const binop_level *L = &binop_levels[level];
        size_t k = 0;
        while (k < 4 && L->spelling[k] && !is_op(t, L->spelling[k])) k++;
        if (k == 4 || !L->spelling[k]) return VLM_OK;
        advance(P);
        NEW(b, JN_BINOP, t->pos);
        b->op = (uint8_t)L->ops[k];
        b->bin.left = *out;
        TRY(parse_binary(P, level + 1, &b->bin.right));
        *out = b;
    }
}

static bool compare_op(parser *P, jop *op, int *width) {
    const jtoken *t = cur(P);
    *width = 1;
    if (is_op(t, "==")) *op = JOP_EQ;
    else if (is_op(t, "!=")) *op = JOP_NE;
    else if (is_op(t, "<")) *op = JOP_LT;
    else if (is_op(t, "<=")) *op = JOP_LE;
    else if (is_op(t, ">")) *op = JOP_GT;
    else if (is_op(t, ">=")) *op = JOP_GE;
    else if (is_name(t, "in")) *op = JOP_IN;
    else if (is_name(t, "not") && is_name(peek(P, 1), "in")) {
        *op = JOP_NOTIN;
        *width = 2;
    } else return false;
    return true;
}

static vlm_status parse_compare(parser *P, jnode **out) {
    uint32_t pos = cur(P)->pos;
    jnode *first;
    TRY(parse_binary(P, 0, &first));
    nodevec rest = {0};
    uint8_t ops[64];
    jop op;
    int width;
    while (compare_op(P, &op, &width)) {
        if (rest.n == sizeof ops) return fail(P, cur(P), "too many chained comparisons");
        for (int k = 0; k < width; k++) advance(P);
        jnode *r;
        TRY(parse_binary(P, 0, &r));
        ops[rest.n] = (uint8_t)op;
        TRY(nodevec_push(P, &rest, r));
    }
    if (!rest.n) {
        *out = first;
        return VLM_OK;
    }
    NEW(c, JN_COMPARE, pos);
    c->compare.first = first;
    c->compare.rest = nodevec_done(&rest);
    c->compare.ops = jarena_alloc(P->arena, rest.n);
    if (!c->compare.ops) return P->arena->failure;
    memcpy(c->compare.ops, ops, rest.n);
    *out = c;
    return VLM_OK;
}

static vlm_status parse_not(parser *P, jnode **out) {
    if (is_name(cur(P), "not")) {
        TRY(enter(P));
        NEW(u, JN_UNARY, cur(P)->pos);
        advance(P);
        u->op = JOP_NOT;
        TRY(parse_not(P, &u->unary.operand));
        *out = u;
        P->depth--;
        return VLM_OK;
    }
    return parse_compare(P, out);
}

static vlm_status parse_and(parser *P, jnode **out) {
    TRY(parse_not(P, out));
    while (is_name(cur(P), "and")) {
        NEW(b, JN_AND, cur(P)->pos);
        advance(P);
        b->bin.left = *out;
        TRY(parse_not(P, &b->bin.right));
        *out = b;
    }
    return VLM_OK;
}

static vlm_status parse_or(parser *P, jnode **out) {
    TRY(parse_and(P, out));
    while (is_name(cur(P), "or")) {
        NEW(b, JN_OR, cur(P)->pos);
        advance(P);
        b->bin.left = *out;
        TRY(parse_and(P, &b->bin.right));
        *out = b;
    }
    return VLM_OK;
}

static vlm_status parse_expression(parser *P, bool with_condexpr, jnode **out) {
    TRY(enter(P));
    TRY(parse_or(P, out));
    while (with_condexpr && is_name(cur(P), "if")) {
        NEW(c, JN_COND, cur(P)->pos);
        advance(P);
        c->cond.then = *out;
        TRY(parse_or(P, &c->cond.test));
        if (is_name(cur(P), "else")) {
            advance(P);
            TRY(parse_expression(P, true, &c->cond.otherwise));
        }
        *out = c;
    }
    P->depth--;
    return VLM_OK;
}

/* ---- statements ---------------------------------------------------------- */

static vlm_status parse_body(parser *P, const char *const *ends, jnodes *out);

static bool assignable(const jnode *n) {
    if (n->kind == JN_NAME) return true;
    if (n->kind != JN_TUPLE) return false;
    for (size_t i = 0; i < n->seq.items.n; i++)
        if (!assignable(n->seq.items.items[i])) return false;
    return true;
}

static vlm_status parse_assign_target(parser *P, end_rule extra, bool with_namespace, jnode **out) {
    const jtoken *t = cur(P);
    if (with_namespace && t->type == JT_NAME && is_op(peek(P, 1), ".") && peek(P, 2)->type == JT_NAME) {
        NEW(r, JN_NSREF, t->pos);
        r->nsref.ns = name_of(P, t);
        r->nsref.attr = name_of(P, peek(P, 2));
        advance(P);
        advance(P);
        advance(P);
        *out = r;
        return VLM_OK;
    }
    TRY(parse_tuple(P, true, true, extra, false, out));
    if (!assignable(*out)) return fail(P, t, "can't assign to '%s'", (*out)->kind == JN_CONST ? "literal" : "expression");
    return VLM_OK;
}

/* Parse the end tag `{% name %}` that parse_body stopped at. */
static vlm_status end_block(parser *P, const char *name) {
    TRY(expect_name(P, name));
    return expect_type(P, JT_BLOCK_END, "end of statement block");
}

/* `%}`, the statements up to `{% end %}`, and that end tag. */
static vlm_status block_body(parser *P, const char *end, jnodes *body) {
    const char *const ends[] = {end, NULL};
    TRY(expect_type(P, JT_BLOCK_END, "end of statement block"));
    TRY(parse_body(P, ends, body));
    return end_block(P, end);
}

static vlm_status parse_if(parser *P, uint32_t pos, jnode **out) {
    static const char *const ends[] = {"elif", "else", "endif", NULL};
    NEW(n, JN_IF, pos);
    TRY(parse_tuple(P, false, false, end_none, false, &n->if_.test));
    TRY(expect_type(P, JT_BLOCK_END, "end of statement block"));
    TRY(parse_body(P, ends, &n->if_.body));
    const jtoken *t = cur(P);
    if (is_name(t, "elif")) {
        advance(P);
        jnode *nested;
        TRY(enter(P));
        TRY(parse_if(P, t->pos, &nested));
        P->depth--;
        nodevec v = {0};
        TRY(nodevec_push(P, &v, nested));
        n->if_.orelse = nodevec_done(&v);
        *out = n;
        return VLM_OK; /* the nested if consumed endif */
    }
    if (is_name(t, "else")) {
        advance(P);
        TRY(block_body(P, "endif", &n->if_.orelse));
    } else {
        TRY(end_block(P, "endif"));
    }
    *out = n;
    return VLM_OK;
}

static vlm_status parse_for(parser *P, uint32_t pos, jnode **out) {
    static const char *const ends[] = {"else", "endfor", NULL};
    NEW(n, JN_FOR, pos);
    TRY(parse_assign_target(P, end_in, false, &n->for_.target));
    TRY(expect_name(P, "in"));
    TRY(parse_tuple(P, false, false, end_recursive, false, &n->for_.iter));
    if (is_name(cur(P), "if")) {
        advance(P);
        TRY(parse_expression(P, true, &n->for_.filter));
    }
    if (is_name(cur(P), "recursive")) {
        advance(P);
        n->for_.recursive = true;
    }
    TRY(expect_type(P, JT_BLOCK_END, "end of statement block"));
    TRY(parse_body(P, ends, &n->for_.body));
    if (is_name(cur(P), "else")) {
        advance(P);
        TRY(block_body(P, "endfor", &n->for_.orelse));
    } else {
        TRY(end_block(P, "endfor"));
    }
    *out = n;
    return VLM_OK;
}

/* `|f(args)|g` after a block set or filter tag: a chain whose innermost
 * argument is NULL (the block's rendered body). */
static vlm_status parse_filter_chain(parser *P, jnode **out) {
    jnode *chain = NULL;
    TRY(parse_filter(P, NULL, &chain));
    while (is_op(cur(P), "|")) {
        advance(P);
        TRY(parse_filter(P, chain, &chain));
    }
    *out = chain;
    return VLM_OK;
}

static vlm_status parse_set(parser *P, uint32_t pos, jnode **out) {
    jnode *target;
    TRY(parse_assign_target(P, end_none, true, &target));
    if (is_op(cur(P), "=")) {
        advance(P);
        NEW(n, JN_SET, pos);
        n->set.target = target;
        TRY(parse_tuple(P, false, true, end_none, false, &n->set.value));
        TRY(expect_type(P, JT_BLOCK_END, "end of statement block"));
        *out = n;
        return VLM_OK;
    }
    NEW(n, JN_SET_BLOCK, pos);
    n->set_block.target = target;
    if (is_op(cur(P), "|")) {
        advance(P);
        TRY(parse_filter_chain(P, &n->set_block.filter));
    }
    TRY(block_body(P, "endset", &n->set_block.body));
    *out = n;
    return VLM_OK;
}

static vlm_status parse_params(parser *P, jparams *params) {
    TRY(expect_op(P, "("));
    nodevec defaults = {0};
    const char **names = NULL;
    size_t cap = 0;
    while (!is_op(cur(P), ")")) {
        if (defaults.n) TRY(expect_op(P, ","));
        if (cur(P)->type != JT_NAME) return unexpected(P, "a parameter name");
        if (defaults.n == cap) {
            cap = cap ? cap * 2 : 4;
            const char **nn = jarena_alloc(P->arena, cap * sizeof *nn);
            if (!nn) return P->arena->failure;
            if (defaults.n) memcpy(nn, names, defaults.n * sizeof *nn);
            names = nn;
        }
        names[defaults.n] = name_of(P, cur(P));
        advance(P);
        jnode *def = NULL;
        if (is_op(cur(P), "=")) {
            advance(P);
            TRY(parse_expression(P, true, &def));
        } else if (defaults.n && defaults.items[defaults.n - 1]) {
            return fail(P, cur(P), "non-default argument follows default argument");
        }
        TRY(nodevec_push(P, &defaults, def));
    }
    TRY(expect_op(P, ")"));
    params->names = names;
    params->defaults = defaults.items;
    params->n = defaults.n;
    return VLM_OK;
}

static vlm_status parse_macro(parser *P, uint32_t pos, jnode **out) {
    NEW(n, JN_MACRO, pos);
    if (cur(P)->type != JT_NAME) return unexpected(P, "a macro name");
    n->macro.name = name_of(P, cur(P));
    advance(P);
    TRY(parse_params(P, &n->macro.params));
    TRY(block_body(P, "endmacro", &n->macro.body));
    *out = n;
    return VLM_OK;
}

static vlm_status parse_call_block(parser *P, uint32_t pos, jnode **out) {
    NEW(n, JN_CALL_BLOCK, pos);
    if (is_op(cur(P), "(")) TRY(parse_params(P, &n->call_block.params));
    TRY(parse_expression(P, true, &n->call_block.call));
    if (n->call_block.call->kind != JN_CALL) return fail(P, cur(P), "expected call");
    TRY(block_body(P, "endcall", &n->call_block.body));
    *out = n;
    return VLM_OK;
}

static vlm_status parse_filter_block(parser *P, uint32_t pos, jnode **out) {
    NEW(n, JN_FILTER_BLOCK, pos);
    TRY(parse_filter_chain(P, &n->filter_block.filter));
    TRY(block_body(P, "endfilter", &n->filter_block.body));
    *out = n;
    return VLM_OK;
}

static vlm_status parse_with(parser *P, uint32_t pos, jnode **out) {
    NEW(n, JN_WITH, pos);
    nodevec targets = {0}, values = {0};
    while (cur(P)->type != JT_BLOCK_END) {
        if (targets.n) TRY(expect_op(P, ","));
        jnode *t, *v;
        TRY(parse_assign_target(P, end_none, false, &t));
        TRY(expect_op(P, "="));
        TRY(parse_expression(P, true, &v));
        TRY(nodevec_push(P, &targets, t));
        TRY(nodevec_push(P, &values, v));
    }
    n->with.targets = nodevec_done(&targets);
    n->with.values = nodevec_done(&values);
    TRY(block_body(P, "endwith", &n->with.body));
    *out = n;
    return VLM_OK;
}

static vlm_status parse_generation(parser *P, uint32_t pos, jnode **out) {
    NEW(n, JN_SCOPE_BODY, pos);
    TRY(block_body(P, "endgeneration", &n->body));
    *out = n;
    return VLM_OK;
}

static vlm_status parse_statement(parser *P, jnode **out) {
    const jtoken *t = cur(P);
    if (t->type != JT_NAME) return unexpected(P, "a tag name");
    TRY(enter(P));
    advance(P);
    vlm_status st;
    if (is_name(t, "if")) st = parse_if(P, t->pos, out);
    else if (is_name(t, "for")) st = parse_for(P, t->pos, out);
    else if (is_name(t, "set")) st = parse_set(P, t->pos, out);
    else if (is_name(t, "macro")) st = parse_macro(P, t->pos, out);
    else if (is_name(t, "call")) st = parse_call_block(P, t->pos, out);
    else if (is_name(t, "filter")) st = parse_filter_block(P, t->pos, out);
    else if (is_name(t, "with")) st = parse_with(P, t->pos, out);
    else if (is_name(t, "generation")) st = parse_generation(P, t->pos, out);
    else if (is_name(t, "break") || is_name(t, "continue")) {
        jnode *n = new_node(P, is_name(t, "break") ? JN_BREAK : JN_CONTINUE, t->pos);
        if (!n) return P->arena->failure;
        *out = n;
        st = expect_type(P, JT_BLOCK_END, "end of statement block");
    } else {
        st = fail(P, t, "Encountered unknown tag '%.*s'.", (int)t->len, t->s);
    }
    P->depth--;
    return st;
}

static bool is_end_tag(const jtoken *t, const char *const *ends) {
    for (size_t k = 0; ends && ends[k]; k++)
        if (is_name(t, ends[k])) return true;
    return false;
}

/* Statements until EOF (ends == NULL) or a `{% <end> %}` tag, which is
 * left as the current token (after its `{%`). */
static vlm_status parse_body(parser *P, const char *const *ends, jnodes *out) {
    nodevec body = {0};
    for (;;) {
        const jtoken *t = cur(P);
        if (t->type == JT_EOF) {
            if (ends) {
                char want[96] = "";
                for (size_t k = 0; ends[k]; k++) {
                    size_t l = strlen(want);
                    snprintf(want + l, sizeof want - l, "%s'%s'", k ? " or " : "", ends[k]);
                }
                return fail(P, t, "Unexpected end of template. Jinja was looking for the following tags: %s.",
                            want);
            }
            break;
        }
        jnode *node = NULL;
        if (t->type == JT_DATA) {
            node = new_node(P, JN_DATA, t->pos);
            if (!node) return P->arena->failure;
            node->data.s = t->s;
            node->data.len = t->len;
            advance(P);
        } else if (t->type == JT_VAR_BEGIN) {
            advance(P);
            node = new_node(P, JN_OUTPUT, t->pos);
            if (!node) return P->arena->failure;
            TRY(parse_tuple(P, false, true, end_none, false, &node->unary.operand));
            TRY(expect_type(P, JT_VAR_END, "end of print statement"));
        } else if (t->type == JT_BLOCK_BEGIN) {
            advance(P);
            if (is_end_tag(cur(P), ends)) break;
            TRY(parse_statement(P, &node));
        } else {
            char buf[64];
            return fail(P, t, "unexpected '%s'", describe(t, buf, sizeof buf));
        }
        TRY(nodevec_push(P, &body, node));
    }
    *out = nodevec_done(&body);
    return VLM_OK;
}

vlm_status jparse(jarena *a, const jsource *src, const jtoken *tokens, size_t n_tokens, jnodes *body) {
    parser P = {.arena = a, .src = src, .t = tokens, .n = n_tokens};
    return parse_body(&P, NULL, body);
}
