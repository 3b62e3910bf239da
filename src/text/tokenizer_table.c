/*
 * tokenizer_table.c — memory for the tokenizer's large hash tables (the
 * vocabulary map, the merge map, the boundary set: up to 16 MB each for
 * Gemma 3). Loading probes them at random, so on 4 KiB pages nearly every
 * probe also misses the TLB; the tables are asked for transparent huge
 * pages where the system offers them (Linux, THP in "madvise" mode).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/error.h"
#include "text/tokenizer.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *tok_table_alloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) {
        vlm_error(VLM_ERR_OUT_OF_MEMORY, "hash table of %zu entries is too large", count);
        return NULL;
    }
    size_t bytes = count * size;
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_PAGE) {
        size_t rounded = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        void *p = aligned_alloc(HUGE_PAGE, rounded);
        if (p) {
            madvise(p, rounded, MADV_HUGEPAGE); /* advice only: failure is harmless */
            memset(p, 0, bytes);
            return p;
        }
    }
#endif
    return vlm_calloc(count, size);
}
