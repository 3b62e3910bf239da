/*
 * jinja_runtime.h — what the interpreter's parts share while rendering:
 * the render context (arena, output, scopes, limits, clock), argument
 * passing for builtins, Python-style errors, and the entry points of the
 * evaluator, statement executor, operators, printing, JSON and the
 * builtin tables (filters, tests, methods, globals).
 */
#ifndef VLM_TEXT_JINJA_RUNTIME_H
#define VLM_TEXT_JINJA_RUNTIME_H

#include <stdint.h>

#include "text/jinja_ast.h"
#include "text/jinja_lexer.h"
#include "text/jinja_str.h"

/* ---- scopes ------------------------------------------------------------- */

typedef struct jvar {
    const char *name;
    jv value;
} jvar;

/* Variables of one frame: the template root, a loop iteration, a macro
 * call. Lookups walk parent links; assignments go to the innermost. */
typedef struct jscope {
    struct jscope *parent;
    jvar *vars;
    size_t n, cap;
} jscope;

/* ---- limits -------------------------------------------------------------- */

typedef struct jlimits {
    size_t max_output;   /* bytes of any rendered text */
    size_t max_memory;   /* arena bytes */
    uint64_t max_steps;  /* loop iterations + macro calls + filter items */
    int max_depth;       /* nested macro calls / evaluation depth */
    double max_seconds;  /* wall time */
} jlimits;

/* ---- render context ------------------------------------------------------ */

typedef enum jflow { JFLOW_NORMAL, JFLOW_BREAK, JFLOW_CONTINUE } jflow;

typedef struct jctx {
    jarena *arena;
    const jsource *src;
    jsb *out;          /* where statements write now */
    jscope *root;      /* template-level variables (macros see these) */
    jlimits limits;
    uint64_t steps;
    int depth;
    double deadline;   /* monotonic seconds */
    int64_t now;       /* strftime_now clock, Unix seconds UTC */
    jflow flow;
} jctx;

/* Arguments handed to a builtin. */
struct jargs {
    const jv *pos;
    size_t n_pos;
    const char *const *kw_names;
    const jv *kw;
    size_t n_kw;
};

/* Record "<template>:<line>:<col>: <type>: <message>" for the node and
 * return VLM_ERR_TEMPLATE. type is the Python exception name. */
