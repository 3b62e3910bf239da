/*
 * linear_simd.h — the SIMD inner loops, written once over a small vector
 * vocabulary and instantiated per instruction set: linear_avx2.c and
 * linear_avx512.c define the vocabulary (below) and include this file,
 * which defines the kernel table SIMD_TABLE.
 *
 * Vocabulary each includer defines:
 *   LANES, VF (f32 vector), VI (i32 vector), GEMM_MR (x rows per tile),
 *   vload/vstore/vset1/vzero/vfma(a,b,c = a*b+c)/vmul/vhsum,
 *   vload_u8 (LANES bytes -> i32 lanes), vsrli, vand, vset1i, vcvt (i32 -> f32),
 *   vload_bf16, vload_f16 (LANES halves -> f32),
 *   vsub/vdiv/vmin/vmax/vround (to nearest), vcvt_f2i, vadd_i, vslli, vcast_i2f (bits),
 *   vloadi (LANES i32), vbroadcast16 (16 bytes into every 128-bit lane),
 *   vshuffle (byte shuffle within 128-bit lanes, index bit 7 -> 0), vsrlv,
 *   SIMD_GEMV_Q8, SIMD_QUANTIZE_Q8 and SIMD_Q4_PLANES (the integer matmul,
 *   its activation quantizer and its x planes for 4-bit decode, or NULL).
 *
 * Quantized rows of 2/4/8 bits are unpacked LANES bytes at a time; the
 * j-th shift of those bytes gives the codes of columns l*(8/bits)+j, so
 * results come out in the permuted "code order" of kernel_table.h.
 */
#ifndef SIMD_TABLE
#error "include linear_simd.h from an ISA file that defines the vector vocabulary"
#endif

#include <math.h>
#include <string.h>

#define GEMM_NR (2 * LANES)
_Static_assert(GEMM_MR == 6 || GEMM_MR == 8 || GEMM_MR == 12, "GEMM_MR must be 6, 8 or 12");
#define SIMD_INLINE static inline __attribute__((always_inline))

/* ---- dot ----------------------------------------------------------------- */

static float simd_dot(const float *a, const float *b, int64_t n) {
    VF s0 = vzero(), s1 = vzero();
    int64_t i = 0;
    for (; i + 2 * LANES <= n; i += 2 * LANES) {
        s0 = vfma(vload(a + i), vload(b + i), s0);
        s1 = vfma(vload(a + i + LANES), vload(b + i + LANES), s1);
    }
    for (; i + LANES <= n; i += LANES) s0 = vfma(vload(a + i), vload(b + i), s0);
    float acc = vhsum(vadd(s0, s1));
    for (; i < n; i++) acc += a[i] * b[i];
    return acc;
}

/* ---- attention: scores of a key block, and the value mix ----------------- */

static void simd_attn_scores(const float *q, const float *k, int64_t stride, int64_t n, int64_t d,
                             float scale, float *out) {
    int64_t j = 0, dv = d / LANES * LANES;
    for (; j + 4 <= n; j += 4) { /* four keys share each load of q */
        const float *k0 = k + j * stride, *k1 = k0 + stride, *k2 = k1 + stride, *k3 = k2 + stride;
        VF a0 = vzero(), a1 = vzero(), a2 = vzero(), a3 = vzero();
        for (int64_t c = 0; c < dv; c += LANES) {
            VF qv = vload(q + c);
            a0 = vfma(qv, vload(k0 + c), a0);
            a1 = vfma(qv, vload(k1 + c), a1);
            a2 = vfma(qv, vload(k2 + c), a2);
            a3 = vfma(qv, vload(k3 + c), a3);
        }
        float s0 = vhsum(a0), s1 = vhsum(a1), s2 = vhsum(a2), s3 = vhsum(a3);
        for (int64_t c = dv; c < d; c++) s0 += q[c] * k0[c], s1 += q[c] * k1[c], s2 += q[c] * k2[c], s3 += q[c] * k3[c];
        out[j] = s0 * scale, out[j + 1] = s1 * scale, out[j + 2] = s2 * scale, out[j + 3] = s3 * scale;
    }
    for (; j < n; j++) out[j] = scale * simd_dot(q, k + j * stride, d);
}

