/*
 * cmd_template.c — `vlm template DIR`: render a folder's chat template.
 *
 *   vlm template DIR [--date YYYY-MM-DD] < vars.json
 *       stdin is one JSON object: "messages" plus any other template
 *       variables (add_generation_prompt, tools, enable_thinking, ...).
 *   vlm template DIR --prompt TEXT [--num-images N] [--system TEXT]
 *                    [--model-type T] [--date YYYY-MM-DD]
 *       mlx-vlm's apply_chat_template: build the family's messages (the
 *       model_type comes from DIR/config.json) and render them with
 *       add_generation_prompt=true.
 *
 * The rendered text goes to stdout and nothing else; bos_token/eos_token
 * come from DIR/tokenizer_config.json unless the JSON sets them. A
 * template that raises exits 1 with its message on stderr.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "vlm.h"

static void usage(FILE *out) {
    fputs("usage: vlm template DIR [--date YYYY-MM-DD] < vars.json\n"
          "       vlm template DIR --prompt TEXT [--num-images N] [--system TEXT] [--model-type T]\n"
          "  vars.json: {\"messages\": [...], \"add_generation_prompt\": true, ...}\n"
          "  --date fixes strftime_now() to 12:00:00 UTC of that day\n",
          out);
}

static char *read_stdin(void) {
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len - 1, stdin);
        len += got;
        if (got == 0) break;
        if (len + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    if (buf) buf[len] = '\0';
    return buf;
}

/* YYYY-MM-DD -> Unix seconds of 12:00:00 UTC that day; -1 when malformed. */
static int64_t parse_date(const char *s) {
    int y, m, d;
    char extra;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31) return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
    return (int64_t)timegm(&tm);
}

static char *config_model_type(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&text, &cap, '\0', f);
    fclose(f);
    cJSON *cfg = n > 0 ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(cfg, "model_type");
    char *r = cJSON_IsString(type) ? strdup(type->valuestring) : NULL;
    cJSON_Delete(cfg);
    return r;
}

typedef struct template_args {
    const char *dir, *prompt, *system, *model_type, *date;
    int num_images;
} template_args;

static int parse_args(int argc, char **argv, template_args *a) {
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return usage(stdout), 0;
        bool takes_value = !strcmp(arg, "--prompt") || !strcmp(arg, "--system") || !strcmp(arg, "--model-type") ||
                           !strcmp(arg, "--date") || !strcmp(arg, "--num-images");
        if (takes_value && !value) return usage(stderr), cli_fail("template", "%s needs a value", arg);
        if (!strcmp(arg, "--prompt")) a->prompt = value;
        else if (!strcmp(arg, "--system")) a->system = value;
        else if (!strcmp(arg, "--model-type")) a->model_type = value;
        else if (!strcmp(arg, "--date")) a->date = value;
        else if (!strcmp(arg, "--num-images")) {
            char *end;
            long n = strtol(value, &end, 10);
            if (*end || n < 0 || n > 1000) return cli_fail("template", "--num-images: expected 0..1000, got %s", value);
            a->num_images = (int)n;
        } else if (arg[0] != '-' && !a->dir) {
            a->dir = arg;
            continue;
        } else {
            return usage(stderr), cli_fail("template", "unexpected argument %s", arg);
        }
        i++;
    }
    if (!a->dir) return usage(stderr), 2;
    return -1;
}

int cmd_template(int argc, char **argv) {
    template_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    vlm_template *t;
    if (vlm_template_load_dir(a.dir, &t)) return cli_fail("template", NULL);
    if (a.date) {
        int64_t when = parse_date(a.date);
        if (when < 0) {
            vlm_template_free(t);
            return cli_fail("template", "--date: expected YYYY-MM-DD, got %s", a.date);
        }
        vlm_template_set_time(t, when);
    }
    char *out = NULL, *model_type = NULL, *vars = NULL;
    vlm_status st;
    if (a.prompt) {
        model_type = a.model_type ? strdup(a.model_type) : config_model_type(a.dir);
        if (!model_type) {
            vlm_template_free(t);
            return cli_fail("template", "%s/config.json has no model_type; pass --model-type", a.dir);
        }
        st = vlm_template_apply(t, model_type, a.prompt, a.system, a.num_images, NULL, &out);
    } else {
        vars = read_stdin();
        st = vars ? vlm_template_render_json(t, vars, &out) : VLM_ERR_IO;
    }
    if (st == VLM_OK) fwrite(out, 1, strlen(out), stdout);
    else rc = cli_fail("template", NULL);
    vlm_free(out);
    free(vars);
    free(model_type);
    vlm_template_free(t);
    return st == VLM_OK ? 0 : rc;
}