vlm_status jraise(jctx *c, const jnode *at, const char *type, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* The UndefinedError an Undefined value raises when used. */
vlm_status jraise_undefined(jctx *c, const jnode *at, jv undef);
/* Count one unit of work; VLM_ERR_LIMIT when steps or time run out. */
vlm_status jstep(jctx *c, const jnode *at);
/* Status of the arena (sticky memory/limit failure) or VLM_OK. */
static inline vlm_status jarena_status(const jctx *c) { return c->arena->failure; }

/* Positional argument i or keyword name; NULL when absent. */
const jv *jarg(const jargs *a, size_t i, const char *name);
/* Fail unless at most max_pos positionals and only known keywords. */
vlm_status jargs_check(jctx *c, const jnode *at, const jargs *a, const char *fn, size_t max_pos,
                       const char *const *keywords);

/* ---- scopes -------------------------------------------------------------- */

jscope *jscope_new(jctx *c, jscope *parent);
/* NULL when unbound anywhere in the chain. */
const jv *jscope_lookup(const jscope *s, const char *name);
void jscope_set(jctx *c, jscope *s, const char *name, jv value);

/* ---- evaluation ---------------------------------------------------------- */

/* Variable a block's filter chain (`set x | f`, `filter f`) reads its
 * rendered body from; not a valid template identifier. */
#define JBLOCK_INPUT "\x01" "block"

vlm_status jeval(jctx *c, jscope *s, const jnode *e, jv *out);
vlm_status jexec_body(jctx *c, jscope *s, const jnodes *body);
/* Run a for statement over an iterable at a recursion depth (1 = normal). */
vlm_status jrun_for(jctx *c, jscope *s, const jnode *n, jv iterable, int depth);
/* Call any callable value (macro, builtin, bound method). */
vlm_status jcall_value(jctx *c, const jnode *at, jv callee, const jargs *args, jv *out);
/* Render a body into a fresh string (for set blocks, filter blocks, macros). */
vlm_status jcapture(jctx *c, jscope *s, const jnodes *body, jv *out);
/* Iterate any iterable into a list of items (dict: keys, str: chars). */
vlm_status jiterate(jctx *c, const jnode *at, jv v, jlist **items);

/* ---- operators (jinja_ops.c) --------------------------------------------- */

vlm_status jbinop(jctx *c, const jnode *at, jop op, jv a, jv b, jv *out);
vlm_status jcompare(jctx *c, const jnode *at, jop op, jv a, jv b, bool *out);
/* Python ordering for sort/min/max: -1, 0, 1, or a TypeError. */
vlm_status jorder(jctx *c, const jnode *at, jv a, jv b, bool case_insensitive, int *out);
/* obj.attr and obj[key] with Jinja's sandboxed lookup rules. */
vlm_status jgetattr(jctx *c, const jnode *at, jv obj, jv name, jv *out);
/* obj's method `name` bound to obj (or the sandbox's unsafe-undefined for a
 * mutating one); false when its type has no such method. */
bool jmethod_value(jctx *c, jv obj, jv name, jv *out);
vlm_status jgetitem(jctx *c, const jnode *at, jv obj, jv key, jv *out);
vlm_status jslice(jctx *c, const jnode *at, jv obj, jv start, jv stop, jv step, jv *out);

/* ---- string formatting (jinja_format.c) ----------------------------------- */

/* Python `fmt % args` (args: a tuple, a mapping or one value). */
vlm_status jpercent_format(jctx *c, const jnode *at, jv fmt, jv args, jv *out);
/* Python format(v, spec) for str.format's "{:spec}". */
vlm_status jformat_spec(jctx *c, const jnode *at, jv v, const char *spec, size_t n, jsb *out);

/* ---- printing (jinja_print.c) -------------------------------------------- */

/* Python str(v) (Undefined prints as ""). */
void jwrite_str(jsb *b, jv v);
/* Python repr(v). */
void jwrite_repr(jsb *b, jv v);
/* str(v) as a value (strings returned as is). */
jv jto_str(jctx *c, jv v);
/* Shortest round-trip float text, as Python's repr(float). */
void jfloat_repr(double f, char buf[32]);

/* ---- JSON (jinja_json.c) ------------------------------------------------- */

/* Parse JSON text into values (ints stay ints, floats floats, key order kept). */
vlm_status jjson_parse(jarena *a, const char *text, size_t len, jv *out);
/* json.dumps(v, ensure_ascii, indent, separators, sort_keys). indent: NULL
 * for none, else the per-level string; separators NULL for defaults. */
vlm_status jjson_dump(jctx *c, const jnode *at, jv v, bool ensure_ascii, const jv *indent,
                      const char *item_sep, const char *key_sep, bool sort_keys, jsb *out);

/* ---- builtin tables ------------------------------------------------------ */

jbuiltin_fn jfilter_lookup(const char *name);
jbuiltin_fn jtest_lookup(const char *name);
jbuiltin_fn jglobal_lookup(const char *name);
/* Method of a receiver's type (str/dict/list/loop), NULL when none;
 * *unsafe is set for mutating methods the immutable sandbox refuses. */
jbuiltin_fn jmethod_lookup(jv self, const char *name, bool *unsafe);
/* Run a test by name on a value (select/reject filters). */
vlm_status jrun_test(jctx *c, const jnode *at, const char *name, jv value, const jargs *args, bool *out);

/* Callable values. */
typedef enum jfunc_kind { JF_BUILTIN, JF_MACRO, JF_CALLER } jfunc_kind;
struct jfunc {
    jfunc_kind kind;
    const char *name;
    jbuiltin_fn fn;        /* JF_BUILTIN */
    jv self;               /* bound receiver for methods */
    const jnode *node;     /* JF_MACRO: the macro; JF_CALLER: the call block */
    jscope *scope;         /* where a caller body's names resolve */
    jv caller;             /* JF_MACRO invoked from a call block: its caller() */
};
jv jfunc_builtin(jctx *c, const char *name, jbuiltin_fn fn, jv self);

/* The `loop` object of a for loop. */
struct jloop {
    jlist *items;
    size_t index0;
    int depth;           /* 1 for the outermost run of a recursive loop */
    const jnode *node;   /* the for statement (recursive calls rerun it) */
    jscope *scope;       /* where it runs */
    jv last_changed;     /* loop.changed() memory */
    bool has_changed;
};

#endif
