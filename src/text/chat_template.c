/*
 * chat_template.c — the public chat-template API: compile once (lex +
 * parse into an AST kept by the vlm_template), render many times with
 * variables given as JSON, and find a model folder's template the way
 * transformers does (chat_template.jinja, chat_template.json,
 * tokenizer_config.json's chat_template, a string or a named list).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "text/jinja_parser.h"
#include "text/jinja_runtime.h"

#define TEMPLATE_ARENA_LIMIT ((size_t)64 << 20)

struct vlm_template {
    jarena arena; /* source, tokens and AST */
    jsource src;
    jnodes body;
    int64_t now;
    jlimits limits;
    char *bos_token, *eos_token; /* defaults for renders; may be NULL */
};

static const jlimits default_limits = {
    .max_output = (size_t)16 << 20,
    .max_memory = (size_t)256 << 20,
    .max_steps = 10000000,
    .max_depth = 100,
    .max_seconds = 10.0,
};

vlm_status vlm_template_compile(const char *source, const char *name, vlm_template **out) {
    if (!source || !out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_template_compile: NULL argument");
    *out = NULL;
    vlm_template *t = vlm_calloc(1, sizeof *t);
    if (!t) return VLM_ERR_OUT_OF_MEMORY;
    jarena_init(&t->arena, TEMPLATE_ARENA_LIMIT);
    t->limits = default_limits;
    jtoken *tokens;
    size_t n_tokens;
    char *tname = jarena_strndup(&t->arena, name ? name : "template", strlen(name ? name : "template"));
    vlm_status st = tname ? jsource_init(&t->src, &t->arena, tname, source, strlen(source)) : t->arena.failure;
    if (!st) st = jlex(&t->arena, &t->src, &tokens, &n_tokens);
    if (!st) st = jparse(&t->arena, &t->src, tokens, n_tokens, &t->body);
    if (st) {
        vlm_template_free(t);
        return st;
    }
    *out = t;
    return VLM_OK;
}

void vlm_template_free(vlm_template *t) {
    if (!t) return;
    jarena_free(&t->arena);
    free(t->bos_token);
    free(t->eos_token);
    free(t);
}

void vlm_template_set_time(vlm_template *t, int64_t unix_seconds) {
    if (t) t->now = unix_seconds;
}

void vlm_template_set_limits(vlm_template *t, const vlm_template_limits *l) {
    if (!t || !l) return;
    if (l->max_output_bytes) /* string values hold 32-bit lengths */
        t->limits.max_output = l->max_output_bytes < UINT32_MAX ? l->max_output_bytes : UINT32_MAX;
    if (l->max_memory_bytes) t->limits.max_memory = l->max_memory_bytes;
    if (l->max_steps) t->limits.max_steps = l->max_steps;
    if (l->max_depth) t->limits.max_depth = l->max_depth;
    if (l->max_seconds > 0) t->limits.max_seconds = l->max_seconds;
}

static vlm_status replace_string(char **slot, const char *value) {
    char *copy = NULL;
    if (value && !(copy = vlm_strdup(value))) return VLM_ERR_OUT_OF_MEMORY;
    free(*slot);
    *slot = copy;
    return VLM_OK;
}

vlm_status vlm_template_set_special_tokens(vlm_template *t, const char *bos_token, const char *eos_token) {
    if (!t) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_template_set_special_tokens: NULL template");
    vlm_status st = replace_string(&t->bos_token, bos_token);
    return st ? st : replace_string(&t->eos_token, eos_token);
}

/* ---- rendering ------------------------------------------------------------ */

static double monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bind_special(jctx *c, const char *name, const char *value) {
    if (value) jscope_set(c, c->root, name, jv_str_copy(c->arena, value, strlen(value)));
}

vlm_status vlm_template_render_json(const vlm_template *t, const char *vars_json, char **out) {
    if (!t || !out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_template_render_json: NULL argument");
    *out = NULL;
    jarena arena;
    jarena_init(&arena, t->limits.max_memory);
    jsb output;
    jsb_init(&output, &arena, t->limits.max_output);
    jctx c = {.arena = &arena, .src = &t->src, .out = &output, .limits = t->limits, .now = t->now};
    c.deadline = monotonic_now() + t->limits.max_seconds;
    c.root = jscope_new(&c, NULL);
    /* transformers always passes these (tools/documents None, no generation
     * prompt) before the special tokens and the caller's keywords */
    jscope_set(&c, c.root, "tools", jv_none());
    jscope_set(&c, c.root, "documents", jv_none());
    jscope_set(&c, c.root, "add_generation_prompt", jv_bool(false));
    bind_special(&c, "bos_token", t->bos_token);
    bind_special(&c, "eos_token", t->eos_token);
    jv vars = jv_dict_new(&arena, 0);
    vlm_status st = VLM_OK;
    if (vars_json && *vars_json) {
        st = jjson_parse(&arena, vars_json, strlen(vars_json), &vars);
        if (st) vlm_error_prefix(st, "template variables");
        else if (vars.type != JV_DICT) st = vlm_error(VLM_ERR_INVALID_ARGUMENT, "template variables must be a JSON object");
    }
    for (size_t i = 0; !st && i < vars.d->n; i++) {
        jv k = vars.d->keys[i];
        char *name = jarena_strndup(&arena, k.s, k.len);
        if (name) jscope_set(&c, c.root, name, vars.d->vals[i]);
    }
    if (!st) st = arena.failure;
    if (!st) st = jexec_body(&c, c.root, &t->body);
    if (!st) st = arena.failure;
    if (!st) {
        *out = vlm_malloc(output.len + 1);
        if (!*out) st = VLM_ERR_OUT_OF_MEMORY;
        else {
            if (output.len) memcpy(*out, output.p, output.len);
            (*out)[output.len] = '\0';
        }
    }
    jarena_free(&arena);
    return st;
}

/* ---- discovery ------------------------------------------------------------- */

static char *read_text(const char *path, bool *exists) {
    FILE *f = fopen(path, "rb");
    *exists = f != NULL;
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                vlm_error(VLM_ERR_OUT_OF_MEMORY, "reading %s", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0) break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        vlm_error(VLM_ERR_IO, "cannot read %s", path);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* A special token in tokenizer_config.json: "<s>" or {"content": "<s>", ...}. */
static const char *token_text(const cJSON *item) {
    if (cJSON_IsString(item)) return item->valuestring;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
    return cJSON_IsString(content) ? content->valuestring : NULL;
}

/* tokenizer_config.json's chat_template: a string, or a list of
 * {name, template} where transformers renders "default". */
static const char *config_template(const cJSON *tpl) {
    if (cJSON_IsString(tpl)) return tpl->valuestring;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, tpl) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "name");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(entry, "template");
        if (cJSON_IsString(name) && !strcmp(name->valuestring, "default") && cJSON_IsString(text))
            return text->valuestring;
    }
    return NULL;
}

