/*
 * kernel_table.h — the per-ISA kernel set behind kernels.h.
 *
 * linear.c, ops.c and attention.c hold the ISA-independent drivers
 * (blocking, threading, reference math); the inner loops they call come
 * from one vlm_kernel_table, chosen once by cpu.c (scalar, avx2, avx512,
 * neon).
 *
 * Code order. A SIMD table with `lanes` > 0 unpacks quantized rows of
 * bits b in {2, 4, 8} a whole vector of bytes at a time, which yields the
 * codes of a block of lanes*(8/b) consecutive columns in a permuted order:
 * position j*lanes + l of the block holds column l*(8/b) + j. Both the
 * GEMV kernel and the GEMM panel dequantizer produce that order, and the
 * driver permutes x the same way once per call (linear_code_block()).
 * Every other weight (dense, 3/5/6 bits, groups smaller than a block)
 * uses the natural column order.
 *
 * 4-bit GEMV saves a shift per byte: it converts each byte v = e + 16 o
 * (even code e, odd code o) whole, and its low nibble e, and uses
 * x_e e + x_o o = (x_o / 16) v + (x_e - x_o / 16) e; the driver prepares
 * x accordingly (prepare_q4_gemv in linear.c).
 */
#ifndef VLM_CORE_KERNEL_TABLE_H
#define VLM_CORE_KERNEL_TABLE_H

#include "core/kernels.h"

/* One GEMV call: y[i][r] for the m rows of x and W rows [r0, r1). */
typedef struct vlm_gemv_args {
    const vlm_weight *w;
    const float *x;     /* [m][cols], in the table's code order for w */
    const float *xsum;  /* [m][cols/group_size] group sums of x (quantized w) */
    int64_t m;
    float *y;           /* [m][rows] */
    const float *bias;  /* [rows] or NULL */
} vlm_gemv_args;

/* Activations quantized to int8 for the fast integer matmul (linear_q8.c):
 * each row of x in blocks of LINEAR_Q8_BLOCK columns, x ~ d * x8 with
 * d = max|x| / 127 per block; group sums of the ORIGINAL x keep the bias
 * term exact. The kernels take 64 columns (a chunk: two blocks) at a time,
 * so the path takes weights whose group size is a multiple of the block
 * and whose rows are whole chunks. Codes are stored per row in the order
 * of linear_q8_index, which lines them up with the weight bytes as the
 * AVX2 kernel reads them, keeping each chunk's first block in the low
 * 128-bit half of every vector and its second block in the high half:
 * for 4-bit weights a chunk's 32 bytes hold its even columns in the low
 * nibbles and its odd columns in the high ones, so the chunk's codes are
 * its even columns, then its odd columns; for 8-bit weights the chunk's
 * codes are in runs of eight, [0..7 32..39 8..15 40..47 16..23 48..55
 * 24..31 56..63], as widening 16 codes of each block half by half gives. */
enum { LINEAR_Q8_BLOCK = 32, LINEAR_Q8_CHUNK = 64 };
/* x planes take 4 bytes a column (as much memory as x in f32), and longer
 * rows' planes (over 16 KB) would not stay in L1 while the weights stream
 * past: with rows of 8960 columns the 4-bit GEMV ran 10 % slower from them
 * than with the planes broadcast from the codes in registers (Zen 1). */
enum { LINEAR_Q4_PLANES_COLS = 4096 };
typedef struct vlm_q8_acts {
    int64_t m, cols;
    const int8_t *q;     /* [m][cols] */
    const float *d;      /* [m][cols / LINEAR_Q8_BLOCK] */
    const float *xsum;   /* [m][cols / group_size] */
    /* The same numbers laid out for a quad of W rows (LINEAR_QUAD) at a
     * time, as the x86 kernels multiply them: [m][chunks][8], chunk c's
     * two block scales four times each, [d(2c) x4 | d(2c+1) x4]; and
     * [m][groups][4], each group sum four times. */
    const float *scale_quads, *xsum_quads;
    /* For a 4-bit weight of at most LINEAR_Q4_PLANES_COLS columns, when the
     * table builds them (vlm_kernel_table.q4_planes): the codes as x planes,
     * [m][chunks][8][32] (linear_q8_x86.h), 32-byte aligned; else NULL. */
    const int8_t *q4_planes;
} vlm_q8_acts;

/* One integer-matmul call: y[i][r] for every row i of x, W rows [r0, r1). */
typedef struct vlm_q8_args {
    const vlm_weight *w;  /* 4- or 8-bit, group size a multiple of the block */
    const vlm_q8_acts *x;
    float *y;             /* [m][rows] */
    const float *bias;    /* [rows] or NULL */
} vlm_q8_args;

/* Position of column c in a quantized activation row (see vlm_q8_acts). */
static inline int64_t linear_q8_index(int bits, int64_t c) {
    int64_t o = c % LINEAR_Q8_CHUNK, base = c - o;
    if (bits == 4) return base + (o & 1) * (LINEAR_Q8_CHUNK / 2) + (o >> 1);
    int64_t half = o / LINEAR_Q8_BLOCK, within = o % LINEAR_Q8_BLOCK;
    return base + (within >> 3) * 16 + half * 8 + (within & 7);
}

