/*
 * inspect.h — what a checkpoint holds, summarised for `vlm inspect`:
 * the exact parameter count, bytes per dtype, and which linear modules
 * are MLX-quantized (and how) or left dense, grouped by module-name
 * pattern ("language_model.model.layers.*.mlp.up_proj").
 *
 * Parameter counting rule: every tensor's element count, except that a
 * quantized weight counts as its unpacked [out, in] (in = packed words per
 * row * 32 / bits; stacked expert weights [experts, out, words] count
 * experts * out * in) and its .scales/.biases are quantization metadata, not
 * parameters. A q4/q8 checkpoint therefore counts the same as its bf16
 * source.
 */
#ifndef VLM_IO_INSPECT_H
#define VLM_IO_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/dtype.h"
#include "io/config.h"
#include "io/safetensors.h"

typedef struct inspect_group {
    char *pattern;       /* module path with layer numbers replaced by '*' */
    int bits, group_size; /* 0 for dense modules */
    vlm_dtype dtype;     /* dense: the weight dtype; quantized: scale dtype */
    int64_t count;       /* modules matching */
} inspect_group;

typedef struct inspect_report {
    uint64_t parameters;
    uint64_t bytes_by_dtype[VLM_DTYPE_COUNT];
    size_t n_tensors;
    inspect_group *quantized;  /* modules with .scales, sorted by pattern */
    size_t n_quantized;
    inspect_group *dense;      /* other weights of rank >= 2, sorted */
    size_t n_dense;
} inspect_report;

/* q may be NULL (quantization then inferred per module from the shapes). */
vlm_status inspect_checkpoint(const st_archive *a, const vlm_quant_config *q, inspect_report *out);
void inspect_report_free(inspect_report *r);
/* "a.layers.12.mlp" -> "a.layers.*.mlp" (allocated). */
char *inspect_module_pattern(const char *module);

#endif