static vlm_status compile_file_template(const char *dir, char *path, size_t path_size, vlm_template **out,
                                        bool *found) {
    bool exists;
    snprintf(path, path_size, "%s/chat_template.jinja", dir);
    char *text = read_text(path, &exists);
    if (exists) {
        *found = true;
        if (!text) return VLM_ERR_IO;
        vlm_status st = vlm_template_compile(text, path, out);
        free(text);
        return st;
    }
    snprintf(path, path_size, "%s/chat_template.json", dir);
    text = read_text(path, &exists);
    if (!exists) return VLM_OK;
    *found = true;
    if (!text) return VLM_ERR_IO;
    cJSON *json = cJSON_Parse(text);
    free(text);
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(json, "chat_template");
    const char *src = config_template(tpl);
    vlm_status st = src ? vlm_template_compile(src, path, out)
                        : vlm_error(VLM_ERR_FORMAT, "%s: no \"chat_template\" string", path);
    cJSON_Delete(json);
    return st;
}

vlm_status vlm_template_load_dir(const char *dir, vlm_template **out) {
    if (!dir || !out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_template_load_dir: NULL argument");
    *out = NULL;
    char path[4096];
    bool found = false;
    vlm_status st = compile_file_template(dir, path, sizeof path, out, &found);
    if (st) return st;
    char cfg_path[4096];
    snprintf(cfg_path, sizeof cfg_path, "%s/tokenizer_config.json", dir);
    bool exists;
    char *text = read_text(cfg_path, &exists);
    cJSON *cfg = text ? cJSON_Parse(text) : NULL;
    free(text);
    if (exists && !cfg) st = vlm_error(VLM_ERR_FORMAT, "%s: not valid JSON", cfg_path);
    if (!st && !found) {
        const char *src = config_template(cJSON_GetObjectItemCaseSensitive(cfg, "chat_template"));
        if (src) st = vlm_template_compile(src, cfg_path, out);
        else st = vlm_error(VLM_ERR_NOT_FOUND, "%s: no chat template (chat_template.jinja, chat_template.json or "
                            "tokenizer_config.json \"chat_template\")", dir);
    }
    if (!st && cfg)
        st = vlm_template_set_special_tokens(*out, token_text(cJSON_GetObjectItemCaseSensitive(cfg, "bos_token")),
                                             token_text(cJSON_GetObjectItemCaseSensitive(cfg, "eos_token")));
    cJSON_Delete(cfg);
    if (st) {
        vlm_template_free(*out);
        *out = NULL;
    }
    return st;
}