typedef struct vlm_kernel_table {
    const char *isa;
    int lanes;           /* f32 lanes per vector; 0 = natural code order only */
    int odd_bits;        /* gemv/dequant also unpack 3/5/6-bit rows (natural order) */
    int gemm_mr, gemm_nr; /* micro-tile: rows of x by rows of W (nr <= 32) */
    /* y for W rows [r0, r1) of a dense weight, a quantized weight in this
     * table's code order (see linear_code_block), or, when odd_bits, a
     * 3/5/6-bit weight. */
    void (*gemv)(const vlm_gemv_args *a, int64_t r0, int64_t r1);
    /* Row r, columns [k0, k1) of W as f32 in the table's code order;
     * k0, k1 are multiples of the group size for quantized weights. */
    void (*dequant)(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out);
    /* c[i][j] (+)= sum_k a[i][k] * panel[k][j] for i < mr, j < nr;
     * panel is kc rows of gemm_nr floats (zero padded beyond nr). */
    void (*gemm_tile)(int64_t mr, int64_t nr, int64_t kc, const float *a, int64_t lda,
                      const float *panel, float *c, int64_t ldc, int accumulate);
    float (*dot)(const float *a, const float *b, int64_t n);
    /* Attention: out[j] = scale * q . k[j*stride .. +d) for j < n. */
    void (*attn_scores)(const float *q, const float *k, int64_t stride, int64_t n, int64_t d,
                        float scale, float *out);
    /* Attention: acc[0..d) += sum_j p[j] * v[j*stride .. +d) for j < n. */
    void (*attn_mix)(float *acc, const float *p, const float *v, int64_t stride, int64_t n, int64_t d);
    /* x[i] = exp(x[i] - shift); returns the sum (softmax numerators). */
    float (*exp_sum)(float *x, int64_t n, float shift);
    /* y[i] = x[i] * sigmoid(alpha * x[i]) (* up[i] when up != NULL):
     * SiLU (alpha 1), quick GELU (alpha 1.702), SwiGLU (up). */
    void (*sigmoid_gate)(float *y, const float *x, const float *up, float alpha, int64_t n);
    /* x[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in place. */
    void (*gelu_tanh)(float *x, int64_t n);
    /* Integer matmul with int8 activations (4/8-bit weights), or NULL, and
     * its activation quantizer: one row of x (cols a multiple of
     * LINEAR_Q8_BLOCK) to codes in linear_q8_index order for bits-bit
     * weights, block scales d and block sums of the original x. The
     * weight has quad_params and r0 is a multiple of 4. */
    void (*gemv_q8)(const vlm_q8_args *a, int64_t r0, int64_t r1);
    void (*quantize_q8)(const float *x, int64_t cols, int bits, int8_t *q, float *d, float *block_sums);
    /* One x row's 4-bit codes as gemv_q8's x planes (vlm_q8_acts.q4_planes),
     * or NULL when gemv_q8 does not take them. */
    void (*q4_planes)(const int8_t *q, int64_t cols, int8_t *planes);
} vlm_kernel_table;

/* The table in use (cpu.c), and a way to put any table in use: tests run
 * kernel sources built outside the library (e.g. at another width). */
const vlm_kernel_table *vlm_kernels_active(void);
void vlm_kernels_use(const vlm_kernel_table *t);

/* Codes per permuted block for w under table t, or 0 for natural order. */
int64_t linear_code_block(const vlm_kernel_table *t, const vlm_weight *w);

/* Attention of many queries as matrix products (attention_matmul.c),
 * arguments as vlm_attention's; returns 0 (out untouched) when its buffers
 * cannot be allocated. */
int attention_matmul(float *out, const float *q, int64_t n_q, int64_t q_stride, const float *k, const float *v,
                     int64_t n_kv, int64_t kv_stride, int n_heads, int n_kv_heads, int head_dim,
                     int64_t causal_offset, float scale);

/* The natural-order row unpacker every table may fall back to (linear.c). */
void linear_dequant_natural(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out);
/* The integer matmul in plain C: the reference for SIMD versions and the
 * scalar table's entry (linear_q8.c). */
void linear_q8_gemv_scalar(const vlm_q8_args *a, int64_t r0, int64_t r1);
/* True when the integer path handles w (fast mode aside): 4 or 8 bits,
 * whole chunks, and quad_params packed. */
int linear_q8_supports(const vlm_weight *w);
void linear_q8_quantize_row_scalar(const float *x, int64_t cols, int bits, int8_t *q, float *d, float *block_sums);
/* Quantize the m rows of x for w with t's quantizer into acts (codes,
 * block scales and group sums, owned by acts and freed with
 * linear_q8_acts_free). Returns 0 on allocation failure. */
int linear_q8_quantize(const vlm_kernel_table *t, vlm_q8_acts *acts, const float *x, int64_t m,
                       const vlm_weight *w);
void linear_q8_acts_free(vlm_q8_acts *acts);
/* Scalar activations every table may use for tails (kernels_scalar.c). */
float act_sigmoid_gate(float x, float alpha);
float act_gelu_tanh(float x);

