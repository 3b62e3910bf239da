/*
 * jinja_exec.c — runs template statements: output, if, for (with the loop
 * object, else, inline filter, unpacking, break/continue), set, macro and
 * call blocks, filter blocks, with, and transformers' generation block.
 *
 * Scoping follows Jinja2: a for-loop iteration and a macro call get their
 * own frame (assignments inside do not leak out), if/else does not; macros
 * resolve free names in the frame where they were defined.
 */
#include <string.h>

#include "text/jinja_runtime.h"

static vlm_status exec_stmt(jctx *c, jscope *s, const jnode *n);

/* Bind a for/set target (a name or nested tuple of names). */
static vlm_status assign(jctx *c, jscope *s, const jnode *target, jv value) {
    if (target->kind == JN_NAME) {
        jscope_set(c, s, target->name, value);
        return jarena_status(c);
    }
    if (target->kind == JN_NSREF) {
        const jv *ns = jscope_lookup(s, target->nsref.ns);
        if (!ns || ns->type != JV_NAMESPACE)
            return jraise(c, target, "TemplateRuntimeError", "cannot assign attribute on non-namespace object");
        jdict_set(c->arena, ns->d, jv_cstr(target->nsref.attr), value);
        return jarena_status(c);
    }
    jlist *items;
    if (value.type == JV_UNDEFINED) return jraise_undefined(c, target, value);
    if (value.type != JV_LIST && value.type != JV_TUPLE && value.type != JV_STR && value.type != JV_DICT)
        return jraise(c, target, "TypeError", "cannot unpack non-iterable %s object", jv_type_name(value));
    vlm_status st = jiterate(c, target, value, &items);
    if (st) return st;
    size_t want = target->seq.items.n;
    if (items->n > want)
        return jraise(c, target, "ValueError", "too many values to unpack (expected %zu)", want);
    if (items->n < want)
        return jraise(c, target, "ValueError", "not enough values to unpack (expected %zu, got %zu)", want, items->n);
    for (size_t i = 0; i < want; i++)
        if ((st = assign(c, s, target->seq.items.items[i], items->items[i]))) return st;
    return VLM_OK;
}

static vlm_status exec_output(jctx *c, jscope *s, const jnode *n) {
    jv v;
    vlm_status st = jeval(c, s, n->unary.operand, &v);
    if (st) return st;
    jwrite_str(c->out, v);
    return jarena_status(c);
}

/* Items of a for loop after its inline `if` filter. */
static vlm_status loop_items(jctx *c, jscope *s, const jnode *n, jv iter, jlist **items) {
    vlm_status st = jiterate(c, n, iter, items);
    if (st) return st;
    if (!n->for_.filter) return VLM_OK;
    jv kept = jv_list_new(c->arena, (*items)->n);
    for (size_t i = 0; i < (*items)->n; i++) {
        jscope *frame = jscope_new(c, s);
        jv ok;
        if ((st = jstep(c, n)) || (st = assign(c, frame, n->for_.target, (*items)->items[i])) ||
            (st = jeval(c, frame, n->for_.filter, &ok)))
            return st;
        if (jv_truthy(ok)) jlist_push(c->arena, kept.l, (*items)->items[i]);
    }
    *items = kept.l;
    return jarena_status(c);
}

vlm_status jrun_for(jctx *c, jscope *s, const jnode *n, jv iterable, int depth) {
    jlist *items;
    vlm_status st = loop_items(c, s, n, iterable, &items);
    if (st) return st;
    if (items->n == 0) return jexec_body(c, s, &n->for_.orelse);
    jloop *loop = jarena_calloc(c->arena, 1, sizeof *loop);
    if (!loop) return jarena_status(c);
    loop->items = items;
    loop->depth = depth;
    loop->node = n;
    loop->scope = s;
    jv loop_value = {.type = JV_LOOP, .loop = loop};
    for (size_t i = 0; i < items->n; i++) {
        if ((st = jstep(c, n))) return st;
        loop->index0 = i;
        jscope *frame = jscope_new(c, s);
        if ((st = assign(c, frame, n->for_.target, items->items[i]))) return st;
        jscope_set(c, frame, "loop", loop_value);
        if ((st = jexec_body(c, frame, &n->for_.body))) return st;
        if (c->flow == JFLOW_BREAK) {
            c->flow = JFLOW_NORMAL;
            break;
        }
        c->flow = JFLOW_NORMAL;
    }
    return VLM_OK;
}

/* Apply a block's filter chain (`set x | f` / `filter f`) to its body. */
static vlm_status filter_body(jctx *c, jscope *s, const jnode *chain, jv body, jv *out) {
    if (!chain) {
        *out = body;
        return VLM_OK;
    }
    jscope *frame = jscope_new(c, s);
    jscope_set(c, frame, JBLOCK_INPUT, body);
    return jeval(c, frame, chain, out);
}

