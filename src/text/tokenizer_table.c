/*
 * tokenizer_table.c — memory for the tokenizer's large hash tables (the
 * vocabulary map, the merge map, the boundary set: up to 16 MB each for
 * Gemma 3) and the loader's large arrays. Loading probes the tables at
 * random, so on 4 KiB pages nearly every probe also misses the TLB, and
 * first touching tens of MB in 4 KiB pages costs thousands of page
 * faults; all of it comes from vlm_malloc_huge.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

void *tok_big_alloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) {
        vlm_error(VLM_ERR_OUT_OF_MEMORY, "array of %zu elements is too large", count);
        return NULL;
    }
    return vlm_malloc_huge(count * size);
}

void *tok_table_alloc(size_t count, size_t size) {
    void *p = tok_big_alloc(count, size);
    if (p) memset(p, 0, count * size);
    return p;
}

vlm_status tok_big_grow(void *items, size_t n, size_t *cap, size_t size, size_t first) {
    if (n < *cap) return VLM_OK;
    size_t c = *cap ? *cap * 2 : first;
    void *old, *grown = tok_big_alloc(c, size); /* items points at a T* variable: copied, not type-punned */
    if (!grown) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(&old, items, sizeof old);
    if (n) memcpy(grown, old, n * size);
    free(old);
    memcpy(items, &grown, sizeof grown);
    *cap = c;
    return VLM_OK;
}