static void simd_attn_mix(float *acc, const float *p, const float *v, int64_t stride, int64_t n,
                          int64_t d) {
    int64_t c = 0;
    for (; c + 4 * LANES <= d; c += 4 * LANES) { /* a 4-vector slice of acc stays in registers */
        VF a0 = vload(acc + c), a1 = vload(acc + c + LANES), a2 = vload(acc + c + 2 * LANES),
           a3 = vload(acc + c + 3 * LANES);
        for (int64_t j = 0; j < n; j++) {
            const float *vj = v + j * stride + c;
            VF pj = vset1(p[j]);
            a0 = vfma(pj, vload(vj), a0);
            a1 = vfma(pj, vload(vj + LANES), a1);
            a2 = vfma(pj, vload(vj + 2 * LANES), a2);
            a3 = vfma(pj, vload(vj + 3 * LANES), a3);
        }
        vstore(acc + c, a0), vstore(acc + c + LANES, a1);
        vstore(acc + c + 2 * LANES, a2), vstore(acc + c + 3 * LANES, a3);
    }
    for (; c + LANES <= d; c += LANES) {
        VF a0 = vload(acc + c);
        for (int64_t j = 0; j < n; j++) a0 = vfma(vset1(p[j]), vload(v + j * stride + c), a0);
        vstore(acc + c, a0);
    }
    for (; c < d; c++)
        for (int64_t j = 0; j < n; j++) acc[c] += p[j] * v[j * stride + c];
}

/* ---- activations: exp and the sigmoid family -------------------------------- */

/* exp(x), Cephes-style: 2^round(x log2 e) times a degree-7 polynomial on
 * the remainder; about 1 ulp, 0 below -88. */
SIMD_INLINE VF vexp(VF x) {
    x = vmin(vmax(x, vset1(-88.0f)), vset1(88.0f));
    VF fx = vround(vmul(x, vset1(1.44269504088896341f)));
    x = vfma(fx, vset1(-0.693359375f), x);
    x = vfma(fx, vset1(2.12194440e-4f), x);
    VF y = vset1(1.9875691500e-4f);
    y = vfma(y, x, vset1(1.3981999507e-3f));
    y = vfma(y, x, vset1(8.3334519073e-3f));
    y = vfma(y, x, vset1(4.1665795894e-2f));
    y = vfma(y, x, vset1(1.6666665459e-1f));
    y = vfma(y, x, vset1(5.0000001201e-1f));
    y = vfma(y, vmul(x, x), vadd(x, vset1(1.0f)));
    VI e = vslli(vadd_i(vcvt_f2i(fx), vset1i(127)), 23);
    return vmul(y, vcast_i2f(e));
}

static float simd_exp_sum(float *x, int64_t n, float shift) {
    VF sum = vzero(), sh = vset1(shift);
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        VF e = vexp(vsub(vload(x + i), sh));
        vstore(x + i, e);
        sum = vadd(sum, e);
    }
    float total = vhsum(sum);
    for (; i < n; i++) total += x[i] = expf(x[i] - shift);
    return total;
}

/* x * sigmoid(alpha x) = x / (1 + exp(-alpha x)) */
SIMD_INLINE VF vsigmoid_gate(VF x, VF neg_alpha) {
    return vdiv(x, vadd(vset1(1.0f), vexp(vmul(neg_alpha, x))));
}

static void simd_sigmoid_gate(float *y, const float *x, const float *up, float alpha, int64_t n) {
    VF na = vset1(-alpha);
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        VF g = vsigmoid_gate(vload(x + i), na);
        vstore(y + i, up ? vmul(g, vload(up + i)) : g);
    }
    for (; i < n; i++) y[i] = act_sigmoid_gate(x[i], alpha) * (up ? up[i] : 1.0f);
}

/* 0.5 x (1 + tanh u) = x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) */
static void simd_gelu_tanh(float *x, int64_t n) {
    const VF k2 = vset1(-2.0f * 0.7978845608028654f), c = vset1(0.044715f), one = vset1(1.0f);
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        VF v = vload(x + i);
        VF u = vmul(vfma(vmul(c, v), vmul(v, v), v), k2); /* -2u */
        vstore(x + i, vdiv(v, vadd(one, vexp(u))));
    }
    for (; i < n; i++) x[i] = act_gelu_tanh(x[i]);
}

/* ---- dense weights ---------------------------------------------------------- */

