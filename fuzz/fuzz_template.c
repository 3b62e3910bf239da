/*
 * fuzz_template.c — libFuzzer target for the chat-template engine: the
 * input is template source, optionally followed by a NUL byte and the
 * render variables as JSON (otherwise a small chat with tools is used).
 * Compiles, then renders under tight limits; any status is fine, crashes,
 * hangs and leaks are not. Build with `make fuzz`, run e.g.
 *   build-fuzz/fuzz_template -max_total_time=60 tests/fixtures/templates/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vlm.h"

static const char default_vars[] =
    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
    "{\"role\": \"user\", \"content\": [{\"type\": \"image\"}, {\"type\": \"text\", \"text\": \"What is it?\"}]},"
    "{\"role\": \"assistant\", \"content\": \"A cat.\", \"tool_calls\": [{\"function\": {\"name\": \"f\","
    "\"arguments\": {\"x\": 1.5}}}]}, {\"role\": \"user\", \"content\": \"Why?\"}],"
    "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {}}}],"
    "\"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t src_len = strlen(text);
    const char *vars = src_len < size ? text + src_len + 1 : default_vars;
    vlm_template *t = NULL;
    if (vlm_template_compile(text, "fuzz", &t) == VLM_OK) {
        vlm_template_limits lim = {.max_output_bytes = 1 << 20, .max_memory_bytes = 64 << 20,
                                   .max_steps = 200000, .max_depth = 40, .max_seconds = 1.0};
        vlm_template_set_limits(t, &lim);
        vlm_template_set_time(t, 1735732800);
        char *out = NULL;
        vlm_template_render_json(t, vars, &out);
        vlm_free(out);
        vlm_template_free(t);
    }
    free(text);
    return 0;
}
