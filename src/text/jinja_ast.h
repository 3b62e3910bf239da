/*
 * jinja_ast.h — the syntax tree a chat template compiles to.
 *
 * The parser builds it once per template (in the template's arena); every
 * render walks it. Statements and expressions share one node type; `pos` is
 * the byte offset in the (newline-normalized) source, turned into line and
 * column only when an error is reported.
 */
#ifndef VLM_TEXT_JINJA_AST_H
#define VLM_TEXT_JINJA_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text/jinja_value.h"

typedef struct jnode jnode;

typedef enum jnode_kind {
    /* statements */
    JN_DATA,          /* literal template text */
    JN_OUTPUT,        /* {{ expr }} */
    JN_IF,            /* if / elif (nested in orelse) / else */
    JN_FOR,
    JN_SET,           /* set target = value */
    JN_SET_BLOCK,     /* set target %}...{% endset */
    JN_MACRO,
    JN_CALL_BLOCK,    /* call(params) macro(...) %}...{% endcall */
    JN_FILTER_BLOCK,  /* filter f %}...{% endfilter */
    JN_WITH,
    JN_SCOPE_BODY,    /* {% generation %}: renders its body in place */
    JN_BREAK,
    JN_CONTINUE,
    /* expressions */
    JN_CONST,
    JN_NAME,
    JN_NSREF,         /* ns.attr as an assignment target */
    JN_GETATTR,       /* obj.name */
    JN_GETITEM,       /* obj[key] */
    JN_SLICE,         /* start:stop:step inside [] */
    JN_CALL,
    JN_FILTER,
    JN_TEST,
    JN_UNARY,         /* not, -, + */
    JN_BINOP,         /* + - * / // % ** ~ */
    JN_AND,
    JN_OR,
    JN_COMPARE,       /* chained: a < b <= c, in, not in */
    JN_COND,          /* a if test else b */
    JN_LIST,
    JN_TUPLE,
    JN_DICT
} jnode_kind;

typedef enum jop {
    JOP_ADD, JOP_SUB, JOP_MUL, JOP_DIV, JOP_FLOORDIV, JOP_MOD, JOP_POW, JOP_CONCAT,
    JOP_NOT, JOP_NEG, JOP_POS,
    JOP_EQ, JOP_NE, JOP_LT, JOP_LE, JOP_GT, JOP_GE, JOP_IN, JOP_NOTIN
} jop;

typedef struct jnodes {
    jnode **items;
    size_t n;
} jnodes;

/* Arguments of a call, filter or test. */
typedef struct jcall_args {
    jnodes pos;
    const char **kw_names; /* NUL-terminated */
    jnodes kw_values;
    jnode *star, *dstar;   /* *args, **kwargs */
} jcall_args;

struct jctx;
typedef struct jargs jargs;
/* Filters, tests, methods and globals share this signature: self is the
 * filtered value / tested value / method receiver (None for globals). */
typedef vlm_status (*jbuiltin_fn)(struct jctx *c, const jnode *site, jv self, const jargs *args, jv *out);

/* Macro parameters (also the params of a call block's caller()). */
typedef struct jparams {
    const char **names;
    jnode **defaults; /* NULL entries: required */
    size_t n;
} jparams;

struct jnode {
    uint8_t kind; /* jnode_kind */
    uint8_t op;   /* jop for UNARY / BINOP */
    uint32_t pos;
    union {
        struct { const char *s; size_t len; } data;
        jv constant;
        const char *name;                                  /* NAME */
        struct { const char *ns, *attr; } nsref;
        struct { jnode *obj; const char *attr; } getattr;
        struct { jnode *obj, *key; } getitem;
        struct { jnode *start, *stop, *step; } slice;
        struct { jnode *callee; jcall_args args; } call;
        struct {                                           /* FILTER, TEST */
            jnode *arg;  /* NULL in a filter block's chain head */
            const char *name;
            jbuiltin_fn fn; /* NULL: unknown, raised when evaluated */
            jcall_args args;
            bool negated;   /* is not */
        } filter;
        struct { jnode *operand; } unary;
        struct { jnode *left, *right; } bin;
        struct { jnode *first; jnodes rest; uint8_t *ops; } compare;
        struct { jnode *test, *then, *otherwise; } cond;
        struct { jnodes items; } seq;                     /* LIST, TUPLE */
        struct { jnodes keys, values; } dict;
        jnodes body;                                       /* SCOPE_BODY */
        struct { jnode *test; jnodes body, orelse; } if_;
        struct {
            jnode *target, *iter, *filter;
            jnodes body, orelse;
            bool recursive; /* loop(items) renders the loop again, one level deeper */
        } for_;
        struct { jnode *target, *value; } set;
        struct { jnode *target; jnode *filter; jnodes body; } set_block;
        struct {
            const char *name;
            jparams params;
            jnodes body;
            bool uses_varargs, uses_kwargs;
        } macro;
        struct { jnode *call; jparams params; jnodes body; } call_block;
        struct { jnode *filter; jnodes body; } filter_block;
        struct { jnodes targets, values; jnodes body; } with;
    };
};

#endif
