/*
 * cmd_tokenize.c — `vlm tokenize DIR [--add-special]`: JSON Lines on
 * stdin, each a JSON string, to one JSON array of token ids per line.
 * DIR is a model folder or any folder with a tokenizer.json. Without
 * --add-special no post-processor runs (no BOS/EOS), as
 * tokenizer.encode(text, add_special_tokens=False).
 *
 * `--bench FILE [--repeat N]` instead times loading and encoding FILE as
 * one text (best of N) and prints one JSON line (bench/tokenizer/).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_lines.h"
#include "commands.h"
#include "vlm.h"

static void usage(FILE *out) {
    fputs("usage: vlm tokenize DIR [--add-special] < strings.jsonl\n"
          "  each stdin line is a JSON string; each output line a JSON array of ids\n"
          "       vlm tokenize DIR --bench FILE [--repeat N]   (load + encode timing, JSON)\n",
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

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Load DIR `repeat` times (best time kept), time the first encode of a
 * short text (nothing is left to build on first use), then encode FILE
 * `repeat` times; print timings, the id count and an FNV-1a hash of the
 * ids (to compare with the reference). */
static int bench(const char *dir, const char *file, int repeat) {
    FILE *f = fopen(file, "rb");
    if (!f) return cli_fail("tokenize", "cannot open %s", file);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc(size > 0 ? (size_t)size : 1);
    size_t len = text && size > 0 ? fread(text, 1, (size_t)size, f) : 0;
    fclose(f);
    vlm_tokenizer *tok = NULL;
    double load_ms = 1e30, best = 1e30, t0;
    for (int r = 0; r < repeat; r++) {
        vlm_tokenizer_free(tok);
        t0 = now_ms();
        if (vlm_tokenizer_load(dir, &tok)) {
            free(text);
            return cli_fail("tokenize", NULL);
        }
        double ms = now_ms() - t0;
        if (ms < load_ms) load_ms = ms;
    }
    static const char short_text[] = "Describe this image in one sentence.";
    int32_t *ids = NULL;
    size_t n = 0;
    t0 = now_ms();
    vlm_status st = vlm_tokenizer_encode(tok, short_text, sizeof short_text - 1, false, &ids, &n);
    double first_ms = now_ms() - t0;
    vlm_free(ids);
    if (st) {
        free(text);
        vlm_tokenizer_free(tok);
        return cli_fail("tokenize", NULL);
    }
    ids = NULL;
    for (int r = 0; r < repeat; r++) {
        vlm_free(ids);
        t0 = now_ms();
        if (vlm_tokenizer_encode(tok, text, len, false, &ids, &n)) {
            free(text);
            vlm_tokenizer_free(tok);
            return cli_fail("tokenize", NULL);
        }
        double ms = now_ms() - t0;
        if (ms < best) best = ms;
    }
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint32_t)ids[i]) * 0x100000001B3ULL;
    printf("{\"load_ms\": %.1f, \"first_short_encode_ms\": %.2f, \"encode_ms\": %.1f, \"bytes\": %zu, "
           "\"mb_per_s\": %.2f, \"ids\": %zu, \"ids_hash\": \"%016llx\"}\n",
           load_ms, first_ms, best, len, (double)len / 1e6 / (best / 1e3), n, (unsigned long long)h);
    vlm_free(ids);
    free(text);
    vlm_tokenizer_free(tok);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *dir = NULL, *bench_file = NULL;
    bool add_special = false;
    int repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--add-special")) add_special = true;
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench_file = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), 0;
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else return usage(stderr), cli_fail("tokenize", "unexpected argument %s", argv[i]);
    }
    if (!dir) return usage(stderr), 2;
    if (bench_file) return bench(dir, bench_file, repeat);
    vlm_tokenizer *tok;
    if (vlm_tokenizer_load(dir, &tok)) return cli_fail("tokenize", NULL);
    tokenize_ctx ctx = {tok, add_special};
    int rc = cli_each_line(stdin, tokenize_line, &ctx);
    vlm_tokenizer_free(tok);
    return rc;
}
