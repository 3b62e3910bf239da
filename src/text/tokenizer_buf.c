/*
 * tokenizer_buf.c — the growable byte buffer and string list the tokenizer
 * pipeline passes between stages (pieces of text, decoder token lists).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

vlm_status tok_buf_reserve(tok_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return VLM_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = vlm_realloc(b->data, cap);
    if (!p) return VLM_ERR_OUT_OF_MEMORY;
    b->data = p;
    b->cap = cap;
    return VLM_OK;
}

vlm_status tok_buf_append(tok_buf *b, const char *s, size_t n) {
    vlm_status st = tok_buf_reserve(b, n);
    if (st) return st;
    if (n) memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
    return VLM_OK;
}

vlm_status tok_grow(void *items, size_t n, size_t *cap, size_t size, size_t first) {
    if (n < *cap) return VLM_OK;
    size_t c = *cap ? *cap * 2 : first;
    void *old; /* items points at a T* variable: copied, not type-punned */
    memcpy(&old, items, sizeof old);
    void *grown = vlm_realloc(old, c * size);
    if (!grown) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(items, &grown, sizeof grown);
    *cap = c;
    return VLM_OK;
}

vlm_status tok_ids_append(int32_t **ids, size_t *n, size_t *cap, const int32_t *src, size_t count) {
    if (*n + count > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < *n + count) c *= 2;
        int32_t *p = vlm_realloc(*ids, c * sizeof *p);
        if (!p) return VLM_ERR_OUT_OF_MEMORY;
        *ids = p;
        *cap = c;
    }
    if (count) memcpy(*ids + *n, src, count * sizeof *src);
    *n += count;
    return VLM_OK;
}

void tok_buf_free(tok_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

vlm_status tok_pieces_close(tok_pieces *p, size_t start, size_t start_span) {
    vlm_status st = tok_grow(&p->items, p->n, &p->cap, sizeof *p->items, 16);
    if (st) return st;
    p->items[p->n++] = (tok_piece){start, p->text.len - start, start_span};
    return VLM_OK;
}

vlm_status tok_pieces_push(tok_pieces *p, const char *s, size_t len, size_t start_span) {
    size_t start = p->text.len;
    vlm_status st = tok_buf_append(&p->text, s, len);
    return st ? st : tok_pieces_close(p, start, start_span);
}

void tok_pieces_clear(tok_pieces *p) {
    p->n = 0;
    p->text.len = 0;
}

void tok_pieces_free(tok_pieces *p) {
    tok_buf_free(&p->text);
    free(p->items);
    memset(p, 0, sizeof *p);
}
