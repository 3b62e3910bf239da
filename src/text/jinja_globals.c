/*
 * jinja_globals.c — functions a template can call by name: Jinja's range
 * (with the sandbox's MAX_RANGE), namespace and dict, and the globals
 * transformers adds for chat templates: raise_exception(msg) and
 * strftime_now(fmt). Jinja's lipsum, cycler and joiner are not provided
 * (using one is an UndefinedError); no known chat template calls them.
 */
#include <string.h>
#include <time.h>

#include "text/jinja_runtime.h"

#define GLOBAL(name) static vlm_status g_##name(jctx *c, const jnode *at, jv self, const jargs *a, jv *out)

/* Jinja's sandbox refuses ranges longer than this (MAX_RANGE). */
#define MAX_RANGE 100000

GLOBAL(range) {
    (void)self;
    int64_t p[3] = {0, 0, 1};
    if (a->n_pos < 1 || a->n_pos > 3) return jraise(c, at, "TypeError", "range expected 1 to 3 arguments, got %zu", a->n_pos);
    for (size_t i = 0; i < a->n_pos; i++) {
        jv v = a->pos[i];
        if (v.type != JV_INT && v.type != JV_BOOL)
            return jraise(c, at, "TypeError", "'%s' object cannot be interpreted as an integer", jv_type_name(v));
        p[a->n_pos == 1 ? 1 : i] = v.type == JV_BOOL ? v.b : v.i;
    }
    int64_t start = p[0], stop = p[1], step = p[2];
    if (step == 0) return jraise(c, at, "ValueError", "range() arg 3 must not be zero");
    double count = step > 0 ? (stop > start ? ((double)stop - (double)start + (double)step - 1) / (double)step : 0)
                            : (start > stop ? ((double)start - (double)stop - (double)step - 1) / (double)-step : 0);
    if (count > MAX_RANGE)
        return jraise(c, at, "OverflowError",
                      "Range too big. The sandbox blocks ranges larger than MAX_RANGE (%d).", MAX_RANGE);
    jv r = jv_list_new(c->arena, (size_t)count);
    for (int64_t x = start; step > 0 ? x < stop : x > stop; x += step) jlist_push(c->arena, r.l, jv_int(x));
    *out = r;
    return jarena_status(c);
}

static vlm_status kwargs_into(jctx *c, const jnode *at, const jargs *a, jv target) {
    for (size_t i = 0; i < a->n_pos; i++) {
        jv src = a->pos[i];
        if (src.type != JV_DICT) return jraise(c, at, "TypeError", "expected a mapping, got %s", jv_type_name(src));
        for (size_t k = 0; k < src.d->n; k++) jdict_set(c->arena, target.d, src.d->keys[k], src.d->vals[k]);
    }
    for (size_t k = 0; k < a->n_kw; k++) jdict_set(c->arena, target.d, jv_cstr(a->kw_names[k]), a->kw[k]);
    return jarena_status(c);
}

GLOBAL(namespace) {
    (void)self;
    jv ns = jv_dict_new(c->arena, a->n_kw);
    ns.type = JV_NAMESPACE;
    *out = ns;
    return kwargs_into(c, at, a, ns);
}

GLOBAL(dict) {
    (void)self;
    jv d = jv_dict_new(c->arena, a->n_kw);
    *out = d;
    return kwargs_into(c, at, a, d);
}

GLOBAL(raise_exception) {
    (void)self;
    (void)out;
    const jv *msg = jarg(a, 0, "message");
    jv text = msg ? jto_str(c, *msg) : jv_str_view("", 0);
    return jraise(c, at, "TemplateError", "%.*s", (int)(text.len > 600 ? 600 : text.len), text.s);
}

GLOBAL(strftime_now) {
    (void)self;
    const jv *fmt = jarg(a, 0, "format");
    if (!fmt || fmt->type != JV_STR) return jraise(c, at, "TypeError", "strftime_now() needs a format string");
    time_t t = c->now ? (time_t)c->now : time(NULL);
    struct tm tm;
    if (c->now) gmtime_r(&t, &tm);
    else localtime_r(&t, &tm);
    char f[256], buf[512];
    size_t n = fmt->len < sizeof f - 1 ? fmt->len : sizeof f - 1;
    memcpy(f, fmt->s, n);
    f[n] = '\0';
    size_t len = strftime(buf, sizeof buf, f, &tm);
    *out = jv_str_copy(c->arena, buf, len);
    return jarena_status(c);
}

typedef struct named_global {
    const char *name;
    jbuiltin_fn fn;
} named_global;

static const named_global globals[] = {
    {"range", g_range}, {"namespace", g_namespace}, {"dict", g_dict},
    {"raise_exception", g_raise_exception}, {"strftime_now", g_strftime_now},
};

jbuiltin_fn jglobal_lookup(const char *name) {
    for (size_t i = 0; i < sizeof globals / sizeof *globals; i++)
        if (!strcmp(globals[i].name, name)) return globals[i].fn;
    return NULL;
}
