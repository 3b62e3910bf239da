/*
 * npy.c — minimal, strict reader/writer for NumPy's .npy format.
 * The header is a Python dict literal; we parse only what numpy writes:
 * 'descr', 'fortran_order' and 'shape'.
 */
#include "io/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dtype.h"
#include "core/error.h"

static size_t descr_size(const char *d) {
    if (strlen(d) < 3) return 0;
    return (size_t)atoi(d + 2);
}

vlm_status npy_load(const char *path, npy_array *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return vlm_error(VLM_ERR_IO, "%s: cannot open", path);
    unsigned char magic[10];
    vlm_status st = VLM_OK;
    char *header = NULL;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0) {
        st = vlm_error(VLM_ERR_FORMAT, "%s: not a .npy file", path);
        goto done;
    }
    size_t hlen;
    if (magic[6] == 1) {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) { st = vlm_error(VLM_ERR_FORMAT, "%s: truncated", path); goto done; }
        hlen = b[0] | (size_t)b[1] << 8;
    } else {
        unsigned char b[4];
        if (fread(b, 1, 4, f) != 4) { st = vlm_error(VLM_ERR_FORMAT, "%s: truncated", path); goto done; }
        hlen = b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24;
    }
    if (hlen > (1u << 20)) { st = vlm_error(VLM_ERR_FORMAT, "%s: header too large", path); goto done; }
    header = malloc(hlen + 1);
    if (!header || fread(header, 1, hlen, f) != hlen) {
        st = vlm_error(VLM_ERR_FORMAT, "%s: truncated header", path);
        goto done;
    }
    header[hlen] = 0;
    char *d = strstr(header, "'descr':");
    char *fo = strstr(header, "'fortran_order':");
    char *sh = strstr(header, "'shape':");
    if (!d || !fo || !sh) { st = vlm_error(VLM_ERR_FORMAT, "%s: bad header", path); goto done; }
    d = strchr(d + 8, '\'');
    if (!d || sscanf(d + 1, "%7[^']", out->descr) != 1) {
        st = vlm_error(VLM_ERR_FORMAT, "%s: bad descr", path);
        goto done;
    }
    if (strncmp(strchr(fo, ':') + 1 + strspn(strchr(fo, ':') + 1, " "), "False", 5) != 0) {
        st = vlm_error(VLM_ERR_UNSUPPORTED, "%s: fortran_order arrays are not supported", path);
        goto done;
    }
    if (out->descr[0] == '>') {
        st = vlm_error(VLM_ERR_UNSUPPORTED, "%s: big-endian arrays are not supported", path);
        goto done;
    }
    out->elem_size = descr_size(out->descr);
    if (!out->elem_size) { st = vlm_error(VLM_ERR_FORMAT, "%s: bad descr %s", path, out->descr); goto done; }
    char *p = strchr(sh, '(');
    if (!p) { st = vlm_error(VLM_ERR_FORMAT, "%s: bad shape", path); goto done; }
    p++;
    out->count = 1;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || out->ndim >= NPY_MAX_DIMS) {
            st = vlm_error(VLM_ERR_FORMAT, "%s: bad shape", path);
            goto done;
        }
        out->shape[out->ndim++] = v;
        out->count *= (size_t)v;
        p = end;
    }
    out->data = malloc(out->count * out->elem_size + 1);
    if (!out->data) { st = vlm_error(VLM_ERR_OUT_OF_MEMORY, "%s: out of memory", path); goto done; }
    if (fread(out->data, out->elem_size, out->count, f) != out->count) {
        st = vlm_error(VLM_ERR_FORMAT, "%s: truncated data", path);
        goto done;
    }
done:
    free(header);
    fclose(f);
    if (st != VLM_OK) npy_free(out);
    return st;
}

void npy_free(npy_array *a) {
    free(a->data);
    a->data = NULL;
}

static double npy_element(const npy_array *a, size_t i, int bf16_as_u2) {
    const char *t = a->descr + 1;
    const unsigned char *p = (const unsigned char *)a->data + i * a->elem_size;
    if (!strcmp(t, "f4")) { float v; memcpy(&v, p, 4); return v; }
    if (!strcmp(t, "f8")) { double v; memcpy(&v, p, 8); return v; }
    if (!strcmp(t, "f2")) { uint16_t v; memcpy(&v, p, 2); return f16_to_f32(v); }
    if (!strcmp(t, "u2")) { uint16_t v; memcpy(&v, p, 2); return bf16_as_u2 ? bf16_to_f32(v) : v; }
    if (!strcmp(t, "i1")) return (int8_t)p[0];
    if (!strcmp(t, "u1") || !strcmp(t, "b1")) return p[0];
    if (!strcmp(t, "i2")) { int16_t v; memcpy(&v, p, 2); return v; }
    if (!strcmp(t, "i4")) { int32_t v; memcpy(&v, p, 4); return v; }
    if (!strcmp(t, "u4")) { uint32_t v; memcpy(&v, p, 4); return v; }
    if (!strcmp(t, "i8")) { int64_t v; memcpy(&v, p, 8); return (double)v; }
    if (!strcmp(t, "u8")) { uint64_t v; memcpy(&v, p, 8); return (double)v; }
    return 0;
}

static int npy_known(const npy_array *a) {
    static const char *known[] = {"f4", "f8", "f2", "u2", "i1", "u1", "b1", "i2", "i4", "u4", "i8", "u8"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(a->descr + 1, known[i])) return 1;
    return 0;
}

vlm_status npy_to_f32(const npy_array *a, int bf16_as_u2, float **out) {
    if (!npy_known(a)) return vlm_error(VLM_ERR_UNSUPPORTED, "npy dtype %s not supported", a->descr);
    float *v = vlm_malloc(a->count * sizeof *v);
    if (!v) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < a->count; i++) v[i] = (float)npy_element(a, i, bf16_as_u2);
    *out = v;
    return VLM_OK;
}

vlm_status npy_to_i64(const npy_array *a, int64_t **out) {
    if (!npy_known(a)) return vlm_error(VLM_ERR_UNSUPPORTED, "npy dtype %s not supported", a->descr);
    int64_t *v = vlm_malloc(a->count * sizeof *v);
    if (!v) return VLM_ERR_OUT_OF_MEMORY;
    int is_i8 = !strcmp(a->descr + 1, "i8");
    for (size_t i = 0; i < a->count; i++) {
        if (is_i8) memcpy(&v[i], (const char *)a->data + 8 * i, 8);
        else v[i] = (int64_t)npy_element(a, i, 0);
    }
    *out = v;
    return VLM_OK;
}

vlm_status npy_save(const char *path, const char *descr, const int64_t *shape, int ndim,
                    const void *data) {
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld%s", (long long)shape[i],
                      ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        count *= (size_t)shape[i];
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t total = 10 + (size_t)n + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)n + pad + 1;
    FILE *f = fopen(path, "wb");
    if (!f) return vlm_error(VLM_ERR_IO, "%s: cannot write", path);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    fwrite(pre, 1, 10, f);
    fwrite(dict, 1, (size_t)n, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    size_t esz = descr_size(descr);
    size_t wrote = fwrite(data, esz, count, f);
    if (fclose(f) != 0 || wrote != count) return vlm_error(VLM_ERR_IO, "%s: write failed", path);
    return VLM_OK;
}