/* Element i of an F32/F16/BF16 array as f32. Tensors in an mmapped
 * safetensors file need not be aligned (MLX does not pad the header), so
 * elements are read with memcpy. */
static inline float linear_load_float(vlm_dtype dtype, const void *base, int64_t i) {
    const char *p = (const char *)base;
    uint16_t h;
    float f;
    switch (dtype) {
    case VLM_DTYPE_F16: memcpy(&h, p + 2 * i, 2); return f16_to_f32(h);
    case VLM_DTYPE_BF16: memcpy(&h, p + 2 * i, 2); return bf16_to_f32(h);
    default: memcpy(&f, p + 4 * i, 4); return f;
    }
}

/* quad_params (kernels.h): W rows regrouped by quads; a quad holds, per
 * group, its LINEAR_QUAD row scales and then its LINEAR_QUAD row biases. */
enum { LINEAR_QUAD = 4 };
static inline size_t linear_quad_bytes(const vlm_weight *w) {
    return (size_t)(w->cols / w->group_size * 2 * LINEAR_QUAD) * vlm_dtype_size(w->scale_dtype);
}
/* The params of the quad holding W row r. */
static inline const void *linear_quad_params(const vlm_weight *w, int64_t r) {
    return (const char *)w->quad_params + (size_t)(r / LINEAR_QUAD) * linear_quad_bytes(w);
}

/* quad_codes (kernels.h): a 4-bit weight's codes regrouped by quads for
 * the x86 integer kernels, built on x86-64 in fast mode. Quad after quad,
 * chunk (64 columns, 32 bytes a row) after chunk, a chunk is four 32-byte
 * vectors, and dword k of half h of vector v is row k's bytes
 * [16h + 4v, 16h + 4v + 4) of the chunk: the four rows' 16-byte halves
 * transposed as 4 x 4 dwords. So the i16 pair sums of a maddubs against
 * one vector are, in each half, two per row in row order, and one madd
 * with ones leaves [r0 r1 r2 r3 | r0 r1 r2 r3] with no shuffles (the x
 * codes' dword v of each half, broadcast, pair with vector v's low
 * nibbles; see linear_q8_x86.h). A last quad short of rows repeats its
 * last row. */
#if defined(__x86_64__) || defined(_M_X64)
#define LINEAR_QUAD_CODES 1
#else
#define LINEAR_QUAD_CODES 0
#endif
static inline const uint8_t *linear_quad_codes(const vlm_weight *w, int64_t r) {
    return (const uint8_t *)w->quad_codes + (size_t)(r / LINEAR_QUAD) * (size_t)(LINEAR_QUAD * w->cols / 2);
}
/* Row r's packed codes (cols / 2 bytes, MLX order) back from quad_codes. */
void linear_quad_codes_row(const vlm_weight *w, int64_t r, uint8_t *row);

/* Scale factor of group g of row r of a quantized weight (and its bias),
 * from quad_params when the weight has them. */
static inline float linear_group_param(const vlm_weight *w, int64_t r, int64_t g, int bias) {
    if (w->quad_params)
        return linear_load_float(w->scale_dtype, linear_quad_params(w, r),
                                 (g * 2 + bias) * LINEAR_QUAD + r % LINEAR_QUAD);
    return linear_load_float(w->scale_dtype, bias ? w->biases : w->scales, r * (w->cols / w->group_size) + g);
}
static inline float linear_group_scale(const vlm_weight *w, int64_t r, int64_t g) { return linear_group_param(w, r, g, 0); }
static inline float linear_group_bias(const vlm_weight *w, int64_t r, int64_t g) { return linear_group_param(w, r, g, 1); }

extern const vlm_kernel_table vlm_kernels_scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const vlm_kernel_table vlm_kernels_avx2;
extern const vlm_kernel_table vlm_kernels_avx512;
/* The integer path's AVX2 kernels, also used by the avx512 table. */
void linear_q8_gemv_avx2(const vlm_q8_args *a, int64_t r0, int64_t r1);
void linear_q8_quantize_row_avx2(const float *x, int64_t cols, int bits, int8_t *q, float *d, float *block_sums);
void linear_q8_q4_planes_avx2(const int8_t *q, int64_t cols, int8_t *planes);
/* The same with VNNI dot products: AVX-512 VNNI (needs avx512vnni and
 * avx512vl) or AVX-VNNI (avxvnni); and the one of the three this CPU runs
 * best, which both x86 tables use. */
void linear_q8_gemv_vnni(const vlm_q8_args *a, int64_t r0, int64_t r1);
void linear_q8_gemv_avxvnni(const vlm_q8_args *a, int64_t r0, int64_t r1);
void linear_q8_gemv_x86(const vlm_q8_args *a, int64_t r0, int64_t r1);
#elif defined(__aarch64__)
extern const vlm_kernel_table vlm_kernels_neon;
void linear_q8_gemv_neon(const vlm_q8_args *a, int64_t r0, int64_t r1);
void linear_q8_quantize_row_neon(const float *x, int64_t cols, int bits, int8_t *q, float *d, float *block_sums);
#endif

#endif