SIMD_INLINE VF load_dense(vlm_dtype dtype, const void *base, int64_t i) {
    if (dtype == VLM_DTYPE_BF16) return vload_bf16((const uint16_t *)base + i);
    if (dtype == VLM_DTYPE_F16) return vload_f16((const uint16_t *)base + i);
    return vload((const float *)base + i);
}

/* n elements of an F32/F16/BF16 array from start, as f32. */
static void to_f32(vlm_dtype dtype, const void *base, int64_t start, int64_t n, float *out) {
    int64_t k = 0;
    for (; k + LANES <= n; k += LANES) vstore(out + k, load_dense(dtype, base, start + k));
    for (; k < n; k++) out[k] = linear_load_float(dtype, base, start + k);
}

/* Scales (bias 0) or biases (bias 1) of groups [g0, g0 + n) of W row r
 * as f32: contiguous in the original arrays, every eighth element of
 * quad_params. */
static void row_params_f32(const vlm_weight *w, int64_t r, int64_t g0, int64_t n, int bias, float *out) {
    if (!w->quad_params) {
        to_f32(w->scale_dtype, bias ? w->biases : w->scales, r * (w->cols / w->group_size) + g0, n, out);
        return;
    }
    for (int64_t g = 0; g < n; g++) out[g] = linear_group_param(w, r, g0 + g, bias);
}

/* y for NROWS consecutive W rows starting at r, one x row. */
SIMD_INLINE void gemv_dense_rows(const vlm_gemv_args *a, vlm_dtype dtype, int64_t r, int64_t i,
                                 const int NROWS) {
    const vlm_weight *w = a->w;
    const float *x = a->x + i * w->cols;
    VF acc[4] = {vzero(), vzero(), vzero(), vzero()};
    int64_t k = 0;
    for (; k + LANES <= w->cols; k += LANES) {
        VF xv = vload(x + k);
        for (int rr = 0; rr < NROWS; rr++) acc[rr] = vfma(load_dense(dtype, w->data, (r + rr) * w->cols + k), xv, acc[rr]);
    }
    for (int rr = 0; rr < NROWS; rr++) {
        float s = vhsum(acc[rr]);
        for (int64_t t = k; t < w->cols; t++) s += linear_load_float(dtype, w->data, (r + rr) * w->cols + t) * x[t];
        a->y[i * w->rows + r + rr] = s + (a->bias ? a->bias[r + rr] : 0.0f);
    }
}

/* Rows outer, x rows inner: a quad of W rows stays in L1 for every x row. */
SIMD_INLINE void gemv_dense(const vlm_gemv_args *a, vlm_dtype dtype, int64_t r0, int64_t r1) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4)
        for (int64_t i = 0; i < a->m; i++) gemv_dense_rows(a, dtype, r, i, 4);
    for (; r < r1; r++)
        for (int64_t i = 0; i < a->m; i++) gemv_dense_rows(a, dtype, r, i, 1);
}

/* ---- quantized weights (2/4/8 bits, code order) ----------------------------- */

/* The codes of one LANES-byte block as PER float vectors (code order). */
SIMD_INLINE void unpack_block(const uint8_t *bytes, const int BITS, VF *codes) {
    const int PER = 8 / BITS;
    VI v = vload_u8(bytes), mask = vset1i((1 << BITS) - 1);
    for (int j = 0; j < PER; j++) {
        VI c = j ? vsrli(v, j * BITS) : v;
        if (j < PER - 1) c = vand(c, mask);
        codes[j] = vcvt(c);
    }
}

/* GEMV form of a 4-bit block: low nibbles and whole bytes (kernel_table.h). */
SIMD_INLINE void unpack_block_q4_gemv(const uint8_t *bytes, VF *codes) {
    VI v = vload_u8(bytes);
    codes[0] = vcvt(vand(v, vset1i(15)));
    codes[1] = vcvt(v);
}

enum { GEMV_GROUP_CHUNK = 512 }; /* groups whose scales are converted at once */

/* ---- 3/5/6-bit rows, natural order ---------------------------------------------
 * ODD_STEP codes (ODD_STEP*bits/8 whole bytes) at a time: every lane picks
 * the two bytes holding its code with a byte shuffle, shifts and masks. */
#define ODD_STEP (LANES > 8 ? LANES : 8)
#define ODD_VECS (ODD_STEP / LANES)

