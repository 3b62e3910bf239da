/*
 * jinja_arena.c — bump allocator with a byte budget (see jinja_arena.h).
 */
#include "text/jinja_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define JARENA_BLOCK_MIN (64u * 1024u)

struct jarena_block {
    jarena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void jarena_init(jarena *a, size_t limit) {
    a->head = NULL;
    a->used_total = 0;
    a->limit = limit;
    a->failure = VLM_OK;
}

void jarena_free(jarena *a) {
    jarena_block *b = a->head;
    while (b) {
        jarena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

static vlm_status jarena_fail(jarena *a, vlm_status code, size_t size) {
    a->failure = code;
    if (code == VLM_ERR_LIMIT)
        return vlm_error(code, "template memory limit exceeded (%zu bytes; asked for %zu more)",
                         a->limit, size);
    return vlm_error(code, "out of memory in template engine (%zu bytes)", size);
}

void *jarena_alloc(jarena *a, size_t size) {
    if (a->failure) return NULL;
    size = (size + 15u) & ~(size_t)15u;
    if (size == 0) size = 16;
    jarena_block *b = a->head;
    if (b && b->size - b->used >= size) {
        void *p = b->data + b->used;
        b->used += size;
        return p;
    }
    size_t block = size > JARENA_BLOCK_MIN ? size : JARENA_BLOCK_MIN;
    if (size > SIZE_MAX / 2 || (a->limit && a->used_total + block > a->limit)) {
        jarena_fail(a, VLM_ERR_LIMIT, size);
        return NULL;
    }
    jarena_block *nb = malloc(sizeof *nb + block);
    if (!nb) {
        jarena_fail(a, VLM_ERR_OUT_OF_MEMORY, size);
        return NULL;
    }
    nb->size = block;
    nb->used = size;
    /* Keep filling the older block when the new one was a one-off big request. */
    if (b && block == size && b->size - b->used > JARENA_BLOCK_MIN / 4) {
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    a->used_total += block + sizeof *nb;
    return nb->data;
}

void *jarena_calloc(jarena *a, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) {
        jarena_fail(a, VLM_ERR_LIMIT, SIZE_MAX);
        return NULL;
    }
    void *p = jarena_alloc(a, count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

char *jarena_strndup(jarena *a, const char *s, size_t n) {
    char *p = jarena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
