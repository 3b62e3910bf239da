/*
 * fuzz_tokenizer_encode.c — libFuzzer target: arbitrary bytes (any UTF-8,
 * valid or not) encoded by a real tokenizer, then decoded, with and without
 * special tokens, and streamed through the detokenizer; the stream must
 * equal the decode. The tokenizer folder comes from VLM_FUZZ_TOKENIZER
 * (default: tests/fixtures/tokenizers/e2e_qwen2_vl, run from the repo root).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vlm.h"

static vlm_tokenizer *tok;

static void check_stream(const int32_t *ids, size_t n, const char *full) {
    vlm_detokenizer *d;
    if (vlm_detokenizer_new(tok, false, &d) != VLM_OK) return;
    size_t len = strlen(full), at = 0;
    for (size_t i = 0; i <= n; i++) {
        const char *piece;
        if ((i < n ? vlm_detokenizer_push(d, ids[i], &piece) : vlm_detokenizer_flush(d, &piece)) != VLM_OK) abort();
        size_t k = strlen(piece);
        if (at + k > len || memcmp(full + at, piece, k) != 0) abort();
        at += k;
    }
    if (at != len) abort();
    vlm_detokenizer_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!tok) {
        const char *dir = getenv("VLM_FUZZ_TOKENIZER");
        if (vlm_tokenizer_load(dir ? dir : "tests/fixtures/tokenizers/e2e_qwen2_vl", &tok) != VLM_OK) abort();
    }
    for (int special = 0; special < 2; special++) {
        int32_t *ids;
        size_t n;
        if (vlm_tokenizer_encode(tok, (const char *)data, size, special, &ids, &n) != VLM_OK) abort();
        char *text;
        if (vlm_tokenizer_decode(tok, ids, n, special, &text) != VLM_OK) abort();
        /* C strings end at U+0000: compare streams only for inputs without it */
        if (!special && !memchr(data, 0, size)) check_stream(ids, n, text);
        vlm_free(text);
        vlm_free(ids);
    }
    return 0;
}
