/*
 * error.h — how vlm reports failures internally.
 *
 * Every fallible function returns a vlm_status. The function that detects a
 * problem records a message with vlm_error(), which also returns the code,
 * so error paths read `return vlm_error(VLM_ERR_FORMAT, "%s: ...", path);`.
 * Callers that add context use vlm_error_prefix().
 */
#ifndef VLM_CORE_ERROR_H
#define VLM_CORE_ERROR_H

#include "vlm.h"

#if defined(__GNUC__)
#define VLM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VLM_PRINTF(a, b)
#endif

/* Record a message for this thread and return code. */
vlm_status vlm_error(vlm_status code, const char *fmt, ...) VLM_PRINTF(2, 3);
/* Prepend context to the current message ("loading X: <old message>"). */
vlm_status vlm_error_prefix(vlm_status code, const char *fmt, ...) VLM_PRINTF(2, 3);
/* Forget the current message. */
void vlm_error_clear(void);

/* Allocation helpers that record VLM_ERR_OUT_OF_MEMORY on failure. */
void *vlm_malloc(size_t size);
/* For large arrays (tokenizer tables, image and pixel buffers): from 1 MiB
 * on, memory aligned to and advised for 2 MiB transparent huge pages where
 * the system offers them (Linux, THP in "madvise" mode), so the first touch
 * costs one fault per 2 MiB and random reads miss the TLB far less, for at
 * most twice the memory. Freed with free() / vlm_free(). */
void *vlm_malloc_huge(size_t size);
void *vlm_calloc(size_t count, size_t size);
void *vlm_realloc(void *ptr, size_t size);
char *vlm_strdup(const char *s);

#endif
