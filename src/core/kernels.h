/*
 * kernels.h — the compute kernels every model is built from.
 *
 * Activations are float32, row-major. Weights stay in their stored form
 * (f32, f16, bf16, or MLX affine-quantized) and are read straight from the
 * mmap; accumulation is always f32. Each kernel has a scalar reference
 * (suffix _ref) that tests compare the dispatched SIMD version against.
 * CPU feature dispatch happens once, in one place (cpu.c).
 */
#ifndef VLM_CORE_KERNELS_H
#define VLM_CORE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/dtype.h"
#include "vlm.h"

/* A linear layer's weight, nn.Linear layout [rows = out, cols = in].
 * Dense: dtype F32/F16/BF16, data = rows*cols elements.
 * Affine-quantized (MLX): dtype U32, data = rows * (cols*bits/32) words,
 * each row one little-endian bit stream (code i at bits [i*bits, i*bits+bits));
 * scales/biases = rows * (cols/group_size) elements of scale_dtype;
 * w[r][c] = scale[r][c/g] * q[r][c] + bias[r][c/g].
 * quad_params, when set (vlm_weight_pack_quads), holds the same scales and
 * biases regrouped for kernels that take W rows four at a time (a quad):
 * [quads][groups][8] elements of scale_dtype, per group the quad's four
 * row scales and then its four row biases; a last quad short of rows
 * repeats its last row. Everything reads scales through it when present,
 * so a loader may let the original pages go.
 * quad_codes, built with quad_params in fast mode for 4-bit weights whose
 * rows are whole 64-column chunks on x86-64 (LINEAR_QUAD_CODES,
 * kernel_table.h), holds the codes regrouped for the x86 integer kernels
 * and whole-row reads (vlm_weight_row: embedding lookups); the f32 kernels
 * read data, which a loader may then also let go (it faults back on use). */
typedef struct vlm_weight {
    vlm_dtype dtype;
    int64_t rows, cols;
    const void *data;
    int bits, group_size;      /* quantized only */
    vlm_dtype scale_dtype;     /* quantized only: F32, F16 or BF16 */
    const void *scales, *biases;
    const void *quad_params;   /* quantized only, optional (owned: vlm_weight_free_quads) */
    const void *quad_codes;    /* 4-bit only, optional (owned: vlm_weight_free_quads) */
} vlm_weight;

static inline int vlm_weight_is_quantized(const vlm_weight *w) { return w->dtype == VLM_DTYPE_U32; }
/* Check a weight's shape, dtypes, bits and group size before use (loaders
 * call this once; the kernels assume a valid weight). */
vlm_status vlm_weight_validate(const vlm_weight *w);
/* Build w->quad_params from a quantized weight's scales and biases, and
 * w->quad_codes where they apply (a dense weight is left as it is). The
 * integer path of fast mode needs them. */
vlm_status vlm_weight_pack_quads(vlm_weight *w);
void vlm_weight_free_quads(vlm_weight *w);

/* ---- threading ---------------------------------------------------------- */

/* Run fn(ctx, i) for i in [0, n) on the kernel thread pool. */
typedef void (*vlm_task_fn)(void *ctx, int64_t begin, int64_t end);
/* Split [0, n) into contiguous chunks (at least min_chunk items each) and
 * run them on the pool; returns when all are done. Callable from any
 * thread; a call made while the pool is busy (from inside a task, or from
 * another thread) runs inline on the calling thread. */
void vlm_parallel_for(int64_t n, int64_t min_chunk, vlm_task_fn fn, void *ctx);
int vlm_threads(void);   /* current kernel thread count */

/* ---- CPU features ------------------------------------------------------- */
typedef struct vlm_cpu_features {
    int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512bf16, avx512vnni, avxvnni, neon;
} vlm_cpu_features;
const vlm_cpu_features *vlm_cpu(void);
/* Force the scalar reference path everywhere (tests, debugging). */
void vlm_kernels_force_scalar(int on);
const char *vlm_kernels_isa(void);   /* "avx512", "avx2", "neon", "scalar" */
/* Use the named kernel set ("avx512", "avx2", "neon", "scalar"); returns 0 (and
 * changes nothing) when it is not compiled in or the CPU lacks it. The
 * environment variable VLM_KERNELS picks the initial set the same way. */
