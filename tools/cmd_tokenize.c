/*
 * cmd_tokenize.c — `vlm tokenize DIR [--add-special]`: JSON Lines on
 * stdin, each a JSON string, to one JSON array of token ids per line.
 * DIR is a model folder or any folder with a tokenizer.json. Without
 * --add-special no post-processor runs (no BOS/EOS), as
 * tokenizer.encode(text, add_special_tokens=False).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_lines.h"
#include "commands.h"
#include "vlm.h"

static void usage(FILE *out) {
    fputs("usage: vlm tokenize DIR [--add-special] < strings.jsonl\n"
          "  each stdin line is a JSON string; each output line a JSON array of ids\n",
          out);
}

static void print_ids(const int32_t *ids, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
    fputs("]\n", stdout);
}

typedef struct tokenize_ctx {
    const vlm_tokenizer *tok;
    bool add_special;
} tokenize_ctx;

static int tokenize_line(void *ctx, const char *line, size_t len, size_t lineno) {
    const tokenize_ctx *c = ctx;
    cJSON *json = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsString(json)) {
        cJSON_Delete(json);
        return cli_fail("tokenize", "line %zu: expected a JSON string", lineno);
    }
    int32_t *ids;
    size_t n;
    vlm_status st = vlm_tokenizer_encode(c->tok, json->valuestring, strlen(json->valuestring), c->add_special, &ids, &n);
    cJSON_Delete(json);
    if (st) return cli_fail("tokenize", "line %zu: %s", lineno, vlm_last_error());
    print_ids(ids, n);
    vlm_free(ids);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *dir = NULL;
    bool add_special = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--add-special")) add_special = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), 0;
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else return usage(stderr), cli_fail("tokenize", "unexpected argument %s", argv[i]);
    }
    if (!dir) return usage(stderr), 2;
    vlm_tokenizer *tok;
    if (vlm_tokenizer_load(dir, &tok)) return cli_fail("tokenize", NULL);
    tokenize_ctx ctx = {tok, add_special};
    int rc = cli_each_line(stdin, tokenize_line, &ctx);
    vlm_tokenizer_free(tok);
    return rc;
}