static vlm_status exec_set_block(jctx *c, jscope *s, const jnode *n) {
    jv body, value;
    vlm_status st = jcapture(c, s, &n->set_block.body, &body);
    if (!st) st = filter_body(c, s, n->set_block.filter, body, &value);
    if (!st) st = assign(c, s, n->set_block.target, value);
    return st;
}

static vlm_status exec_filter_block(jctx *c, jscope *s, const jnode *n) {
    jv body, value;
    vlm_status st = jcapture(c, s, &n->filter_block.body, &body);
    if (!st) st = filter_body(c, s, n->filter_block.filter, body, &value);
    if (!st) jwrite_str(c->out, value);
    return st ? st : jarena_status(c);
}

static jv make_callable(jctx *c, jfunc_kind kind, const char *name, const jnode *node, jscope *scope) {
    jfunc *f = jarena_calloc(c->arena, 1, sizeof *f);
    if (!f) return jv_none();
    f->kind = kind;
    f->name = name;
    f->node = node;
    f->scope = scope;
    f->caller = jv_none();
    jv v = {.type = JV_FUNC, .fn = f};
    return v;
}

static vlm_status exec_call_block(jctx *c, jscope *s, const jnode *n) {
    const jnode *call = n->call_block.call;
    jv callee;
    vlm_status st = jeval(c, s, call->call.callee, &callee);
    if (st) return st;
    if (callee.type != JV_FUNC || callee.fn->kind != JF_MACRO)
        return jraise(c, n, "TypeError", "call block needs a macro to call");
    jfunc *with_caller = jarena_alloc(c->arena, sizeof *with_caller);
    if (!with_caller) return jarena_status(c);
    *with_caller = *callee.fn;
    with_caller->caller = make_callable(c, JF_CALLER, "caller", n, s);
    jv target = {.type = JV_FUNC, .fn = with_caller};
    jnode shim = *call;
    jv result;
    /* Evaluate the arguments as a normal call, then call the copy. */
    jnode callee_const = {.kind = JN_CONST, .pos = call->pos, .constant = target};
    shim.call.callee = &callee_const;
    if ((st = jeval(c, s, &shim, &result))) return st;
    jwrite_str(c->out, result);
    return jarena_status(c);
}

static vlm_status exec_with(jctx *c, jscope *s, const jnode *n) {
    jscope *frame = jscope_new(c, s);
    for (size_t i = 0; i < n->with.targets.n; i++) {
        jv v;
        vlm_status st = jeval(c, s, n->with.values.items[i], &v);
        if (!st) st = assign(c, frame, n->with.targets.items[i], v);
        if (st) return st;
    }
    return jexec_body(c, frame, &n->with.body);
}

static vlm_status exec_stmt(jctx *c, jscope *s, const jnode *n) {
    switch ((jnode_kind)n->kind) {
    case JN_DATA: jsb_put(c->out, n->data.s, n->data.len); return jarena_status(c);
    case JN_OUTPUT: return exec_output(c, s, n);
    case JN_IF: {
        jv t;
        vlm_status st = jeval(c, s, n->if_.test, &t);
        if (st) return st;
        return jexec_body(c, s, jv_truthy(t) ? &n->if_.body : &n->if_.orelse);
    }
    case JN_FOR: {
        jv iter;
        vlm_status st = jeval(c, s, n->for_.iter, &iter);
        return st ? st : jrun_for(c, s, n, iter, 1);
    }
    case JN_SET: {
        jv v;
        vlm_status st = jeval(c, s, n->set.value, &v);
        return st ? st : assign(c, s, n->set.target, v);
    }
    case JN_SET_BLOCK: return exec_set_block(c, s, n);
    case JN_MACRO:
        jscope_set(c, s, n->macro.name, make_callable(c, JF_MACRO, n->macro.name, n, s));
        return jarena_status(c);
    case JN_CALL_BLOCK: return exec_call_block(c, s, n);
    case JN_FILTER_BLOCK: return exec_filter_block(c, s, n);
    case JN_WITH: return exec_with(c, s, n);
    case JN_SCOPE_BODY: return jexec_body(c, s, &n->body);
    case JN_BREAK: c->flow = JFLOW_BREAK; return VLM_OK;
    case JN_CONTINUE: c->flow = JFLOW_CONTINUE; return VLM_OK;
    default: return jraise(c, n, "TemplateRuntimeError", "expression used as a statement");
    }
}

vlm_status jexec_body(jctx *c, jscope *s, const jnodes *body) {
    for (size_t i = 0; i < body->n; i++) {
        vlm_status st = exec_stmt(c, s, body->items[i]);
        if (st) return st;
        if (c->flow != JFLOW_NORMAL) break;
    }
    return VLM_OK;
}
