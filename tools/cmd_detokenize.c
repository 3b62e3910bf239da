/*
 * cmd_detokenize.c — `vlm detokenize DIR [--skip-special] [--stream]`:
 * JSON arrays of ids on stdin to one JSON string per line, as
 * tokenizer.decode(ids, skip_special_tokens=...). --stream feeds the ids
 * one by one through the incremental detokenizer and prints the
 * concatenation of what it emitted (the same text, by contract).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_lines.h"
#include "commands.h"
#include "vlm.h"

typedef struct detok_options {
    const char *dir;
    bool skip_special, stream;
    const vlm_tokenizer *tok;
} detok_options;

static void usage(FILE *out) {
    fputs("usage: vlm detokenize DIR [--skip-special] [--stream] < ids.jsonl\n"
          "  each stdin line is a JSON array of ids; each output line a JSON string\n",
          out);
}

/* Write s as a JSON string literal (UTF-8 kept, controls escaped). */
static void print_json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (*p < 0x20) printf("\\u%04x", *p);
            else putchar(*p);
        }
    }
    fputs("\"\n", stdout);
}

static vlm_status decode_stream(const vlm_tokenizer *tok, const int32_t *ids, size_t n, bool skip, char **out) {
    vlm_detokenizer *d;
    vlm_status st = vlm_detokenizer_new(tok, skip, &d);
    if (st) return st;
    size_t len = 0, cap = 64;
    char *text = malloc(cap);
    const char *piece = "";
    for (size_t i = 0; text && !st && i <= n; i++) {
        st = i < n ? vlm_detokenizer_push(d, ids[i], &piece) : vlm_detokenizer_flush(d, &piece);
        size_t k = st ? 0 : strlen(piece);
        if (len + k + 1 > cap) {
            while (len + k + 1 > cap) cap *= 2;
            char *p = realloc(text, cap);
            if (!p) break;
            text = p;
        }
        memcpy(text + len, piece, k);
        len += k;
    }
    vlm_detokenizer_free(d);
    if (!text) return VLM_ERR_OUT_OF_MEMORY;
    text[len] = 0;
    *out = text;
    return st;
}

static int detokenize_line(void *ctx, const char *line, size_t len, size_t lineno) {
    const detok_options *o = ctx;
    const vlm_tokenizer *tok = o->tok;
    cJSON *json = cJSON_ParseWithLength(line, len);
    size_t n = cJSON_IsArray(json) ? (size_t)cJSON_GetArraySize(json) : 0;
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    bool ok = cJSON_IsArray(json) && ids;
    size_t i = 0;
    for (cJSON *c = json ? json->child : NULL; ok && c; c = c->next, i++) {
        ok = cJSON_IsNumber(c) && c->valuedouble >= -2147483648.0 && c->valuedouble <= 2147483647.0;
        if (ok) ids[i] = (int32_t)c->valuedouble;
    }
    cJSON_Delete(json);
    if (!ok) {
        free(ids);
        return cli_fail("detokenize", "line %zu: expected a JSON array of integer ids", lineno);
    }
    char *text = NULL;
    vlm_status st = o->stream ? decode_stream(tok, ids, n, o->skip_special, &text)
                              : vlm_tokenizer_decode(tok, ids, n, o->skip_special, &text);
    free(ids);
    if (!st) print_json_string(text);
    vlm_free(text);
    return st ? cli_fail("detokenize", "line %zu: %s", lineno, vlm_last_error()) : 0;
}

int cmd_detokenize(int argc, char **argv) {
    detok_options o = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--skip-special")) o.skip_special = true;
        else if (!strcmp(argv[i], "--stream")) o.stream = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), 0;
        else if (argv[i][0] != '-' && !o.dir) o.dir = argv[i];
        else return usage(stderr), cli_fail("detokenize", "unexpected argument %s", argv[i]);
    }
    if (!o.dir) return usage(stderr), 2;
    vlm_tokenizer *tok;
    if (vlm_tokenizer_load(o.dir, &tok)) return cli_fail("detokenize", NULL);
    o.tok = tok;
    int rc = cli_each_line(stdin, detokenize_line, &o);
    vlm_tokenizer_free(tok);
    return rc;
}