typedef struct odd_unpacker {
    VI ctrl[ODD_VECS], shift[ODD_VECS], mask;
} odd_unpacker;

SIMD_INLINE odd_unpacker odd_unpacker_for(const int BITS) {
    odd_unpacker u;
    for (int v = 0; v < ODD_VECS; v++) {
        int32_t ctrl[LANES], shift[LANES];
        for (int l = 0; l < LANES; l++) {
            int bit = BITS * (v * LANES + l), byte = bit >> 3;
            ctrl[l] = byte | (byte + 1) << 8 | (int32_t)0x80800000u; /* bytes 2, 3 -> 0 */
            shift[l] = bit & 7;
        }
        u.ctrl[v] = vloadi(ctrl);
        u.shift[v] = vloadi(shift);
    }
    u.mask = vset1i((1 << BITS) - 1);
    return u;
}

/* Codes of one step; src must have 16 readable bytes. */
SIMD_INLINE void unpack_odd(const odd_unpacker *u, const uint8_t *src, VF *codes) {
    VI bytes = vbroadcast16(src);
    for (int v = 0; v < ODD_VECS; v++)
        codes[v] = vcvt(vand(vsrlv(vshuffle(bytes, u->ctrl[v]), u->shift[v]), u->mask));
}

/* One past the last byte of a quantized weight's codes. */
SIMD_INLINE const uint8_t *w_end(const vlm_weight *w, const int BITS) {
    return (const uint8_t *)w->data + w->rows * (w->cols * BITS / 8);
}

/* src, or a zero-padded copy of it when fewer than 16 bytes remain. */
SIMD_INLINE const uint8_t *odd_source(const uint8_t *src, const uint8_t *end, int step_bytes,
                                      uint8_t *spare) {
    if (end - src >= 16) return src;
    memset(spare, 0, 16);
    memcpy(spare, src, (size_t)step_bytes);
    return spare;
}

SIMD_INLINE void dequant_odd(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out,
                             const int BITS) {
    odd_unpacker u = odd_unpacker_for(BITS);
    const uint8_t *row = (const uint8_t *)w->data + r * (w->cols * BITS / 8), *end = w_end(w, BITS);
    uint8_t spare[16];
    for (int64_t g = k0 / w->group_size; g * w->group_size < k1; g++) {
        VF s = vset1(linear_group_scale(w, r, g)), b = vset1(linear_group_bias(w, r, g));
        for (int64_t k = g * w->group_size; k < (g + 1) * w->group_size; k += ODD_STEP) {
            VF codes[ODD_VECS];
            unpack_odd(&u, odd_source(row + k * BITS / 8, end, ODD_STEP * BITS / 8, spare), codes);
            for (int v = 0; v < ODD_VECS; v++) vstore(out + k - k0 + v * LANES, vfma(codes[v], s, b));
        }
    }
}

/* y for NROWS W rows from r, one x row: per group s*sum(x q) + b*sum(x).
 * 2/4/8 bits come in code order, 3/5/6 bits in natural order. Scales and biases are converted to f32 a chunk of groups at a time, so
 * the inner loop only broadcasts a float per group and row. */
