/*
 * fuzz_safetensors.c — libFuzzer target for the safetensors header parser:
 * any byte string is handed to st_parse as a whole file; it must either be
 * refused with a status or yield tensors whose every byte lies inside the
 * input. Seed with small files (the ones tests/test_safetensors.c writes into
 * tests/st_cases.tmp/) and the header keywords in fuzz_safetensors.dict:
 *   build-fuzz/fuzz_safetensors -max_len=4096 -max_total_time=60 \
 *       -dict=fuzz/fuzz_safetensors.dict tests/st_cases.tmp
 */
#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    st_archive *a = NULL;
    if (st_parse("fuzz.safetensors", data, size, &a) != VLM_OK) return 0;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < st_count(a); i++) {
        const st_tensor *t = st_at(a, i);
        if (st_find(a, t->name) != t) __builtin_trap();
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size) __builtin_trap();
        if (t->nbytes) sink ^= p[0] ^ p[t->nbytes - 1];   /* ASan checks both ends */
        (void)st_numel(t);
    }
    (void)st_metadata(a, "format");
    (void)sink;
    st_close(a);
    return 0;
}
