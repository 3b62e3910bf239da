/*
 * inspect.c — parameter counts, dtype sizes and the quantized / dense
 * module summary of a checkpoint (see inspect.h for the counting rule).
 */
#include "io/inspect.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/weights.h"

#define INSPECT_MAX_NAME 512

char *inspect_module_pattern(const char *module) {
    char *out = vlm_malloc(strlen(module) + 1), *w = out;
    if (!out) return NULL;
    for (const char *p = module; *p;) {
        const char *end = strchr(p, '.');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t digits = 0;
        while (digits < len && isdigit((unsigned char)p[digits])) digits++;
        if (len && digits == len) *w++ = '*';
        else {
            memcpy(w, p, len);
            w += len;
        }
        p += len;
        if (*p) *w++ = *p++;   /* the dot */
    }
    *w = '\0';
    return out;
}

/* Count one more module under (pattern, bits, group, dtype). */
static vlm_status add_to_group(inspect_group **groups, size_t *n, const char *module, int bits, int group,
                               vlm_dtype dtype) {
    char *pattern = inspect_module_pattern(module);
    if (!pattern) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < *n; i++) {
        inspect_group *g = &(*groups)[i];
        if (!strcmp(g->pattern, pattern) && g->bits == bits && g->group_size == group && g->dtype == dtype) {
            g->count++;
            free(pattern);
            return VLM_OK;
        }
    }
    inspect_group *grown = vlm_realloc(*groups, (*n + 1) * sizeof *grown);
    if (!grown) {
        free(pattern);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    *groups = grown;
    grown[(*n)++] = (inspect_group){pattern, bits, group, dtype, 1};
    return VLM_OK;
}

/* name without its last ".suffix" into buf; the suffix pointer or NULL. */
static const char *split_suffix(const char *name, char *buf) {
    const char *dot = strrchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : 0;
    if (!dot || len >= INSPECT_MAX_NAME) return NULL;
    memcpy(buf, name, len);
    buf[len] = '\0';
    return dot + 1;
}

static int has_sibling(const st_archive *a, const char *module, const char *suffix) {
    char name[INSPECT_MAX_NAME + 16];
    snprintf(name, sizeof name, "%s.%s", module, suffix);
    return st_find(a, name) != NULL;
}

/* Account for one tensor: parameters, and module groups for weights. */
static vlm_status count_tensor(const st_archive *a, const vlm_quant_config *q, const st_tensor *t,
                               inspect_report *r) {
    char module[INSPECT_MAX_NAME];
    const char *suffix = split_suffix(t->name, module);
    int quantized = suffix && has_sibling(a, module, "scales");
    if (quantized && (!strcmp(suffix, "scales") || !strcmp(suffix, "biases")))
        return VLM_OK;   /* quantization metadata of module's weight */
    if (quantized && !strcmp(suffix, "weight")) {
        vlm_weight w;   /* one matrix, or expert 0 of [experts, out, words] */
        int stacked = t->ndim == 3;
        vlm_status st = stacked ? weights_expert(a, q, module, 0, &w) : weights_linear(a, q, module, &w);
        if (st) return st;
        r->parameters += (uint64_t)(stacked ? t->shape[0] : 1) * (uint64_t)w.rows * (uint64_t)w.cols;
        return add_to_group(&r->quantized, &r->n_quantized, module, w.bits, w.group_size, w.scale_dtype);
    }
    r->parameters += (uint64_t)st_numel(t);
    if (suffix && !strcmp(suffix, "weight") && t->ndim >= 2)
        return add_to_group(&r->dense, &r->n_dense, module, 0, 0, t->dtype);
    return VLM_OK;
}

static int by_pattern(const void *x, const void *y) {
    const inspect_group *a = x, *b = y;
    int c = strcmp(a->pattern, b->pattern);
    return c ? c : a->bits - b->bits;
}

vlm_status inspect_checkpoint(const st_archive *a, const vlm_quant_config *q, inspect_report *out) {
    memset(out, 0, sizeof *out);
    out->n_tensors = st_count(a);
    for (size_t i = 0; i < out->n_tensors; i++) {
        const st_tensor *t = st_at(a, i);
        out->bytes_by_dtype[t->dtype] += t->nbytes;
        vlm_status st = count_tensor(a, q, t, out);
        if (st) {
            inspect_report_free(out);
            return st;
        }
    }
    if (out->n_quantized > 1) qsort(out->quantized, out->n_quantized, sizeof *out->quantized, by_pattern);
    if (out->n_dense > 1) qsort(out->dense, out->n_dense, sizeof *out->dense, by_pattern);
    return VLM_OK;
}

void inspect_report_free(inspect_report *r) {
    for (size_t i = 0; i < r->n_quantized; i++) free(r->quantized[i].pattern);
    for (size_t i = 0; i < r->n_dense; i++) free(r->dense[i].pattern);
    free(r->quantized);
    free(r->dense);
    memset(r, 0, sizeof *r);
}
