/*
 * weights.c — checked binding of checkpoint tensors: linear weights (dense
 * or MLX affine-quantized, pointing into the mmap) and small f32 vectors.
 * See weights.h for the per-tensor quantization rule.
 */
#include "io/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define WEIGHTS_MAX_NAME 512

static const int quant_bits[] = {2, 3, 4, 5, 6, 8};
static const int quant_groups[] = {32, 64, 128};

/* "prefix.suffix" into buf; 0 when it does not fit. */
static int tensor_name(char *buf, const char *prefix, const char *suffix) {
    int n = snprintf(buf, WEIGHTS_MAX_NAME, "%s.%s", prefix, suffix);
    return n > 0 && n < WEIGHTS_MAX_NAME;
}

static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

static int is_float_dtype(vlm_dtype t) {
    return t == VLM_DTYPE_F32 || t == VLM_DTYPE_F16 || t == VLM_DTYPE_BF16;
}

vlm_status weights_tensor(const st_archive *a, const char *name, const st_tensor **out) {
    *out = st_find(a, name);
    if (!*out) return vlm_error(VLM_ERR_NOT_FOUND, "tensor '%s' not found in the checkpoint", name);
    return VLM_OK;
}

vlm_status weights_expect_shape(const st_archive *a, const char *name, int ndim, const int64_t *shape,
                                const st_tensor **out) {
    const st_tensor *t;
    vlm_status st = weights_tensor(a, name, &t);
    if (st) return st;
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = shape[i] < 0 || shape[i] == t->shape[i];
    if (!same) {
        char want[160], have[160];
        format_shape(want, sizeof want, ndim, shape);
        format_shape(have, sizeof have, t->ndim, t->shape);
        return vlm_error(VLM_ERR_FORMAT, "tensor '%s': expected shape %s but the checkpoint has %s", name,
                         want, have);
    }
    if (out) *out = t;
    return VLM_OK;
}

/* ---- linear weights ----------------------------------------------------- */

static vlm_status check_dense_dtype(const char *name, const st_tensor *w) {
    if (is_float_dtype(w->dtype)) return VLM_OK;
    return vlm_error(VLM_ERR_UNSUPPORTED,
                     "tensor '%s': dtype %s cannot be a linear weight (F32/F16/BF16, or U32 with "
                     ".scales/.biases)", name, vlm_dtype_name(w->dtype));
}

/* Input size implied by bits; 0 when words*32 is not a multiple of bits. */
static int64_t unpacked_cols(int64_t words, int bits) {
    return words * 32 % bits ? 0 : words * 32 / bits;
}

/* The only (bits, group) that fit words per row and scale columns. */
static vlm_status infer_quant(const char *prefix, int64_t words, int64_t groups, int *bits, int *group) {
    int found = 0;
    for (size_t i = 0; i < sizeof quant_bits / sizeof *quant_bits; i++)
        for (size_t j = 0; j < sizeof quant_groups / sizeof *quant_groups; j++) {
            int64_t in = unpacked_cols(words, quant_bits[i]);
            if (in && in == groups * quant_groups[j]) {
                *bits = quant_bits[i];
                *group = quant_groups[j];
                found++;
            }
        }
    if (found == 1) return VLM_OK;
    return vlm_error(VLM_ERR_FORMAT,
                     "'%s': no quantization config and %s (bits, group_size) fits %lld packed words and "
                     "%lld groups per row", prefix, found ? "more than one" : "no",
                     (long long)words, (long long)groups);
}

/* .scales/.biases: float, same rank and leading dims as the packed weight. */
static vlm_status check_quant_companion(const char *name, const st_tensor *t, const st_tensor *w) {
    int same = is_float_dtype(t->dtype) && t->ndim == w->ndim && t->shape[t->ndim - 1] >= 1;
    for (int d = 0; same && d < w->ndim - 1; d++) same = t->shape[d] == w->shape[d];
    if (!same)
        return vlm_error(VLM_ERR_FORMAT,
                         "tensor '%s': must be F32/F16/BF16 with the leading dimensions of its quantized "
                         "weight and one column per group", name);
    return VLM_OK;
}

/* bits/group of prefix (config, override, or inferred) checked against
 * words and groups per row. */