int vlm_kernels_select(const char *isa);

/* Fast matmul: calls on quantized weights (4/8 bits) with quad_params
 * (the language model's: decode, prefill; 8-bit below 40 x rows) multiply
 * int8-quantized activations with integer dot products (~1e-3 relative
 * error, faster); off = exact f32 activations everywhere. On by default; the
 * environment variable VLM_PRECISE=1 starts it off. Process-wide (an
 * atomic in cpu.c); vlm_set_precise (vlm.h) is the public form. */
void vlm_set_fast_matmul(int on);
int vlm_fast_matmul(void);

/* ---- linear algebra ----------------------------------------------------- */

/* y[m][rows] = x[m][cols] . W^T (+ bias[rows] when bias != NULL); y must
 * not overlap x. Multi-threaded; m < 8 is the GEMV (decode) path. */
void vlm_linear(float *y, const float *x, int64_t m, const vlm_weight *w, const float *bias);
void vlm_linear_ref(float *y, const float *x, int64_t m, const vlm_weight *w, const float *bias);

/* Row r of W as f32 (embedding lookup; quantized embeddings included). */
void vlm_weight_row(const vlm_weight *w, int64_t r, float *out);
/* Whole W as f32 [rows][cols] (tests, small weights). */
void vlm_dequantize(const vlm_weight *w, float *out);

/* ---- elementwise / normalisation (rows of length n, in place allowed) -- */
void vlm_softmax(float *x, int64_t n);
void vlm_rms_norm(float *y, const float *x, const float *weight, int64_t rows, int64_t n, float eps);
void vlm_layer_norm(float *y, const float *x, const float *weight, const float *bias,
                    int64_t rows, int64_t n, float eps);
void vlm_silu(float *x, int64_t n);
void vlm_gelu_erf(float *x, int64_t n);
void vlm_gelu_tanh(float *x, int64_t n);
void vlm_quick_gelu(float *x, int64_t n);   /* x * sigmoid(1.702 x) */
/* gate[i] = act(gate[i]) * up[i] with act = SiLU (SwiGLU). */
void vlm_swiglu(float *gate, const float *up, int64_t n);

/* ---- rotary embedding --------------------------------------------------- */
/* Rotate one head vector x[head_dim] in place with per-pair cos/sin of
 * length head_dim/2. half_split: pairs (i, i+d/2) (Llama/Qwen "rotate_half");
 * otherwise interleaved pairs (2i, 2i+1). */
void vlm_rope(float *x, int head_dim, const float *cos, const float *sin, int half_split);

/* ---- attention ---------------------------------------------------------- */
/* Multi-head attention with grouped KV heads.
 * q: n_q rows, row stride q_stride floats, head h at q + h*head_dim.
 * k, v: n_kv rows, row stride kv_stride, kv head g at + g*head_dim;
 * query head h uses kv head h / (n_heads / n_kv_heads).
 * out: n_q rows of n_heads*head_dim.
 * causal_offset >= 0: query i attends keys j <= causal_offset + i;
 * causal_offset < 0: no mask (all keys).
 * Softmax in f32 with scale applied to q.k. Multi-threaded over heads/rows.
 * head_dim must not exceed VLM_ATTENTION_MAX_HEAD_DIM (else out = zeros). */
#define VLM_ATTENTION_MAX_HEAD_DIM 2048
void vlm_attention(float *out, const float *q, int64_t n_q, int64_t q_stride,
                   const float *k, const float *v, int64_t n_kv, int64_t kv_stride,
                   int n_heads, int n_kv_heads, int head_dim, int64_t causal_offset, float scale);

#endif
