/*
 * jinja_json.c — JSON in and out of template values.
 *
 * In: the render variables arrive as JSON text. A small reader keeps what
 * Python's json.loads keeps and cJSON does not: 1 and 1.0 are different
 * values (an int prints "1", a float "1.0"), and object key order.
 * Out: the tojson filter as transformers defines it, i.e. Python's
 * json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/jinja_runtime.h"

#define JSON_MAX_DEPTH 512

typedef struct jreader {
    jarena *arena;
    const char *s;
    size_t n, i;
    int depth;
} jreader;

static vlm_status rd_fail(jreader *r, const char *what) {
    return vlm_error(VLM_ERR_FORMAT, "JSON: %s at offset %zu", what, r->i);
}

static void rd_ws(jreader *r) {
    while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' || r->s[r->i] == '\n' || r->s[r->i] == '\r'))
        r->i++;
}

static bool rd_lit(jreader *r, const char *lit) {
    size_t l = strlen(lit);
    if (r->n - r->i < l || memcmp(r->s + r->i, lit, l)) return false;
    r->i += l;
    return true;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static bool rd_hex4(jreader *r, uint32_t *out) {
    if (r->n - r->i < 4) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(r->s[r->i + k]);
        if (h < 0) return false;
        v = v * 16 + (uint32_t)h;
    }
    r->i += 4;
    *out = v;
    return true;
}

static vlm_status rd_string(jreader *r, jv *out) {
    r->i++; /* opening quote */
    size_t start = r->i;
    while (r->i < r->n && r->s[r->i] != '"' && r->s[r->i] != '\\' && (unsigned char)r->s[r->i] >= 0x20) r->i++;
    if (r->i < r->n && r->s[r->i] == '"') { /* no escapes: view into a copy */
        *out = jv_str_copy(r->arena, r->s + start, r->i - start);
        r->i++;
        return r->arena->failure;
    }
    jsb b;
    jsb_init(&b, r->arena, 0);
    jsb_put(&b, r->s + start, r->i - start);
    while (r->i < r->n && r->s[r->i] != '"') {
        char ch = r->s[r->i++];
        if ((unsigned char)ch < 0x20) return rd_fail(r, "control character in string");
        if (ch != '\\') {
            jsb_putc(&b, ch);
            continue;
        }
        if (r->i >= r->n) break;
        char e = r->s[r->i++];
        uint32_t cp;
        switch (e) {
        case '"': case '\\': case '/': jsb_putc(&b, e); break;
        case 'b': jsb_putc(&b, '\b'); break;
        case 'f': jsb_putc(&b, '\f'); break;
        case 'n': jsb_putc(&b, '\n'); break;
        case 'r': jsb_putc(&b, '\r'); break;
        case 't': jsb_putc(&b, '\t'); break;
        case 'u':
            if (!rd_hex4(r, &cp)) return rd_fail(r, "bad \\u escape");
            if (cp >= 0xD800 && cp < 0xDC00 && r->n - r->i >= 6 && r->s[r->i] == '\\' && r->s[r->i + 1] == 'u') {
                size_t save = r->i;
                uint32_t lo;
                r->i += 2;
                if (rd_hex4(r, &lo) && lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else r->i = save;
            }
            if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* lone surrogate */
            jsb_put_cp(&b, cp);
            break;
        default: return rd_fail(r, "bad escape");
        }
    }
    if (r->i >= r->n) return rd_fail(r, "unterminated string");
    r->i++;
    *out = jsb_value(&b);
    return r->arena->failure;
}

