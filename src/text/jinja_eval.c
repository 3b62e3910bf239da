/*
 * jinja_eval.c — evaluates expressions, calls callables (builtins, macros,
 * call-block callers) and reports runtime errors the way Jinja2 names them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "text/jinja_runtime.h"

/* ---- errors and limits --------------------------------------------------- */

vlm_status jraise(jctx *c, const jnode *at, const char *type, const char *fmt, ...) {
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = 0, col = 0;
    if (at) jsource_linecol(c->src, at->pos, &line, &col);
    return vlm_error(VLM_ERR_TEMPLATE, "%s:%d:%d: %s: %s", c->src->name, line, col, type, msg);
}

vlm_status jraise_undefined(jctx *c, const jnode *at, jv undef) {
    const jundef *u = undef.u;
    jsb key;
    jsb_init(&key, c->arena, 0);
    if (u->kind == JU_ELEMENT) jwrite_repr(&key, u->key);
    else jwrite_str(&key, u->key);
    int n = (int)(key.len > 200 ? 200 : key.len);
    const char *k = key.p ? key.p : "";
    switch (u->kind) {
    case JU_NAME: return jraise(c, at, "UndefinedError", "'%.*s' is undefined", n, k);
    case JU_ATTR: return jraise(c, at, "UndefinedError", "'%s' has no attribute '%.*s'", u->owner, n, k);
    case JU_ELEMENT: return jraise(c, at, "UndefinedError", "'%s' has no element %.*s", u->owner, n, k);
    case JU_UNSAFE:
        return jraise(c, at, "SecurityError", "access to attribute '%.*s' of '%s' object is unsafe.", n, k,
                      u->owner);
    case JU_PLAIN: break;
    }
    return jraise(c, at, "UndefinedError", "value is undefined");
}

static double monotonic_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

vlm_status jstep(jctx *c, const jnode *at) {
    c->steps++;
    if (c->limits.max_steps && c->steps > c->limits.max_steps)
        return vlm_error(VLM_ERR_LIMIT, "%s: template stopped after %llu steps (loop iterations and calls)",
                         c->src->name, (unsigned long long)c->limits.max_steps);
    if ((c->steps & 1023) == 0 && c->limits.max_seconds > 0 && monotonic_seconds() > c->deadline) {
        int line = 0, col = 0;
        if (at) jsource_linecol(c->src, at->pos, &line, &col);
        return vlm_error(VLM_ERR_LIMIT, "%s:%d:%d: template rendering exceeded %.3g s", c->src->name, line,
                         col, c->limits.max_seconds);
    }
    return jarena_status(c);
}

/* ---- arguments ----------------------------------------------------------- */

const jv *jarg(const jargs *a, size_t i, const char *name) {
    if (i < a->n_pos) return &a->pos[i];
    for (size_t k = 0; name && k < a->n_kw; k++)
        if (!strcmp(a->kw_names[k], name)) return &a->kw[k];
    return NULL;
}

vlm_status jargs_check(jctx *c, const jnode *at, const jargs *a, const char *fn, size_t max_pos,
                       const char *const *keywords) {
    if (a->n_pos > max_pos)
        return jraise(c, at, "TypeError", "%s() takes at most %zu positional arguments (%zu given)", fn, max_pos,
                      a->n_pos);
    for (size_t k = 0; k < a->n_kw; k++) {
        bool known = false;
        for (size_t j = 0; keywords && keywords[j]; j++)
            if (!strcmp(keywords[j], a->kw_names[k])) known = true;
        if (!known) return jraise(c, at, "TypeError", "%s() got an unexpected keyword argument '%s'", fn, a->kw_names[k]);
    }
    return VLM_OK;
}

/* ---- scopes -------------------------------------------------------------- */

jscope *jscope_new(jctx *c, jscope *parent) {
    /* Handed out after an arena failure, which is sticky: with capacity 0
     * every jscope_set needs memory it cannot get, so this is never written
     * and the render stops at its next status check. */
    static jscope refused;
    jscope *s = jarena_calloc(c->arena, 1, sizeof *s);
    if (!s) return &refused;
    s->parent = parent;
    return s;
}

const jv *jscope_lookup(const jscope *s, const char *name) {
    for (; s; s = s->parent)
        for (size_t i = s->n; i-- > 0;)
            if (!strcmp(s->vars[i].name, name)) return &s->vars[i].value;
    return NULL;
}

