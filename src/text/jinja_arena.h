/*
 * jinja_arena.h — bump allocator for the Jinja engine.
 *
 * A compiled template keeps its AST in one arena; each render gets a fresh
 * arena for every value it creates and drops it whole at the end, so the
 * interpreter never frees individual values. The arena has a byte budget:
 * a hostile template that builds huge values runs into VLM_ERR_LIMIT instead
 * of exhausting memory.
 */
#ifndef VLM_TEXT_JINJA_ARENA_H
#define VLM_TEXT_JINJA_ARENA_H

#include <stddef.h>

#include "vlm.h"

typedef struct jarena_block jarena_block;

typedef struct jarena {
    jarena_block *head;  /* newest block first */
    size_t used_total;   /* bytes handed out plus block overhead */
    size_t limit;        /* 0 = unlimited */
    vlm_status failure;  /* sticky: first failure (OOM or LIMIT) */
} jarena;

void jarena_init(jarena *a, size_t limit);
void jarena_free(jarena *a);
/* 16-byte aligned memory, or NULL with vlm_error set (LIMIT or OOM). */
void *jarena_alloc(jarena *a, size_t size);
/* Zeroed memory. */
void *jarena_calloc(jarena *a, size_t count, size_t size);
/* Copy of bytes with a trailing NUL. */
char *jarena_strndup(jarena *a, const char *s, size_t n);

#endif
