/*
 * test_template_goldens.c — every real chat template in
 * fixtures/templates/ rendered for every message fixture, with and without
 * add_generation_prompt, compared byte for byte with what Python Jinja2
 * (configured as transformers configures it) produced. Where Jinja2 raised,
 * the .err file holds its message and vlm must fail with the same text.
 * Also times a 20-turn Qwen2-VL conversation (printed, not asserted).
 */
#include <cjson/cJSON.h>
#include <time.h>

#include "test.h"

#define DIR "fixtures/templates/"
#define GOLDEN_TIME 1735732800 /* 2025-01-01 12:00:00 UTC */

static cJSON *load_json(const char *path) {
    char *text = test_read_file(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    return j;
}

static char *vars_for(const cJSON *messages, const cJSON *special, bool agp) {
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddItemToObject(vars, "messages", cJSON_Duplicate(messages, 1));
    cJSON_AddBoolToObject(vars, "add_generation_prompt", agp);
    const char *names[] = {"bos_token", "eos_token"};
    for (int k = 0; k < 2; k++) {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(special, names[k]);
        if (cJSON_IsString(tok)) cJSON_AddStringToObject(vars, names[k], tok->valuestring);
    }
    char *s = cJSON_PrintUnformatted(vars);
    cJSON_Delete(vars);
    return s;
}

/* One template against every fixture; returns the number of cases run. */
static int check_template(const char *name, const cJSON *source, const cJSON *fixtures) {
    char path[512];
    snprintf(path, sizeof path, DIR "%s.jinja", name);
    char *src = test_read_file(path, NULL);
    CHECKF(src != NULL, "missing %s", path);
    if (!src) return 0;
    vlm_template *t = NULL;
    CHECK_OK(vlm_template_compile(src, name, &t));
    free(src);
    if (!t) return 0;
    vlm_template_set_time(t, GOLDEN_TIME);
    const cJSON *special = cJSON_GetObjectItemCaseSensitive(source, "special_tokens");
    int cases = 0;
    const cJSON *fx;
    cJSON_ArrayForEach(fx, fixtures) {
        for (int agp = 0; agp < 2; agp++) {
            char *vars = vars_for(fx, special, agp);
            char *out = NULL;
            vlm_status st = vlm_template_render_json(t, vars, &out);
            snprintf(path, sizeof path, DIR "goldens/%s/%s.agp%d.txt", name, fx->string, agp);
            size_t want_len = 0;
            char *want = test_read_file(path, &want_len);
            if (want) {
                CHECKF(st == VLM_OK, "%s/%s agp%d: %s", name, fx->string, agp, vlm_last_error());
                if (st == VLM_OK)
                    CHECKF(strlen(out) == want_len && !memcmp(out, want, want_len),
                           "%s/%s agp%d differs:\n--- got ---\n%s\n--- want ---\n%s", name, fx->string, agp, out,
                           want);
            } else {
                snprintf(path, sizeof path, DIR "goldens/%s/%s.agp%d.err", name, fx->string, agp);
                char *err = test_read_file(path, NULL);
                CHECKF(err != NULL, "no golden for %s/%s agp%d", name, fx->string, agp);
                if (err) {
                    size_t n = strlen(err);
                    while (n && (err[n - 1] == '\n' || err[n - 1] == '\r')) err[--n] = '\0';
                    CHECKF(st == VLM_ERR_TEMPLATE && strstr(vlm_last_error(), err),
                           "%s/%s agp%d: want error '%s', got %s '%s'", name, fx->string, agp, err,
                           vlm_status_name(st), st ? vlm_last_error() : out);
                }
                free(err);
            }
            free(want);
            vlm_free(out);
            free(vars);
            cases++;
        }
    }
    vlm_template_free(t);
    return cases;
}

static void test_all_goldens(void) {
    cJSON *sources = load_json(DIR "SOURCES.json"), *fixtures = load_json(DIR "fixtures.json");
    CHECK(sources != NULL && fixtures != NULL);
    int cases = 0, templates = 0;
    const cJSON *src;
    cJSON_ArrayForEach(src, sources) {
        cases += check_template(src->string, src, fixtures);
        templates++;
    }
    fprintf(stderr, "  %d templates, %d golden cases\n", templates, cases);
    CHECK(templates >= 15 && cases >= 15 * 26);
    cJSON_Delete(sources);
    cJSON_Delete(fixtures);
}

/* A 20-turn Qwen2-VL conversation with an image per user turn. */
static double seconds_since(const struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) * 1e-9;
}

static void test_qwen2_vl_20_turn_speed(void) {
    char *src = test_read_file(DIR "qwen2_vl.jinja", NULL);
    vlm_template *t = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(vlm_template_compile(src, "qwen2_vl", &t));
    fprintf(stderr, "  qwen2_vl compile: %.4f ms (once per model)\n", seconds_since(&t0) * 1e3);
    free(src);
    if (!t) return;
    cJSON *msgs = cJSON_CreateArray();
    for (int i = 0; i < 20; i++) {
        cJSON *m = cJSON_CreateObject();
        bool user = i % 2 == 0;
        cJSON_AddStringToObject(m, "role", user ? "user" : "assistant");
        cJSON *content = cJSON_CreateArray();
        if (user) {
            cJSON *img = cJSON_CreateObject();
            cJSON_AddStringToObject(img, "type", "image");
            cJSON_AddItemToArray(content, img);
        }
        cJSON *txt = cJSON_CreateObject();
        cJSON_AddStringToObject(txt, "type", "text");
        cJSON_AddStringToObject(txt, "text", user ? "What is in this picture, and why?" : "A cat on a mat.");
        cJSON_AddItemToArray(content, txt);
        cJSON_AddItemToObject(m, "content", content);
        cJSON_AddItemToArray(msgs, m);
    }
    cJSON *vars = cJSON_CreateObject();
    cJSON_AddItemToObject(vars, "messages", msgs);
    cJSON_AddBoolToObject(vars, "add_generation_prompt", true);
    char *json = cJSON_PrintUnformatted(vars);
    cJSON_Delete(vars);
    const int reps = 200;
    char *out = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++) {
        vlm_free(out);
        out = NULL;
        CHECK_OK(vlm_template_render_json(t, json, &out));
    }
    double ms = seconds_since(&t0) * 1e3 / reps;
    fprintf(stderr, "  qwen2_vl 20-turn render: %.4f ms (JSON parse + render, mean of %d)\n", ms, reps);
    CHECK(out && strstr(out, "<|im_start|>assistant\n") != NULL);
    size_t images = 0;
    for (const char *p = out; p && (p = strstr(p, "<|image_pad|>")); p++) images++;
    CHECK(images == 10);
    vlm_free(out);
    free(json);
    vlm_template_free(t);
}

void run_tests(void) {
    RUN(test_all_goldens);
    RUN(test_qwen2_vl_20_turn_speed);
}
