/*
 * weights.h — binding a checkpoint's tensors to the structures the kernels
 * use, with every shape checked and every failure naming the tensor.
 *
 * Linear weights are never copied: vlm_weight points into the mmap (only
 * a quantized weight's scales and biases may be regrouped by quads of rows,
 * weights_pack_quads, taking the originals' place in memory). Whether
 * a linear layer is MLX-quantized is decided per tensor by the presence of
 * "<prefix>.scales" (mlx-vlm leaves layers whose input size is not a
 * multiple of the group size — and whole vision towers — unquantized even
 * when config.json declares quantization globally). bits/group_size come
 * from the config (with per-module overrides) and are verified against the
 * shapes: packed words per row * 32 / bits == in == scale columns * group.
 * Without a config they are inferred when exactly one (bits, group) pair in
 * {2,3,4,5,6,8} x {32,64,128} fits the shapes, else it is an error.
 *
 * Small 1-D tensors (norm weights, biases) are converted to owned f32
 * arrays, since kernels take them as float*.
 */
#ifndef VLM_IO_WEIGHTS_H
#define VLM_IO_WEIGHTS_H

#include <stdint.h>

#include "core/kernels.h"
#include "io/config.h"
#include "io/safetensors.h"

/* The tensor called name, or VLM_ERR_NOT_FOUND naming it. */
vlm_status weights_tensor(const st_archive *a, const char *name, const st_tensor **out);

/* Bind prefix.weight (+ prefix.scales / prefix.biases) as a linear weight
 * [out, in]. q may be NULL (then quantization parameters are inferred). */
vlm_status weights_linear(const st_archive *a, const vlm_quant_config *q, const char *prefix,
                          vlm_weight *out);
/* Expert `expert` of a mixture-of-experts weight stacked as prefix.weight
 * [experts, out, in] (MLX SwitchLinear; quantized: [experts, out, words]
 * with .scales/.biases [experts, out, groups]), bound like weights_linear. */
vlm_status weights_expert(const st_archive *a, const vlm_quant_config *q, const char *prefix, int64_t expert,
                          vlm_weight *out);
/* Give a quantized weight its quad_params (vlm_weight_pack_quads) and let
 * the original scale and bias pages go; the caller frees them with
 * vlm_weight_free_quads. A dense weight is left as it is. */
vlm_status weights_pack_quads(const st_archive *a, vlm_weight *w);
/* A dense float weight of any rank >= 2 viewed as [shape[0], product of the
 * rest] (e.g. a channels-last conv kernel [out, kt, kh, kw, in] used as a
 * patch-embedding matmul). Quantized tensors are refused. */
vlm_status weights_dense_flat(const st_archive *a, const char *name, vlm_weight *out);

/* Whole tensor (F32/F16/BF16/F64) converted to an allocated f32 array
 * (vlm_free), after checking its shape (see weights_expect). */
vlm_status weights_f32_shape(const st_archive *a, const char *name, int ndim, const int64_t *shape,
                             float **out);
/* prefix.bias / prefix.weight of length n as an allocated f32 array.
 * Missing: VLM_ERR_NOT_FOUND. */
vlm_status weights_bias_f32(const st_archive *a, const char *prefix, int64_t n, float **out);
vlm_status weights_norm_f32(const st_archive *a, const char *prefix, int64_t n, float **out);
/* Like weights_bias_f32, but an absent bias is fine: *out = NULL, VLM_OK. */
vlm_status weights_bias_f32_opt(const st_archive *a, const char *prefix, int64_t n, float **out);

/* Check that tensor name exists with this rank and shape (-1 = any size
 * in that dimension). The error names the tensor and both shapes.
 * out may be NULL. */
vlm_status weights_expect_shape(const st_archive *a, const char *name, int ndim, const int64_t *shape,
                                const st_tensor **out);
/* weights_expect(a, name, &t, 1024, 128): the same with the shape inline. */
#define weights_expect(a, name, out, ...)                                                \
    weights_expect_shape((a), (name), (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), \
                         (int64_t[]){__VA_ARGS__}, (out))

#endif