static vlm_status rd_number(jreader *r, jv *out) {
    size_t start = r->i;
    bool is_float = false;
    if (r->s[r->i] == '-') r->i++;
    if (rd_lit(r, "Infinity")) {
        *out = jv_float(r->s[start] == '-' ? -INFINITY : INFINITY);
        return VLM_OK;
    }
    if (r->i >= r->n || r->s[r->i] < '0' || r->s[r->i] > '9') return rd_fail(r, "bad number");
    while (r->i < r->n) {
        char ch = r->s[r->i];
        if (ch == '.' || ch == 'e' || ch == 'E' || ((ch == '+' || ch == '-') && (r->s[r->i - 1] == 'e' || r->s[r->i - 1] == 'E')))
            is_float = true;
        else if (ch < '0' || ch > '9') break;
        r->i++;
    }
    char buf[64];
    size_t len = r->i - start;
    if (len >= sizeof buf) is_float = true, len = sizeof buf - 1;
    memcpy(buf, r->s + start, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    if (!is_float) {
        long long v = strtoll(buf, &end, 10);
        if (!errno) {
            *out = jv_int(v);
            return VLM_OK;
        }
    }
    *out = jv_float(strtod(buf, &end));
    return VLM_OK;
}

static vlm_status rd_value(jreader *r, jv *out);

static vlm_status rd_container(jreader *r, bool is_object, jv *out) {
    if (++r->depth > JSON_MAX_DEPTH) return rd_fail(r, "nesting too deep");
    r->i++;
    char close = is_object ? '}' : ']';
    *out = is_object ? jv_dict_new(r->arena, 4) : jv_list_new(r->arena, 4);
    rd_ws(r);
    if (r->i < r->n && r->s[r->i] == close) {
        r->i++;
        r->depth--;
        return VLM_OK;
    }
    for (;;) {
        rd_ws(r);
        jv key, val;
        vlm_status st;
        if (is_object) {
            if (r->i >= r->n || r->s[r->i] != '"') return rd_fail(r, "expected a string key");
            if ((st = rd_string(r, &key))) return st;
            rd_ws(r);
            if (r->i >= r->n || r->s[r->i] != ':') return rd_fail(r, "expected ':'");
            r->i++;
        }
        if ((st = rd_value(r, &val))) return st;
        if (is_object) jdict_set(r->arena, out->d, key, val);
        else jlist_push(r->arena, out->l, val);
        rd_ws(r);
        if (r->i < r->n && r->s[r->i] == ',') {
            r->i++;
            continue;
        }
        if (r->i < r->n && r->s[r->i] == close) {
            r->i++;
            r->depth--;
            return r->arena->failure;
        }
        return rd_fail(r, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static vlm_status rd_value(jreader *r, jv *out) {
    rd_ws(r);
    if (r->i >= r->n) return rd_fail(r, "unexpected end");
    char ch = r->s[r->i];
    if (ch == '{' || ch == '[') return rd_container(r, ch == '{', out);
    if (ch == '"') return rd_string(r, out);
    if (rd_lit(r, "true")) *out = jv_bool(true);
    else if (rd_lit(r, "false")) *out = jv_bool(false);
    else if (rd_lit(r, "null")) *out = jv_none();
    else if (rd_lit(r, "NaN")) *out = jv_float(NAN);
    else return rd_number(r, out);
    return VLM_OK;
}

vlm_status jjson_parse(jarena *a, const char *text, size_t len, jv *out) {
    jreader r = {.arena = a, .s = text, .n = len};
    vlm_status st = rd_value(&r, out);
    if (st) return st;
    rd_ws(&r);
    if (r.i != r.n) return rd_fail(&r, "extra data");
    return VLM_OK;
}

/* ---- json.dumps ---------------------------------------------------------- */

typedef struct jdumper {
    jctx *c;
    const jnode *at;
    bool ensure_ascii, sort_keys;
    const jv *indent;
    const char *item_sep, *key_sep;
    jsb *out;
} jdumper;

static void dump_string(jdumper *d, const char *s, size_t n) {
    jsb *b = d->out;
    jsb_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        uint32_t cp = jutf8_next(s, n, &i);
        switch (cp) {
        case '"': jsb_puts(b, "\\\""); break;
        case '\\': jsb_puts(b, "\\\\"); break;
        case '\n': jsb_puts(b, "\\n"); break;
        case '\r': jsb_puts(b, "\\r"); break;
        case '\t': jsb_puts(b, "\\t"); break;
        case '\b': jsb_puts(b, "\\b"); break;
        case '\f': jsb_puts(b, "\\f"); break;
        default:
            if (cp < 0x20 || (d->ensure_ascii && cp > 0x7F && cp < 0x10000)) {
                jsb_printf(b, "\\u%04x", cp);
            } else if (d->ensure_ascii && cp >= 0x10000) {
                uint32_t v = cp - 0x10000;
                jsb_printf(b, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
                jsb_put(b, s + start, i - start);
            }
        }
    }
    jsb_putc(b, '"');
}

static void newline_indent(jdumper *d, int level) {
    jsb_putc(d->out, '\n');
    for (int k = 0; k < level; k++) jsb_put(d->out, d->indent->s, d->indent->len);
}

static vlm_status dump_value(jdumper *d, jv v, int level);

static vlm_status dump_key(jdumper *d, jv k) {
    char buf[32];
    switch ((jv_type)k.type) {
    case JV_STR: dump_string(d, k.s, k.len); return VLM_OK;
    case JV_INT: jsb_printf(d->out, "\"%lld\"", (long long)k.i); return VLM_OK;
    case JV_FLOAT: jfloat_repr(k.f, buf); jsb_printf(d->out, "\"%s\"", buf); return VLM_OK;
    case JV_BOOL: jsb_puts(d->out, k.b ? "\"true\"" : "\"false\""); return VLM_OK;
    case JV_NONE: jsb_puts(d->out, "\"null\""); return VLM_OK;
    default:
        return jraise(d->c, d->at, "TypeError", "keys must be str, int, float, bool or None, not %s",
                      jv_type_name(k));
    }
}

/* Key order for sort_keys. */
static vlm_status sorted_order(jdumper *d, const jdict *m, size_t *order) {
    for (size_t i = 0; i < m->n; i++) order[i] = i;
    for (size_t i = 1; i < m->n; i++) { /* insertion sort: stable, small dicts */
        size_t cur = order[i], j = i;
        while (j > 0) {
            int r;
            vlm_status st = jorder(d->c, d->at, m->keys[order[j - 1]], m->keys[cur], false, &r);
            if (st) return st;
            if (r <= 0) break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = cur;
    }
    return VLM_OK;
}

static vlm_status dump_container(jdumper *d, jv v, int level) {
    bool is_dict = v.type == JV_DICT;
    size_t n = is_dict ? v.d->n : v.l->n;
    jsb_putc(d->out, is_dict ? '{' : '[');
    if (n == 0) {
        jsb_putc(d->out, is_dict ? '}' : ']');
        return VLM_OK;
    }
    size_t *order = NULL;
    if (is_dict && d->sort_keys) {
        order = jarena_alloc(d->c->arena, n * sizeof *order);
        if (!order) return jarena_status(d->c);
        vlm_status st = sorted_order(d, v.d, order);
        if (st) return st;
    }
    for (size_t i = 0; i < n; i++) {
        if (i) jsb_puts(d->out, d->item_sep);
        if (d->indent) newline_indent(d, level + 1);
        vlm_status st;
        if (is_dict) {
            size_t k = order ? order[i] : i;
            if ((st = dump_key(d, v.d->keys[k]))) return st;
            jsb_puts(d->out, d->key_sep);
            st = dump_value(d, v.d->vals[k], level + 1);
        } else {
            st = dump_value(d, v.l->items[i], level + 1);
        }
        if (st) return st;
    }
    if (d->indent) newline_indent(d, level);
    jsb_putc(d->out, is_dict ? '}' : ']');
    return VLM_OK;
}

static vlm_status dump_value(jdumper *d, jv v, int level) {
    char buf[32];
    if (level > JSON_MAX_DEPTH) return jraise(d->c, d->at, "RecursionError", "value nested too deeply for tojson");
    if (jv_is_iterator(v))
        return jraise(d->c, d->at, "TypeError", "Object of type %s is not JSON serializable", jv_type_name(v));
    switch ((jv_type)v.type) {
    case JV_NONE: jsb_puts(d->out, "null"); break;
    case JV_BOOL: jsb_puts(d->out, v.b ? "true" : "false"); break;
    case JV_INT: jsb_printf(d->out, "%lld", (long long)v.i); break;
    case JV_FLOAT:
        if (isnan(v.f)) jsb_puts(d->out, "NaN");
        else if (isinf(v.f)) jsb_puts(d->out, v.f < 0 ? "-Infinity" : "Infinity");
        else {
            jfloat_repr(v.f, buf);
            jsb_puts(d->out, buf);
        }
        break;
    case JV_STR: dump_string(d, v.s, v.len); break;
    case JV_LIST:
    case JV_TUPLE:
    case JV_DICT: return dump_container(d, v, level);
    default:
        return jraise(d->c, d->at, "TypeError", "Object of type %s is not JSON serializable", jv_type_name(v));
    }
    return jarena_status(d->c);
}

vlm_status jjson_dump(jctx *c, const jnode *at, jv v, bool ensure_ascii, const jv *indent,
                      const char *item_sep, const char *key_sep, bool sort_keys, jsb *out) {
    jdumper d = {c, at, ensure_ascii, sort_keys, indent, item_sep ? item_sep : (indent ? "," : ", "),
                 key_sep ? key_sep : ": ", out};
    return dump_value(&d, v, 0);
}
