/*
 * safetensors.h — memory-mapped, fully validated safetensors checkpoints,
 * single-file or sharded (model.safetensors.index.json).
 *
 * Tensors are never copied: st_tensor.data points into the mmap, and is
 * NOT necessarily aligned to its element size (MLX does not pad the header,
 * so the data area often starts at an odd offset): read it with memcpy or
 * unaligned SIMD loads, never through a cast uint16_t / uint32_t pointer
 * (UBSan's alignment check rejects that). Every
 * header is validated before use (lengths, JSON, offsets, overlaps,
 * dtype x shape = bytes, duplicates) and each failure is a clear error
 * naming the file and the tensor.
 */
#ifndef VLM_IO_SAFETENSORS_H
#define VLM_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "core/dtype.h"
#include "vlm.h"

#define ST_MAX_DIMS 8

typedef struct st_tensor {
    const char *name;
    vlm_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t nbytes;
    const void *data;    /* inside the mapping */
    int file_index;      /* which shard */
} st_tensor;

typedef struct st_archive st_archive;

/* Open one .safetensors file. */
vlm_status st_open_file(const char *path, st_archive **out);
/* Open a model folder: model.safetensors.index.json if present, else all
 * *.safetensors files in the folder. */
vlm_status st_open_dir(const char *dir, st_archive **out);
void st_close(st_archive *a);

size_t st_count(const st_archive *a);
const st_tensor *st_at(const st_archive *a, size_t i);
/* NULL when absent (no error recorded). */
const st_tensor *st_find(const st_archive *a, const char *name);
/* __metadata__ value for key in the first file, or NULL. */
const char *st_metadata(const st_archive *a, const char *key);
/* Number of elements of a tensor. */
int64_t st_numel(const st_tensor *t);
/* The caller copied [p, p + n) of a tensor and will read the copy: the
 * pages wholly inside leave the process's resident memory (they come back
 * from the file if read again). Memory the archive did not map itself is
 * left alone. */
void st_release(const st_archive *a, const void *p, size_t n);

/* Validate and parse a header given in memory (used by the fuzzer and
 * st_open_file): buf holds the whole file of file_size bytes. */
vlm_status st_parse(const char *path, const uint8_t *buf, size_t file_size, st_archive **out);

#endif
