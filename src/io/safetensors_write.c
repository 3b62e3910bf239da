/*
 * safetensors_write.c — stream tensors into an MLX-style .safetensors file
 * (see safetensors_write.h).
 */
#include "io/safetensors_write.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* Byte size of t in *bytes; false for a bad dtype, rank or shape. */
static bool tensor_size(const st_write_tensor *t, size_t *bytes) {
    if (t->ndim < 0 || t->ndim > ST_MAX_DIMS || (int)t->dtype < 0 || t->dtype >= VLM_DTYPE_COUNT) return false;
    size_t n = vlm_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 0 || (t->shape[d] && n > SIZE_MAX / (size_t)t->shape[d])) return false;
        n *= (size_t)t->shape[d];
    }
    *bytes = n;
    return true;
}

size_t st_write_tensor_bytes(const st_write_tensor *t) {
    size_t n = 0;
    return tensor_size(t, &n) ? n : 0;
}

/* A growable string for the header. */
typedef struct header_text {
    char *s;
    size_t len, cap;
} header_text;

static vlm_status append(header_text *h, const char *fmt, ...) VLM_PRINTF(2, 3);
static vlm_status append(header_text *h, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(h->s ? h->s + h->len : NULL, h->s ? h->cap - h->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return vlm_error(VLM_ERR_INTERNAL, "formatting the safetensors header failed");
        if (h->s && h->len + (size_t)n < h->cap) {
            h->len += (size_t)n;
            return VLM_OK;
        }
        size_t cap = h->cap ? h->cap : 4096;
        while (cap <= h->len + (size_t)n + 8) cap *= 2;
        char *s = vlm_realloc(h->s, cap);
        if (!s) return VLM_ERR_OUT_OF_MEMORY;
        h->s = s;
        h->cap = cap;
    }
}

/* Tensor names become JSON strings: refuse what would need escaping. */
static vlm_status check_name(const char *name) {
    if (!name || !*name) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "a tensor has no name");
    for (const char *p = name; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "tensor name '%s' has a character JSON would escape",
                             name);
    if (!strcmp(name, "__metadata__")) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "reserved tensor name");
    return VLM_OK;
}

/* Data-area order: decreasing element size, stable. offsets[i] = start of tensor i. */
static void layout(const st_write_tensor *t, size_t n, size_t *offsets, size_t *order, size_t *total) {
    size_t at = 0, k = 0;
    for (size_t size = 8; size >= 1; size /= 2)
        for (size_t i = 0; i < n; i++)
            if (vlm_dtype_size(t[i].dtype) == size) {
                order[k++] = i;
                offsets[i] = at;
                at += st_write_tensor_bytes(&t[i]);
            }
    *total = at;
}

static vlm_status build_header(const st_write_tensor *t, size_t n, const size_t *offsets, header_text *h) {
    vlm_status st = append(h, "{\"__metadata__\":{\"format\":\"mlx\"}");
    for (size_t i = 0; i < n && !st; i++) {
        st = append(h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t[i].name, vlm_dtype_name(t[i].dtype));
        for (int d = 0; d < t[i].ndim && !st; d++)
            st = append(h, "%s%lld", d ? "," : "", (long long)t[i].shape[d]);
        if (!st)
            st = append(h, "],\"data_offsets\":[%zu,%zu]}", offsets[i], offsets[i] + st_write_tensor_bytes(&t[i]));
    }
    if (!st) st = append(h, "}");
    while (!st && (8 + h->len) % 8) st = append(h, " ");  /* data starts 8-byte aligned */
    return st;
}

static vlm_status write_all(FILE *f, const void *p, size_t n, const char *path) {
    if (n && fwrite(p, 1, n, f) != n) return vlm_error(VLM_ERR_IO, "%s: write failed (disk full?)", path);
    return VLM_OK;
}

static vlm_status write_data(FILE *f, const char *path, const st_write_tensor *t, const size_t *order, size_t n,
                             st_fill_fn fill, void *ctx) {
    size_t biggest = 1;
    for (size_t i = 0; i < n; i++)
        if (st_write_tensor_bytes(&t[i]) > biggest) biggest = st_write_tensor_bytes(&t[i]);
    void *buf = vlm_malloc(biggest);
    if (!buf) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = VLM_OK;
    for (size_t k = 0; k < n && !st; k++) {
        size_t bytes = st_write_tensor_bytes(&t[order[k]]);
        st = fill(ctx, order[k], buf, bytes);
        if (st) st = vlm_error_prefix(st, "%s: tensor %s", path, t[order[k]].name);
        else st = write_all(f, buf, bytes, path);
    }
    vlm_free(buf);
    return st;
}

vlm_status st_write_file(const char *path, const st_write_tensor *tensors, size_t n, st_fill_fn fill,
                         void *ctx) {
    for (size_t i = 0; i < n; i++) {
        vlm_status st = check_name(tensors[i].name);
        if (st) return st;
        size_t bytes;
        if (!tensor_size(&tensors[i], &bytes))
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "tensor %s: bad dtype, rank or shape", tensors[i].name);
    }
    size_t *offsets = vlm_calloc(n + 1, sizeof *offsets), *order = vlm_calloc(n + 1, sizeof *order), total;
    header_text h = {0};
    vlm_status st = offsets && order ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
    if (!st) {
        layout(tensors, n, offsets, order, &total);
        st = build_header(tensors, n, offsets, &h);
    }
    FILE *f = NULL;
    if (!st && !(f = fopen(path, "wb"))) st = vlm_error(VLM_ERR_IO, "cannot create %s", path);
    if (!st) {
        uint8_t len_le[8];
        for (int b = 0; b < 8; b++) len_le[b] = (uint8_t)((uint64_t)h.len >> (8 * b));
        st = write_all(f, len_le, 8, path);
        if (!st) st = write_all(f, h.s, h.len, path);
        if (!st) st = write_data(f, path, tensors, order, n, fill, ctx);
    }
    if (f && fclose(f) && !st) st = vlm_error(VLM_ERR_IO, "%s: close failed", path);
    vlm_free(h.s);
    vlm_free(offsets);
    vlm_free(order);
    return st;
}