static vlm_status quant_params(const vlm_quant_config *q, const char *prefix, int64_t words, int64_t groups,
                               int *bits, int *group) {
    vlm_status st = quant_for_module(q, prefix, bits, group);
    if (st) return st;
    if (!*bits) return infer_quant(prefix, words, groups, bits, group);
    if (!unpacked_cols(words, *bits) || unpacked_cols(words, *bits) != groups * *group)
        return vlm_error(VLM_ERR_FORMAT,
                         "'%s': %lld packed words and %lld scale groups per row do not fit the configured "
                         "%d bits, group size %d", prefix, (long long)words, (long long)groups, *bits, *group);
    return VLM_OK;
}

/* Matrix `expert` of prefix's quantized weight [..., out, words]. */
static vlm_status bind_quantized(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                                 const st_tensor *w, const st_tensor *scales, int64_t expert,
                                 vlm_weight *out) {
    char name[WEIGHTS_MAX_NAME];
    const st_tensor *biases;
    tensor_name(name, prefix, "biases");   /* fits: prefix.scales did */
    vlm_status st = weights_tensor(a, name, &biases);
    if (st) return st;
    if (w->dtype != VLM_DTYPE_U32)
        return vlm_error(VLM_ERR_FORMAT, "tensor '%s.weight': has .scales, so it must be U32 packed codes",
                         prefix);
    tensor_name(name, prefix, "scales");
    if ((st = check_quant_companion(name, scales, w))) return st;
    tensor_name(name, prefix, "biases");
    if ((st = check_quant_companion(name, biases, w))) return st;
    int last = w->ndim - 1;
    if (biases->dtype != scales->dtype || biases->shape[last] != scales->shape[last])
        return vlm_error(VLM_ERR_FORMAT, "'%s': .scales and .biases differ in dtype or shape", prefix);
    int bits, group;
    int64_t rows = w->shape[last - 1], words = w->shape[last], groups = scales->shape[last];
    if ((st = quant_params(q, prefix, words, groups, &bits, &group))) return st;
    size_t scale_size = vlm_dtype_size(scales->dtype);
    memset(out, 0, sizeof *out);
    out->dtype = VLM_DTYPE_U32;
    out->rows = rows;
    out->cols = unpacked_cols(words, bits);
    out->data = (const uint8_t *)w->data + (size_t)(expert * rows * words) * 4;
    out->bits = bits;
    out->group_size = group;
    out->scale_dtype = scales->dtype;
    out->scales = (const uint8_t *)scales->data + (size_t)(expert * rows * groups) * scale_size;
    out->biases = (const uint8_t *)biases->data + (size_t)(expert * rows * groups) * scale_size;
    return VLM_OK;
}

/* prefix.weight of rank ndim (2: one matrix; 3: [experts, out, in]) bound
 * as matrix `expert`. */
static vlm_status bind_matrix(const st_archive *a, const vlm_quant_config *q, const char *prefix, int ndim,
                              int64_t expert, vlm_weight *out) {
    char name[WEIGHTS_MAX_NAME];
    if (!tensor_name(name, prefix, "scales"))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "tensor prefix too long: %.64s...", prefix);
    const st_tensor *scales = st_find(a, name), *w;
    tensor_name(name, prefix, "weight");
    vlm_status st = weights_tensor(a, name, &w);
    if (st) return st;
    if (w->ndim != ndim)
        return vlm_error(VLM_ERR_FORMAT, "tensor '%s': expected %d dimensions (%s), has %d", name, ndim,
                         ndim == 2 ? "[out, in]" : "[experts, out, in]", w->ndim);
    int64_t experts = ndim == 3 ? w->shape[0] : 1;
    if (expert < 0 || expert >= experts)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "tensor '%s': expert %lld of %lld", name,
                         (long long)expert, (long long)experts);
    if (scales) return bind_quantized(a, q, prefix, w, scales, expert, out);
    if ((st = check_dense_dtype(name, w))) return st;
    memset(out, 0, sizeof *out);
    out->dtype = w->dtype;
    out->rows = w->shape[ndim - 2];
    out->cols = w->shape[ndim - 1];
    out->data = (const uint8_t *)w->data + (size_t)(expert * out->rows * out->cols) * vlm_dtype_size(w->dtype);
    return VLM_OK;
}