void jscope_set(jctx *c, jscope *s, const char *name, jv value) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->vars[i].name, name)) {
            s->vars[i].value = value;
            return;
        }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        jvar *vars = jarena_alloc(c->arena, cap * sizeof *vars);
        if (!vars) return;
        if (s->n) memcpy(vars, s->vars, s->n * sizeof *vars);
        s->vars = vars;
        s->cap = cap;
    }
    s->vars[s->n].name = name;
    s->vars[s->n].value = value;
    s->n++;
}

jv jfunc_builtin(jctx *c, const char *name, jbuiltin_fn fn, jv self) {
    jfunc *f = jarena_calloc(c->arena, 1, sizeof *f);
    jv v = {.type = JV_FUNC};
    if (!f) return jv_none();
    f->kind = JF_BUILTIN;
    f->name = name;
    f->fn = fn;
    f->self = self;
    v.fn = f;
    return v;
}

/* ---- iteration ----------------------------------------------------------- */

vlm_status jiterate(jctx *c, const jnode *at, jv v, jlist **items) {
    static jlist empty;
    switch ((jv_type)v.type) {
    case JV_LIST:
    case JV_TUPLE: *items = v.l; return VLM_OK;
    case JV_UNDEFINED: *items = &empty; return VLM_OK;
    case JV_DICT: {
        jv keys = jv_list_new(c->arena, v.d->n);
        for (size_t i = 0; i < v.d->n; i++) jlist_push(c->arena, keys.l, v.d->keys[i]);
        *items = keys.l;
        return jarena_status(c);
    }
    case JV_STR: {
        jv chars = jv_list_new(c->arena, v.len);
        size_t i = 0;
        while (i < v.len) {
            size_t start = i;
            jutf8_next(v.s, v.len, &i);
            jlist_push(c->arena, chars.l, jv_str_view(v.s + start, i - start));
        }
        *items = chars.l;
        return jarena_status(c);
    }
    default: return jraise(c, at, "TypeError", "'%s' object is not iterable", jv_type_name(v));
    }
}

/* ---- calls --------------------------------------------------------------- */

static vlm_status eval_args(jctx *c, jscope *s, const jnode *at, const jcall_args *ca, jargs *out) {
    size_t npos = ca->pos.n, nkw = ca->kw_values.n;
    jv star = jv_none(), dstar = jv_none();
    jlist *extra = NULL;
    if (ca->star) {
        vlm_status st = jeval(c, s, ca->star, &star);
        if (st) return st;
        if ((st = jiterate(c, at, star, &extra))) return st;
        npos += extra->n;
    }
    if (ca->dstar) {
        vlm_status st = jeval(c, s, ca->dstar, &dstar);
        if (st) return st;
        if (dstar.type != JV_DICT) return jraise(c, at, "TypeError", "argument after ** must be a mapping");
        nkw += dstar.d->n;
    }
    jv *pos = jarena_alloc(c->arena, (npos + 1) * sizeof *pos);
    jv *kw = jarena_alloc(c->arena, (nkw + 1) * sizeof *kw);
    const char **names = jarena_alloc(c->arena, (nkw + 1) * sizeof *names);
    if (!pos || !kw || !names) return jarena_status(c);
    for (size_t i = 0; i < ca->pos.n; i++) {
        vlm_status st = jeval(c, s, ca->pos.items[i], &pos[i]);
        if (st) return st;
    }
    for (size_t i = 0; extra && i < extra->n; i++) pos[ca->pos.n + i] = extra->items[i];
    for (size_t i = 0; i < ca->kw_values.n; i++) {
        vlm_status st = jeval(c, s, ca->kw_values.items[i], &kw[i]);
        if (st) return st;
        names[i] = ca->kw_names[i];
    }
    for (size_t i = 0; dstar.type == JV_DICT && i < dstar.d->n; i++) {
        jv k = dstar.d->keys[i];
        if (k.type != JV_STR) return jraise(c, at, "TypeError", "keywords must be strings");
        names[ca->kw_values.n + i] = jarena_strndup(c->arena, k.s, k.len);
        kw[ca->kw_values.n + i] = dstar.d->vals[i];
    }
    out->pos = pos;
    out->n_pos = npos;
    out->kw = kw;
    out->kw_names = names;
    out->n_kw = nkw;
    return jarena_status(c);
}

