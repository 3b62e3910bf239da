/*
 * test_template_engine.c — the Jinja language feature by feature.
 *
 * fixtures/templates/engine_cases.json holds ~100 small templates with the
 * output (or the error) Python Jinja2 produced for them, set up as
 * transformers sets it up (make_engine_cases.py regenerates it);
 * hfjs_cases.json adds ~50 real model templates and ~160 snippets from
 * huggingface.js's tests and ollama_cases.json ~95 GGUF chat templates,
 * also rendered by Python Jinja2. Each is
 * rendered here and compared byte for byte; errors must carry Jinja2's
 * exception name and message. The rest covers what only vlm has: syntax
 * error positions, the safety limits against hostile templates, and
 * template discovery in model folders.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

#define DIR "fixtures/templates/"
#define GOLDEN_TIME 1735732800 /* 2025-01-01 12:00:00 UTC */

static vlm_status render(const char *src, const char *vars, char **out) {
    vlm_template *t = NULL;
    *out = NULL;
    vlm_status st = vlm_template_compile(src, "case", &t);
    if (st) return st;
    vlm_template_set_time(t, GOLDEN_TIME);
    st = vlm_template_render_json(t, vars, out);
    vlm_template_free(t);
    return st;
}

/* Every case of a file: {"cases": [{name, template, vars_json, expect | error}]}. */
static int run_case_file(const char *path) {
    char *text = test_read_file(path, NULL);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases"), *c;
    int n = 0;
    cJSON_ArrayForEach(c, cases) {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        const char *src = cJSON_GetObjectItemCaseSensitive(c, "template")->valuestring;
        const char *vars = cJSON_GetObjectItemCaseSensitive(c, "vars_json")->valuestring;
        const cJSON *expect = cJSON_GetObjectItemCaseSensitive(c, "expect");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(c, "error");
        char *out;
        vlm_status st = render(src, vars, &out);
        if (cJSON_IsString(expect)) {
            CHECKF(st == VLM_OK, "%s: %s", name, vlm_last_error());
            if (st == VLM_OK)
                CHECKF(!strcmp(out, expect->valuestring), "%s:\n  got  [%s]\n  want [%s]", name, out,
                       expect->valuestring);
        } else {
            CHECKF(st != VLM_OK && strstr(vlm_last_error(), error->valuestring), "%s: want error [%s], got %s [%s]",
                   name, error->valuestring, vlm_status_name(st), st ? vlm_last_error() : out);
        }
        vlm_free(out);
        n++;
    }
    cJSON_Delete(doc);
    return n;
}

static void test_jinja2_cases(void) { CHECK(run_case_file(DIR "engine_cases.json") >= 90); }

/* Real chat templates of ~50 models and language snippets collected by
 * huggingface.js's Jinja tests; expected outputs from Python Jinja2. */
static void test_hfjs_cases(void) { CHECK(run_case_file(DIR "hfjs_cases.json") >= 200); }

/* ~95 distinct GGUF chat templates (npm @huggingface/ollama-utils) x four
 * message sets, expected outputs and errors from Python Jinja2. */
static void test_ollama_cases(void) { CHECK(run_case_file(DIR "ollama_cases.json") >= 380); }

/* Syntax errors name the template, line and column. */
static void test_syntax_errors(void) {
    static const struct {
        const char *src, *where, *what;
    } cases[] = {
        {"line one\n{% if x %}\nno end", "case:3:7:", "Unexpected end of template"},
        {"{{ 1 + }}", "case:1:8:", "unexpected"},
        {"ok\n  {% frobnicate %}", "case:2:6:", "Encountered unknown tag 'frobnicate'"},
        {"{{ 'unterminated }}", "case:1:4:", "TemplateSyntaxError"},
        {"{# never closed", "case:1:1:", "Missing end of comment tag"},
        {"{{ (1, 2 }}", "case:1:10:", "unexpected '}'"},
        {"{% for in x %}{% endfor %}", "case:1:8:", "TemplateSyntaxError"},
        {"{% endif %}", "case:1:4:", "Encountered unknown tag 'endif'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vlm_template *t = NULL;
        vlm_status st = vlm_template_compile(cases[i].src, "case", &t);
        CHECKF(st == VLM_ERR_TEMPLATE && t == NULL, "case %zu compiled", i);
        CHECKF(strstr(vlm_last_error(), cases[i].where) && strstr(vlm_last_error(), cases[i].what),
               "case %zu: want '%s' ... '%s', got '%s'", i, cases[i].where, cases[i].what, vlm_last_error());
        vlm_template_free(t);
    }
}

/* Runtime errors point at the statement too. */
static void test_runtime_error_position(void) {
    char *out;
    vlm_status st = render("a\nb {{ 1 // 0 }}", "{}", &out);
    CHECK(st == VLM_ERR_TEMPLATE);
    CHECKF(strstr(vlm_last_error(), "case:2:") && strstr(vlm_last_error(), "ZeroDivisionError"), "%s",
           vlm_last_error());
}

static vlm_status render_limited(const char *src, const vlm_template_limits *lim, char **out) {
    vlm_template *t = NULL;
    *out = NULL;
    vlm_status st = vlm_template_compile(src, "hostile", &t);
    if (st) return st;
    vlm_template_set_limits(t, lim);
    st = vlm_template_render_json(t, "{}", out);
    vlm_template_free(t);
    return st;
}

/* Hostile templates stop with VLM_ERR_LIMIT and a message, never hang. */
static void test_limits(void) {
    vlm_template_limits lim = {.max_output_bytes = 1 << 20, .max_steps = 200000, .max_depth = 50,
                               .max_seconds = 5};
    static const char *const hostile[] = {
        /* nested loops: 10^15 iterations */
        ("{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}x{% endfor %}"
         "{% endfor %}{% endfor %}"),
        /* unbounded macro recursion */
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
        /* exponential output by doubling */
        "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
        /* one huge repetition */
        "{{ 'x' * 100000000000 }}",
        /* endless recursive loop */
        "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
        /* a value nested 100000 deep, then printed */
        "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}",
        /* exponential macro fan-out */
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% else %}ab{% endif %}{% endmacro %}{{ f(40) }}",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        char *out;
        vlm_status st = render_limited(hostile[i], &lim, &out);
        CHECKF(st == VLM_ERR_LIMIT, "hostile %zu: %s %s", i, vlm_status_name(st), vlm_last_error());
        CHECK(out == NULL);
        CHECK(strlen(vlm_last_error()) > 10);
        vlm_free(out);
    }
    /* deep nesting in the source is refused at compile time */
    size_t n = 5000;
    char *deep = malloc(2 * n + 8);
    strcpy(deep, "{{ ");
    for (size_t i = 0; i < n; i++) strcat(deep, "(");
    strcat(deep, "1");
    for (size_t i = 0; i < n; i++) strcat(deep, ")");
    strcat(deep, " }}");
    vlm_template *t = NULL;
    CHECK(vlm_template_compile(deep, "deep", &t) == VLM_ERR_LIMIT);
    free(deep);
}