SIMD_INLINE void gemv_quant_rows(const vlm_gemv_args *a, const odd_unpacker *u, int64_t r, int64_t i,
                                 const int BITS, const int NROWS) {
    const int ODD = BITS == 3 || BITS == 5 || BITS == 6, PER = ODD ? 1 : 8 / BITS;
    const int STEP = ODD ? ODD_STEP : LANES * PER; /* codes per unpack */
    const uint8_t *end = (const uint8_t *)w_end(a->w, BITS);
    uint8_t spare[16];
    const vlm_weight *w = a->w;
    const int64_t row_bytes = w->cols * BITS / 8, groups = w->cols / w->group_size;
    const float *x = a->x + i * w->cols, *xsum = a->xsum + i * groups;
    const uint8_t *rows = (const uint8_t *)w->data + r * row_bytes;
    VF acc[4] = {vzero(), vzero(), vzero(), vzero()};
    float bias_terms[4] = {0, 0, 0, 0}, sb[4 * GEMV_GROUP_CHUNK];
    for (int64_t g0 = 0; g0 < groups; g0 += GEMV_GROUP_CHUNK) {
        int64_t ng = groups - g0 < GEMV_GROUP_CHUNK ? groups - g0 : GEMV_GROUP_CHUNK;
        for (int rr = 0; rr < NROWS; rr++)
            row_params_f32(w, r + rr, g0, ng, 0, sb + rr * ng);
        for (int64_t g = g0; g < g0 + ng; g++) {
            VF part[4] = {vzero(), vzero(), vzero(), vzero()};
            for (int64_t k = g * w->group_size; k < (g + 1) * w->group_size; k += STEP) {
                const int NV = ODD ? ODD_VECS : PER; /* vectors per unpack */
                VF xv[4];
                for (int j = 0; j < NV; j++) xv[j] = vload(x + k + j * LANES);
                for (int rr = 0; rr < NROWS; rr++) {
                    VF codes[4];
                    const uint8_t *bytes = rows + rr * row_bytes + (uint64_t)k * BITS / 8;
                    if (ODD) unpack_odd(u, odd_source(bytes, end, STEP * BITS / 8, spare), codes);
                    else if (BITS == 4) unpack_block_q4_gemv(bytes, codes);
                    else unpack_block(bytes, BITS, codes);
                    for (int j = 0; j < NV; j++) part[rr] = vfma(codes[j], xv[j], part[rr]);
                }
            }
            for (int rr = 0; rr < NROWS; rr++) acc[rr] = vfma(vset1(sb[rr * ng + g - g0]), part[rr], acc[rr]);
        }
        for (int rr = 0; rr < NROWS; rr++) {
            row_params_f32(w, r + rr, g0, ng, 1, sb + rr * ng);
            bias_terms[rr] += simd_dot(sb + rr * ng, xsum + g0, ng);
        }
    }
    for (int rr = 0; rr < NROWS; rr++)
        a->y[i * w->rows + r + rr] = vhsum(acc[rr]) + bias_terms[rr] + (a->bias ? a->bias[r + rr] : 0.0f);
}

SIMD_INLINE void gemv_quant(const vlm_gemv_args *a, int64_t r0, int64_t r1, const int BITS) {
    odd_unpacker u = odd_unpacker_for(BITS);
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4)
        for (int64_t i = 0; i < a->m; i++) gemv_quant_rows(a, &u, r, i, BITS, 4);
    for (; r < r1; r++)
        for (int64_t i = 0; i < a->m; i++) gemv_quant_rows(a, &u, r, i, BITS, 1);
}

static void simd_gemv(const vlm_gemv_args *a, int64_t r0, int64_t r1) {
    switch (vlm_weight_is_quantized(a->w) ? a->w->bits : 0) {
    case 2: gemv_quant(a, r0, r1, 2); break;
    case 4: gemv_quant(a, r0, r1, 4); break;
    case 8: gemv_quant(a, r0, r1, 8); break;
    case 3: gemv_quant(a, r0, r1, 3); break;
    case 5: gemv_quant(a, r0, r1, 5); break;
    case 6: gemv_quant(a, r0, r1, 6); break;
    default:
        if (a->w->dtype == VLM_DTYPE_BF16) gemv_dense(a, VLM_DTYPE_BF16, r0, r1);
        else if (a->w->dtype == VLM_DTYPE_F16) gemv_dense(a, VLM_DTYPE_F16, r0, r1);
        else gemv_dense(a, VLM_DTYPE_F32, r0, r1);
    }
}

/* ---- GEMM panel unpacking ------------------------------------------------------ */

SIMD_INLINE void dequant_quant(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out,
                               const int BITS) {
    const int PER = 8 / BITS;
    const uint8_t *row = (const uint8_t *)w->data + r * (w->cols * BITS / 8);
    for (int64_t g = k0 / w->group_size; g * w->group_size < k1; g++) {
        VF s = vset1(linear_group_scale(w, r, g)), b = vset1(linear_group_bias(w, r, g));
        for (int64_t k = g * w->group_size; k < (g + 1) * w->group_size; k += LANES * PER) {
            VF codes[4];
            unpack_block(row + k * BITS / 8, BITS, codes);
            for (int j = 0; j < PER; j++) vstore(out + k - k0 + j * LANES, vfma(codes[j], s, b));
        }
    }
}