vlm_status weights_linear(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                          vlm_weight *out) {
    return bind_matrix(a, q, prefix, 2, 0, out);
}

vlm_status weights_expert(const st_archive *a, const vlm_quant_config *q, const char *prefix, int64_t expert,
                          vlm_weight *out) {
    return bind_matrix(a, q, prefix, 3, expert, out);
}

vlm_status weights_pack_quads(const st_archive *a, vlm_weight *w) {
    if (!vlm_weight_is_quantized(w)) return VLM_OK;
    vlm_status st = vlm_weight_pack_quads(w);
    if (st) return st;
    size_t bytes = (size_t)(w->rows * (w->cols / w->group_size)) * vlm_dtype_size(w->scale_dtype);
    st_release(a, w->scales, bytes);
    st_release(a, w->biases, bytes);
    if (w->quad_codes) st_release(a, w->data, (size_t)(w->rows * w->cols / 2));
    return VLM_OK;
}

vlm_status weights_dense_flat(const st_archive *a, const char *name, vlm_weight *out) {
    const st_tensor *w;
    vlm_status st = weights_tensor(a, name, &w);
    if (!st) st = check_dense_dtype(name, w);
    if (st) return st;
    if (w->ndim < 2)
        return vlm_error(VLM_ERR_FORMAT, "tensor '%s': a linear weight needs at least 2 dimensions, has %d",
                         name, w->ndim);
    memset(out, 0, sizeof *out);
    out->dtype = w->dtype;
    out->rows = w->shape[0];
    out->cols = out->rows ? st_numel(w) / out->rows : 0;
    out->data = w->data;
    return VLM_OK;
}

/* ---- small f32 tensors -------------------------------------------------- */

static void convert_to_f32(const st_tensor *t, float *out) {
    size_t n = (size_t)st_numel(t);
    const uint8_t *p = t->data;   /* possibly unaligned: read through memcpy */
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        double d;
        switch (t->dtype) {
        case VLM_DTYPE_F32: memcpy(&out[i], p + 4 * i, 4); break;
        case VLM_DTYPE_F64: memcpy(&d, p + 8 * i, 8); out[i] = (float)d; break;
        case VLM_DTYPE_BF16: memcpy(&h, p + 2 * i, 2); out[i] = bf16_to_f32(h); break;
        default: memcpy(&h, p + 2 * i, 2); out[i] = f16_to_f32(h); break;
        }
    }
}

vlm_status weights_f32_shape(const st_archive *a, const char *name, int ndim, const int64_t *shape,
                             float **out) {
    *out = NULL;
    const st_tensor *t;
    vlm_status st = weights_expect_shape(a, name, ndim, shape, &t);
    if (st) return st;
    if (!is_float_dtype(t->dtype) && t->dtype != VLM_DTYPE_F64)
        return vlm_error(VLM_ERR_FORMAT, "tensor '%s': dtype %s is not a float type", name,
                         vlm_dtype_name(t->dtype));
    float *v = vlm_malloc((size_t)st_numel(t) * sizeof *v);
    if (!v) return VLM_ERR_OUT_OF_MEMORY;
    convert_to_f32(t, v);
    *out = v;
    return VLM_OK;
}

static vlm_status vector_f32(const st_archive *a, const char *prefix, const char *suffix, int64_t n,
                             float **out) {
    char name[WEIGHTS_MAX_NAME];
    *out = NULL;
    if (!tensor_name(name, prefix, suffix))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "tensor prefix too long: %.64s...", prefix);
    return weights_f32_shape(a, name, 1, &n, out);
}

vlm_status weights_bias_f32(const st_archive *a, const char *prefix, int64_t n, float **out) {
    return vector_f32(a, prefix, "bias", n, out);
}

vlm_status weights_norm_f32(const st_archive *a, const char *prefix, int64_t n, float **out) {
    return vector_f32(a, prefix, "weight", n, out);
}

vlm_status weights_bias_f32_opt(const st_archive *a, const char *prefix, int64_t n, float **out) {
    char name[WEIGHTS_MAX_NAME];
    *out = NULL;
    if (tensor_name(name, prefix, "bias") && !st_find(a, name)) return VLM_OK;
    return vector_f32(a, prefix, "bias", n, out);
}