/* Bind a macro's (or caller's) parameters into a fresh scope. */
static vlm_status bind_params(jctx *c, const jparams *p, const jargs *a, jscope *scope) {
    jv varargs = jv_tuple_new(c->arena, 0), kwargs = jv_dict_new(c->arena, 0);
    for (size_t i = 0; i < p->n; i++) {
        const jv *v = jarg(a, i, p->names[i]);
        jv value;
        if (v) {
            value = *v;
        } else if (p->defaults && p->defaults[i]) {
            vlm_status st = jeval(c, scope, p->defaults[i], &value);
            if (st) return st;
        } else {
            value = jv_undefined(c->arena, JU_NAME, NULL, jv_cstr(p->names[i]));
        }
        jscope_set(c, scope, p->names[i], value);
    }
    for (size_t i = p->n; i < a->n_pos; i++) jlist_push(c->arena, varargs.l, a->pos[i]);
    for (size_t k = 0; k < a->n_kw; k++) {
        bool known = false;
        for (size_t i = 0; i < p->n; i++)
            if (!strcmp(p->names[i], a->kw_names[k])) known = true;
        if (!known) {
            if (!strcmp(a->kw_names[k], "caller")) continue;
            jdict_set(c->arena, kwargs.d, jv_cstr(a->kw_names[k]), a->kw[k]);
        }
    }
    jscope_set(c, scope, "varargs", varargs);
    jscope_set(c, scope, "kwargs", kwargs);
    return jarena_status(c);
}

static vlm_status call_macro(jctx *c, const jnode *at, const jfunc *f, const jargs *a, jv *out) {
    if (++c->depth > c->limits.max_depth) {
        c->depth--;
        int line = 0, col = 0;
        jsource_linecol(c->src, at->pos, &line, &col);
        return vlm_error(VLM_ERR_LIMIT, "%s:%d:%d: macro calls nested deeper than %d", c->src->name, line, col,
                         c->limits.max_depth);
    }
    vlm_status st = jstep(c, at);
    if (!st) {
        jscope *scope = jscope_new(c, f->scope);
        const jparams *params = f->kind == JF_MACRO ? &f->node->macro.params : &f->node->call_block.params;
        const jnodes *body = f->kind == JF_MACRO ? &f->node->macro.body : &f->node->call_block.body;
        st = bind_params(c, params, a, scope);
        if (!st && f->kind == JF_MACRO) {
            jv caller = f->caller;
            for (size_t k = 0; k < a->n_kw; k++)
                if (!strcmp(a->kw_names[k], "caller")) caller = a->kw[k];
            if (caller.type == JV_FUNC) jscope_set(c, scope, "caller", caller);
        }
        if (!st) st = jcapture(c, scope, body, out);
        c->flow = JFLOW_NORMAL;
    }
    c->depth--;
    return st;
}

/* loop(items) inside a `for ... recursive`: the loop's output for items. */
static vlm_status call_loop(jctx *c, const jnode *at, const jloop *loop, const jargs *args, jv *out) {
    if (!loop->node->for_.recursive)
        return jraise(c, at, "TypeError", "The loop must have the 'recursive' marker to be called recursively.");
    if (args->n_pos != 1 || args->n_kw)
        return jraise(c, at, "TypeError", "loop() takes exactly one argument (%zu given)", args->n_pos + args->n_kw);
    if (++c->depth > c->limits.max_depth) {
        c->depth--;
        return vlm_error(VLM_ERR_LIMIT, "%s: recursive loop nested deeper than %d", c->src->name, c->limits.max_depth);
    }
    jsb buf;
    jsb_init(&buf, c->arena, c->limits.max_output);
    jsb *saved = c->out;
    c->out = &buf;
    vlm_status st = jrun_for(c, loop->scope, loop->node, args->pos[0], loop->depth + 1);
    c->out = saved;
    c->depth--;
    *out = jsb_value(&buf);
    return st;
}

