/*
 * fuzz_tokenizer_load.c — libFuzzer target: arbitrary bytes as a folder's
 * tokenizer.json. Loading must either succeed or fail with a status, never
 * crash; a loaded tokenizer must encode and decode a fixed text.
 * Build: make fuzz (clang, -DVLM_FUZZ=ON); seeds: tests/fixtures/tokenizers/e2e_qwen2_vl.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vlm.h"

static char dir[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_tok_%d", (int)getpid());
        char cmd[128];
        snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
        if (system(cmd) != 0) return 0;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    vlm_tokenizer *tok;
    if (vlm_tokenizer_load(dir, &tok) != VLM_OK) return 0;
    static const char text[] = "Hello wörld, 中文 🦙 <|im_start|> 123\n\t  end";
    int32_t *ids;
    size_t n;
    if (vlm_tokenizer_encode(tok, text, sizeof text - 1, true, &ids, &n) == VLM_OK) {
        char *out;
        if (vlm_tokenizer_decode(tok, ids, n, false, &out) == VLM_OK) vlm_free(out);
        vlm_free(ids);
    }
    vlm_tokenizer_free(tok);
    return 0;
}
