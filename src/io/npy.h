/*
 * npy.h — read and write NumPy .npy files (format 1.0/2.0/3.0, C order,
 * little-endian). Used by the CLI (preprocess, logits) and by tests that
 * compare against golden tensors.
 */
#ifndef VLM_IO_NPY_H
#define VLM_IO_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "vlm.h"

#define NPY_MAX_DIMS 8

typedef struct npy_array {
    char descr[8];          /* e.g. "<f4", "<i8", "|u1", "<u2" */
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    size_t elem_size;       /* bytes per element */
    size_t count;           /* product of shape */
    void *data;             /* count * elem_size bytes, owned */
} npy_array;

vlm_status npy_load(const char *path, npy_array *out);
void npy_free(npy_array *a);
/* Convert any numeric npy (f4, f2, f8, i1..i8, u1..u8, b1) to a new f32
 * buffer (count elements). "<u2" is read as raw bfloat16 bits when
 * bf16_as_u2 is nonzero. */
vlm_status npy_to_f32(const npy_array *a, int bf16_as_u2, float **out);
/* Same, to int64. */
vlm_status npy_to_i64(const npy_array *a, int64_t **out);

vlm_status npy_save(const char *path, const char *descr, const int64_t *shape, int ndim,
                    const void *data);

#endif