vlm_status jcall_value(jctx *c, const jnode *at, jv callee, const jargs *args, jv *out) {
    if (callee.type == JV_UNDEFINED) return jraise_undefined(c, at, callee);
    if (callee.type == JV_LOOP) return call_loop(c, at, callee.loop, args, out);
    if (callee.type != JV_FUNC) return jraise(c, at, "TypeError", "'%s' object is not callable", jv_type_name(callee));
    const jfunc *f = callee.fn;
    if (f->kind == JF_BUILTIN) return f->fn(c, at, f->self, args, out);
    return call_macro(c, at, f, args, out);
}

vlm_status jcapture(jctx *c, jscope *s, const jnodes *body, jv *out) {
    jsb buf;
    jsb_init(&buf, c->arena, c->limits.max_output);
    jsb *saved = c->out;
    c->out = &buf;
    vlm_status st = jexec_body(c, s, body);
    c->out = saved;
    *out = jsb_value(&buf);
    return st;
}

/* ---- expressions --------------------------------------------------------- */

static vlm_status eval_name(jctx *c, jscope *s, const jnode *e, jv *out) {
    const jv *v = jscope_lookup(s, e->name);
    if (v) {
        *out = *v;
        return VLM_OK;
    }
    jbuiltin_fn g = jglobal_lookup(e->name);
    *out = g ? jfunc_builtin(c, e->name, g, jv_none()) : jv_undefined(c->arena, JU_NAME, NULL, jv_cstr(e->name));
    return VLM_OK;
}

static vlm_status eval_filter_or_test(jctx *c, jscope *s, const jnode *e, jv *out) {
    bool is_test = e->kind == JN_TEST;
    if (!e->filter.fn)
        return jraise(c, e, "TemplateRuntimeError", "No %s named '%s'.",
                      is_test ? "test" : "filter", e->filter.name);
    jv input;
    vlm_status st;
    if (e->filter.arg) {
        if ((st = jeval(c, s, e->filter.arg, &input))) return st;
    } else {
        const jv *v = jscope_lookup(s, JBLOCK_INPUT);
        input = v ? *v : jv_str_view("", 0);
    }
    jargs args;
    if ((st = eval_args(c, s, e, &e->filter.args, &args))) return st;
    if ((st = e->filter.fn(c, e, input, &args, out))) return st;
    if (is_test && e->filter.negated) *out = jv_bool(!jv_truthy(*out));
    return VLM_OK;
}

static vlm_status eval_unary(jctx *c, jscope *s, const jnode *e, jv *out) {
    jv v;
    vlm_status st = jeval(c, s, e->unary.operand, &v);
    if (st) return st;
    if (e->op == JOP_NOT) {
        *out = jv_bool(!jv_truthy(v));
        return VLM_OK;
    }
    if (v.type == JV_UNDEFINED) return jraise_undefined(c, e, v);
    bool neg = e->op == JOP_NEG;
    if (v.type == JV_INT || v.type == JV_BOOL) {
        int64_t i = v.type == JV_BOOL ? v.b : v.i;
        if (neg && i == INT64_MIN) return jraise(c, e, "OverflowError", "integer overflow");
        *out = jv_int(neg ? -i : i);
    } else if (v.type == JV_FLOAT) {
        *out = jv_float(neg ? -v.f : v.f);
    } else {
        return jraise(c, e, "TypeError", "bad operand type for unary %c: '%s'", neg ? '-' : '+', jv_type_name(v));
    }
    return VLM_OK;
}

static vlm_status eval_compare(jctx *c, jscope *s, const jnode *e, jv *out) {
    jv left;
    vlm_status st = jeval(c, s, e->compare.first, &left);
    if (st) return st;
    for (size_t i = 0; i < e->compare.rest.n; i++) {
        jv right;
        if ((st = jeval(c, s, e->compare.rest.items[i], &right))) return st;
        bool ok;
        if ((st = jcompare(c, e, (jop)e->compare.ops[i], left, right, &ok))) return st;
        if (!ok) {
            *out = jv_bool(false);
            return VLM_OK;
        }
        left = right;
    }
    *out = jv_bool(true);
    return VLM_OK;
}