static void simd_dequant(const vlm_weight *w, int64_t r, int64_t k0, int64_t k1, float *out) {
    if (vlm_weight_is_quantized(w)) {
        if (w->bits == 3) dequant_odd(w, r, k0, k1, out, 3);
        else if (w->bits == 5) dequant_odd(w, r, k0, k1, out, 5);
        else if (w->bits == 6) dequant_odd(w, r, k0, k1, out, 6);
        else if (!linear_code_block(&SIMD_TABLE, w)) linear_dequant_natural(w, r, k0, k1, out);
        else if (w->bits == 2) dequant_quant(w, r, k0, k1, out, 2);
        else if (w->bits == 4) dequant_quant(w, r, k0, k1, out, 4);
        else dequant_quant(w, r, k0, k1, out, 8);
        return;
    }
    to_f32(w->dtype, w->data, r * w->cols + k0, k1 - k0, out);
}

/* ---- GEMM micro-kernel: MR x rows by 2*LANES W rows, 2*MR accumulators ------ */

SIMD_INLINE void gemm_tile_fixed(int64_t kc, const float *a, int64_t lda, const float *panel,
                                 float *c, int64_t ldc, int accumulate, const int MR) {
    VF acc[GEMM_MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = vzero();
    for (int64_t k = 0; k < kc; k++) {
        VF b0 = vload(panel + k * GEMM_NR), b1 = vload(panel + k * GEMM_NR + LANES);
        for (int i = 0; i < MR; i++) {
            VF av = vset1(a[i * lda + k]);
            acc[i][0] = vfma(av, b0, acc[i][0]);
            acc[i][1] = vfma(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < MR; i++) {
        if (accumulate) {
            acc[i][0] = vadd(acc[i][0], vload(c + i * ldc));
            acc[i][1] = vadd(acc[i][1], vload(c + i * ldc + LANES));
        }
        vstore(c + i * ldc, acc[i][0]);
        vstore(c + i * ldc + LANES, acc[i][1]);
    }
}

static void gemm_tile_rows(int64_t mr, int64_t kc, const float *a, int64_t lda, const float *panel,
                           float *c, int64_t ldc, int accumulate) {
    switch (mr) {
#define TILE_CASE(n) case n: gemm_tile_fixed(kc, a, lda, panel, c, ldc, accumulate, n); break;
    TILE_CASE(1) TILE_CASE(2) TILE_CASE(3) TILE_CASE(4) TILE_CASE(5) TILE_CASE(6)
#if GEMM_MR >= 8
    TILE_CASE(7) TILE_CASE(8)
#endif
#if GEMM_MR >= 12
    TILE_CASE(9) TILE_CASE(10) TILE_CASE(11) TILE_CASE(12)
#endif
#undef TILE_CASE
    default: break;
    }
}

static void simd_gemm_tile(int64_t mr, int64_t nr, int64_t kc, const float *a, int64_t lda,
                           const float *panel, float *c, int64_t ldc, int accumulate) {
    if (nr == GEMM_NR) {
        gemm_tile_rows(mr, kc, a, lda, panel, c, ldc, accumulate);
        return;
    }
    float tile[GEMM_MR * GEMM_NR]; /* ragged W edge: compute full width, keep nr */
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) tile[i * GEMM_NR + j] = accumulate ? c[i * ldc + j] : 0.0f;
    gemm_tile_rows(mr, kc, a, lda, panel, tile, GEMM_NR, 1);
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) c[i * ldc + j] = tile[i * GEMM_NR + j];
}

const vlm_kernel_table SIMD_TABLE = {
    .isa = SIMD_ISA_NAME,
    .lanes = LANES,
    .odd_bits = 1,
    .gemm_mr = GEMM_MR,
    .gemm_nr = GEMM_NR,
    .gemv = simd_gemv,
    .dequant = simd_dequant,
    .gemm_tile = simd_gemm_tile,
    .dot = simd_dot,
    .attn_scores = simd_attn_scores,
    .attn_mix = simd_attn_mix,
    .exp_sum = simd_exp_sum,
    .sigmoid_gate = simd_sigmoid_gate,
    .gelu_tanh = simd_gelu_tanh,
    .gemv_q8 = SIMD_GEMV_Q8,
    .quantize_q8 = SIMD_QUANTIZE_Q8,
    .q4_planes = SIMD_Q4_PLANES,
};
