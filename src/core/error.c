/*
 * error.c — per-thread error messages, status names, version, and the
 * allocation wrappers that turn a failed malloc into a reported status.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static _Thread_local char last_error[1024];

vlm_status vlm_error(vlm_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

vlm_status vlm_error_prefix(vlm_status code, const char *fmt, ...) {
    char old[sizeof last_error];
    memcpy(old, last_error, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n + 3 < sizeof last_error && old[0]) {
        size_t room = sizeof last_error - (size_t)n - 3; /* ": " and the NUL */
        size_t len = strnlen(old, room);
        memcpy(last_error + n, ": ", 2);
        memcpy(last_error + n + 2, old, len);
        last_error[(size_t)n + 2 + len] = '\0';
    }
    return code;
}

void vlm_error_clear(void) { last_error[0] = '\0'; }

const char *vlm_last_error(void) { return last_error; }

const char *vlm_status_name(vlm_status status) {
    switch (status) {
    case VLM_OK: return "VLM_OK";
    case VLM_ERR_INVALID_ARGUMENT: return "VLM_ERR_INVALID_ARGUMENT";
    case VLM_ERR_IO: return "VLM_ERR_IO";
    case VLM_ERR_FORMAT: return "VLM_ERR_FORMAT";
    case VLM_ERR_UNSUPPORTED: return "VLM_ERR_UNSUPPORTED";
    case VLM_ERR_OUT_OF_MEMORY: return "VLM_ERR_OUT_OF_MEMORY";
    case VLM_ERR_LIMIT: return "VLM_ERR_LIMIT";
    case VLM_ERR_TEMPLATE: return "VLM_ERR_TEMPLATE";
    case VLM_ERR_NOT_FOUND: return "VLM_ERR_NOT_FOUND";
    case VLM_ERR_CANCELLED: return "VLM_ERR_CANCELLED";
    case VLM_ERR_INTERNAL: return "VLM_ERR_INTERNAL";
    }
    return "VLM_ERR_UNKNOWN";
}

const char *vlm_version(void) { return VLM_VERSION_STRING; }

void vlm_free(void *ptr) { free(ptr); }

void *vlm_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) vlm_error(VLM_ERR_OUT_OF_MEMORY, "out of memory allocating %zu bytes", size);
    return p;
}

void *vlm_malloc_huge(size_t size) {
#ifdef MADV_HUGEPAGE
    const size_t huge = (size_t)2 << 20;
    if (size >= huge / 2) { /* one fault and one TLB entry per 2 MiB, for at most 2x the memory */
        size_t rounded = (size + huge - 1) / huge * huge;
        void *p = aligned_alloc(huge, rounded);
        if (p) {
            madvise(p, rounded, MADV_HUGEPAGE); /* advice only: failure is harmless */
            return p;
        }
    }
#endif
    return vlm_malloc(size);
}

void *vlm_calloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) vlm_error(VLM_ERR_OUT_OF_MEMORY, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *vlm_realloc(void *ptr, size_t size) {
    void *p = realloc(ptr, size ? size : 1);
    if (!p) vlm_error(VLM_ERR_OUT_OF_MEMORY, "out of memory allocating %zu bytes", size);
    return p;
}

char *vlm_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = vlm_malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}
