/*
 * safetensors_write.h — writing a checkpoint in the layout MLX saves
 * (mx.save_safetensors): header JSON with __metadata__ {"format": "mlx"},
 * padded with spaces so the data area starts 8-byte aligned, then the
 * tensors back to back with no holes.
 *
 * Tensors are streamed: the writer asks a callback for each tensor's bytes
 * in turn, so a multi-GB checkpoint never has to sit in memory at once
 * (used by `vlm bench --make-random`). In the data area, tensors are placed
 * by decreasing element size (stable), which keeps every tensor aligned to
 * its element size; header entries keep the caller's order.
 */
#ifndef VLM_IO_SAFETENSORS_WRITE_H
#define VLM_IO_SAFETENSORS_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "io/safetensors.h"
#include "vlm.h"

typedef struct st_write_tensor {
    const char *name;
    vlm_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
} st_write_tensor;

/* Fill buf (exactly nbytes = element size x element count) with the data
 * of tensor index. */
typedef vlm_status (*st_fill_fn)(void *ctx, size_t index, void *buf, size_t nbytes);

/* Bytes tensor t occupies (0 for a bad dtype, rank or shape). */
size_t st_write_tensor_bytes(const st_write_tensor *t);

vlm_status st_write_file(const char *path, const st_write_tensor *tensors, size_t n, st_fill_fn fill,
                         void *ctx);

#endif