/* A render never depends on the one before it (parse once, render many). */
static void test_render_many(void) {
    vlm_template *t;
    CHECK_OK(vlm_template_compile("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                                  "{% endfor %}{{ ns.n }}{{ bos_token }}",
                                  "many", &t));
    CHECK_OK(vlm_template_set_special_tokens(t, "<s>", "</s>"));
    for (int i = 0; i < 3; i++) {
        char *out = NULL;
        CHECK_OK(vlm_template_render_json(t, "{\"messages\": [1, 2]}", &out));
        CHECK(out && !strcmp(out, "2<s>"));
        vlm_free(out);
    }
    char *out = NULL;
    CHECK_OK(vlm_template_render_json(t, "{\"messages\": [], \"bos_token\": \"B\"}", &out));
    CHECK(out && !strcmp(out, "0B"));
    vlm_free(out);
    CHECK(vlm_template_render_json(t, "[1]", &out) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(vlm_template_render_json(t, "{\"messages\": ", &out) == VLM_ERR_FORMAT);
    vlm_template_free(t);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

/* transformers' discovery order and tokenizer_config.json forms. */
static void test_load_dir(void) {
    char dir[] = "/tmp/vlm_template_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], *out = NULL;
    vlm_template *t = NULL;
    CHECK(vlm_template_load_dir(dir, &t) == VLM_ERR_NOT_FOUND);

    /* list form: {name, template} entries, "default" is used */
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    write_file(path, "{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}, \"eos_token\": \"</s>\","
                     "\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"TOOLS\"},"
                     "{\"name\": \"default\", \"template\": \"{{ bos_token }}D{{ eos_token }}\"}]}");
    CHECK_OK(vlm_template_load_dir(dir, &t));
    CHECK_OK(vlm_template_render_json(t, "{}", &out));
    CHECK(out && !strcmp(out, "<s>D</s>"));
    vlm_free(out);
    vlm_template_free(t);

    /* chat_template.json wins over tokenizer_config.json */
    snprintf(path, sizeof path, "%s/chat_template.json", dir);
    write_file(path, "{\"chat_template\": \"J{{ eos_token }}\"}");
    CHECK_OK(vlm_template_load_dir(dir, &t));
    CHECK_OK(vlm_template_render_json(t, "{}", &out));
    CHECK(out && !strcmp(out, "J</s>"));
    vlm_free(out);
    vlm_template_free(t);

    /* chat_template.jinja wins over both */
    char jinja[256];
    snprintf(jinja, sizeof jinja, "%s/chat_template.jinja", dir);
    write_file(jinja, "{{ bos_token }}JINJA\n");
    CHECK_OK(vlm_template_load_dir(dir, &t));
    CHECK_OK(vlm_template_render_json(t, "{}", &out));
    CHECK(out && !strcmp(out, "<s>JINJA"));
    vlm_free(out);
    vlm_template_free(t);

    /* a broken template reports its file */
    write_file(jinja, "{% if %}");
    CHECK(vlm_template_load_dir(dir, &t) == VLM_ERR_TEMPLATE);
    CHECKF(strstr(vlm_last_error(), "chat_template.jinja:1:"), "%s", vlm_last_error());
    unlink(jinja);
    unlink(path);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    unlink(path);
    rmdir(dir);
}

void run_tests(void) {
    RUN(test_jinja2_cases);
    RUN(test_hfjs_cases);
    RUN(test_ollama_cases);
    RUN(test_syntax_errors);
    RUN(test_runtime_error_position);
    RUN(test_limits);
    RUN(test_render_many);
    RUN(test_load_dir);
}