static vlm_status eval_collection(jctx *c, jscope *s, const jnode *e, jv *out) {
    if (e->kind == JN_DICT) {
        jv d = jv_dict_new(c->arena, e->dict.keys.n);
        for (size_t i = 0; i < e->dict.keys.n; i++) {
            jv k, v;
            vlm_status st = jeval(c, s, e->dict.keys.items[i], &k);
            if (!st) st = jeval(c, s, e->dict.values.items[i], &v);
            if (st) return st;
            if (k.type == JV_LIST || k.type == JV_DICT)
                return jraise(c, e, "TypeError", "unhashable type: '%s'", jv_type_name(k));
            jdict_set(c->arena, d.d, k, v);
        }
        *out = d;
        return jarena_status(c);
    }
    jv l = e->kind == JN_LIST ? jv_list_new(c->arena, e->seq.items.n) : jv_tuple_new(c->arena, e->seq.items.n);
    for (size_t i = 0; i < e->seq.items.n; i++) {
        jv v;
        vlm_status st = jeval(c, s, e->seq.items.items[i], &v);
        if (st) return st;
        jlist_push(c->arena, l.l, v);
    }
    *out = l;
    return jarena_status(c);
}

static vlm_status eval_getitem(jctx *c, jscope *s, const jnode *e, jv *out) {
    jv obj;
    vlm_status st = jeval(c, s, e->getitem.obj, &obj);
    if (st) return st;
    const jnode *k = e->getitem.key;
    if (k->kind == JN_SLICE) {
        jv parts[3] = {jv_none(), jv_none(), jv_none()};
        const jnode *nodes[3] = {k->slice.start, k->slice.stop, k->slice.step};
        for (int i = 0; i < 3; i++)
            if (nodes[i] && (st = jeval(c, s, nodes[i], &parts[i]))) return st;
        return jslice(c, e, obj, parts[0], parts[1], parts[2], out);
    }
    jv key;
    if ((st = jeval(c, s, k, &key))) return st;
    return jgetitem(c, e, obj, key, out);
}

static vlm_status eval_call(jctx *c, jscope *s, const jnode *e, jv *out) {
    jv callee;
    vlm_status st = jeval(c, s, e->call.callee, &callee);
    if (st) return st;
    jargs args;
    if ((st = eval_args(c, s, e, &e->call.args, &args))) return st;
    return jcall_value(c, e, callee, &args, out);
}

vlm_status jeval(jctx *c, jscope *s, const jnode *e, jv *out) {
    vlm_status st = VLM_OK;
    switch ((jnode_kind)e->kind) {
    case JN_CONST: *out = e->constant; return VLM_OK;
    case JN_NAME: return eval_name(c, s, e, out);
    case JN_GETATTR: {
        jv obj;
        if ((st = jeval(c, s, e->getattr.obj, &obj))) return st;
        return jgetattr(c, e, obj, jv_cstr(e->getattr.attr), out);
    }
    case JN_GETITEM: return eval_getitem(c, s, e, out);
    case JN_CALL: st = eval_call(c, s, e, out); break;
    case JN_FILTER:
    case JN_TEST: st = eval_filter_or_test(c, s, e, out); break;
    case JN_UNARY: return eval_unary(c, s, e, out);
    case JN_BINOP: {
        jv a, b;
        if ((st = jeval(c, s, e->bin.left, &a)) || (st = jeval(c, s, e->bin.right, &b))) return st;
        st = jbinop(c, e, (jop)e->op, a, b, out);
        break;
    }
    case JN_AND:
    case JN_OR: {
        jv a;
        if ((st = jeval(c, s, e->bin.left, &a))) return st;
        if (jv_truthy(a) == (e->kind == JN_OR)) {
            *out = a;
            return VLM_OK;
        }
        return jeval(c, s, e->bin.right, out);
    }
    case JN_COMPARE: return eval_compare(c, s, e, out);
    case JN_COND: {
        jv t;
        if ((st = jeval(c, s, e->cond.test, &t))) return st;
        if (jv_truthy(t)) return jeval(c, s, e->cond.then, out);
        if (e->cond.otherwise) return jeval(c, s, e->cond.otherwise, out);
        *out = jv_undefined(c->arena, JU_PLAIN, NULL, jv_none());
        return VLM_OK;
    }
    case JN_LIST:
    case JN_TUPLE:
    case JN_DICT: return eval_collection(c, s, e, out);
    default: return jraise(c, e, "TemplateRuntimeError", "statement used as an expression");
    }
    if (!st) st = jarena_status(c);
    return st;
}
