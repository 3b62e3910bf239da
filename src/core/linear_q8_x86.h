/*
 * linear_q8_x86.h — the W-row loops of the x86 integer matmul (int8
 * activations x 4/8-bit MLX codes), written once and included by each
 * kernel file: linear_q8_avx2.c (AVX2 dot products),
 * linear_q8_vnni_avx512.c and linear_q8_avxvnni.c (Q8_DPBUSD defined:
 * vpdpbusd on 256-bit vectors, EVEX or VEX encoded). The includer defines
 * Q8_GEMV, the function's name; x comes from linear_q8_quantize_row_avx2;
 * linear_q8_gemv_x86 (linear_avx2.c) picks the variant the CPU runs.
 *
 * W rows go four at a time (a set), so each activation load serves four
 * rows, and the four rows' integer sums of a chunk (64 columns, two
 * blocks) end up in one vector before they become floats,
 * [r0 r1 r2 r3 | r0 r1 r2 r3], the chunk's first block in the low half and
 * its second in the high half (nothing crosses halves), and one conversion
 * and one FMA against the rows' factors (group scale times block scale)
 * accumulate them. Several x rows (a short prompt) go two at a time,
 * sharing each chunk's unpacked weights. A set is a quad of the weight's
 * quad_params (kernels.h): each chunk loads its rows' scales as one run of
 * four (two when groups are 32 columns), the bias terms take two groups
 * per FMA, and the next set's params are prefetched, so a set costs little
 * outside its chunk loop. One x row of 4-bit weights in groups of 64
 * (decode of mlx-community's default) has its own software-pipelined loop
 * (set_sums_q4_g64), which also takes the bias terms and the next set's
 * params prefetch into its chunk loop; one x row of 8-bit weights is
 * pipelined too (set_sums_q8_one).
 *
 * 4-bit: the codes come as quad codes (kernel_table.h), the four rows'
 * bytes interleaved a dword at a time, so one _mm256_maddubs_epi16 per
 * nibble plane of a vector (u8 code x s8 activation, pairs summed: at most
 * 2*15*127) leaves each row's sums in its own lanes, against x planes that
 * repeat four x codes once per row. The chunk's eight products add up in
 * i16 (below 30480) and one _mm256_madd_epi16 with ones widens them, with
 * no shuffles of the products: against the rows one after another, whose
 * sums took six unpacks a chunk to fold, the GEMV of 1536-column rows ran
 * 15 % faster on Zen 1 and prefill 5 %. The x planes come ready from
 * memory for rows of up to LINEAR_Q4_PLANES_COLS columns (prefill 3 %
 * faster than broadcasting them for each set), and are broadcast from the
 * x codes in registers for longer rows.
 * 8-bit: codes up to 255 would saturate maddubs, so codes and activations
 * are widened to i16, a block half at a time, and multiplied with
 * _mm256_madd_epi16; the rows' i32 sums are folded by unpacks (fold_i32).
 * With VNNI (Q8_DPBUSD(acc, u8, s8): acc + the sum of four u8 x s8
 * products per i32 lane, no saturation) both widths skip the i16 stage: a
 * 4-bit vector's products land in i32 row lanes directly and an 8-bit
 * row's two block halves go into i32 lanes folded by fold_i32; an 8-bit
 * chunk's x codes are regrouped per block half with one permute.
 */
#ifndef Q8_GEMV
#error "define Q8_GEMV (the kernel's name) before including linear_q8_x86.h"
#endif

#include <immintrin.h>
#include <string.h>

#include "core/kernel_table.h"

#define Q8_INLINE static inline __attribute__((always_inline))

enum { SET = LINEAR_QUAD }; /* W rows per set: a quad of quad_params */

/* One row set (a quad of W rows): its rows (a short last set repeats its
 * last row, as its quad_params do), the next set's codes (prefetched while
 * this one is summed) and the set's scales and biases, [groups][8].
 *
 * The next set's rows follow each other in memory, and they are prefetched
 * in that order, a set's worth of bytes per chunk (SET x the chunk's bytes
 * per row), rather than row by row at the chunk's own columns: one
 * sequential stream instead of four interleaved ones decoded 4-bit weights
 * 10 % faster on Zen 1 (17.8 -> 19.6 tok/s, six alternating runs), most of
 * it on the short rows (1536 columns) of gate, up, q and o. */
typedef struct row_set {
    const uint8_t *rows[SET]; /* 8-bit */
    const uint8_t *codes;     /* 4-bit: the set's quad codes */
    const char *next_codes;  /* the next set's first row or quad codes (this set's for the weight's last) */
    const void *params;
    const char *next_params; /* the next set's (this set's for the weight's last) */
    int64_t chunk_param_bytes; /* a set's params per chunk (at most 64) */
    vlm_dtype dtype; /* of the params */
} row_set;

/* [p[lo..lo+3] | p[hi..hi+3]] as floats from an F32/F16/BF16 array: two
 * runs of four quad params, one per 128-bit half. */
Q8_INLINE __m256 param_pair(vlm_dtype dtype, const void *p, int64_t lo, int64_t hi) {
    if (dtype == VLM_DTYPE_F32) return _mm256_set_m128(_mm_loadu_ps((const float *)p + hi), _mm_loadu_ps((const float *)p + lo));
    const uint16_t *h = p;
    if (dtype == VLM_DTYPE_F16)
        return _mm256_cvtph_ps(_mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)(h + lo)),
                                                  _mm_loadl_epi64((const __m128i *)(const void *)(h + hi))));
    /* bf16 is the top half of an f32: interleave zeros below each value */
    long long four; /* the four params at lo */
    memcpy(&four, h + lo, sizeof four);
    __m256i v = lo == hi ? _mm256_set1_epi64x(four)
                         : _mm256_set_m128i(_mm_loadl_epi64((const __m128i *)(const void *)(h + hi)),
                                            _mm_loadl_epi64((const __m128i *)(const void *)(h + lo)));
    return _mm256_castsi256_ps(_mm256_unpacklo_epi16(_mm256_setzero_si256(), v));
}

/* The rows' scales of chunk c's two blocks, laid out like its folded sums:
 * [block 0 x 4 rows | block 1 x 4 rows]; blocks_log2 = log2(blocks per
 * group). */
Q8_INLINE __m256 chunk_scales(const row_set *rs, int64_t c, int blocks_log2) {
    return param_pair(rs->dtype, rs->params, 8 * (2 * c >> blocks_log2), 8 * ((2 * c + 1) >> blocks_log2));
}

/* [b(g) x4 | b(g+1) x4]: the set's row biases of groups g and g + 1 (in
 * bf16, g's run of eight params and g + 1's are one load: scales in the low
 * words, biases in the high). */
Q8_INLINE __m256 bias_pair(const row_set *rs, int64_t g, vlm_dtype DT) {
    if (DT == VLM_DTYPE_BF16)
        return _mm256_castsi256_ps(_mm256_unpackhi_epi16(
            _mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)(const void *)((const uint16_t *)rs->params + 8 * g))));
    return param_pair(DT, rs->params, 8 * g + 4, 8 * g + 12);
}

/* [b0 b1 b2 b3]: for each row of the set, the sum over groups of its bias
 * times the group sum of x (xs: each four times, so groups g and g + 1 are
 * one load). Two groups per FMA in four chains: one chain left prefill
 * waiting on FMA latency after every set (7 % of its time). */
Q8_INLINE __m128 bias_sums(const row_set *rs, const float *xs, int64_t groups, vlm_dtype DT) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    int64_t g = 0;
    for (; g + 8 <= groups; g += 8)
        for (int k = 0; k < 4; k++)
            acc[k] = _mm256_fmadd_ps(bias_pair(rs, g + 2 * k, DT), _mm256_loadu_ps(xs + 4 * (g + 2 * k)), acc[k]);
    for (; g + 2 <= groups; g += 2) acc[0] = _mm256_fmadd_ps(bias_pair(rs, g, DT), _mm256_loadu_ps(xs + 4 * g), acc[0]);
    __m256 all = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    __m128 sums = _mm_add_ps(_mm256_castps256_ps128(all), _mm256_extractf128_ps(all, 1));
    if (g < groups) /* the last group alone */
        sums = _mm_fmadd_ps(_mm256_castps256_ps128(param_pair(DT, rs->params, 8 * g + 4, 8 * g + 4)),
                            _mm_loadu_ps(xs + 4 * g), sums);
    return sums;
}

/* bias_sums with the params' dtype a constant in each copy. */
static __m128 bias_terms(const vlm_weight *w, const row_set *rs, const float *xs) {
    int64_t groups = w->cols / w->group_size;
    if (rs->dtype == VLM_DTYPE_BF16) return bias_sums(rs, xs, groups, VLM_DTYPE_BF16);
    if (rs->dtype == VLM_DTYPE_F16) return bias_sums(rs, xs, groups, VLM_DTYPE_F16);
    return bias_sums(rs, xs, groups, VLM_DTYPE_F32);
}

/* `lines` cache lines of the next set's codes from byte `from` (a
 * constant count, so the calls unroll: a loop here cost 9 % of decode).
 * The set's rows follow each other, so chunk c of a set goes with bytes
 * [SET x B x c, SET x B x (c + 1)) of the next one, B the chunk's bytes
 * per row. */
Q8_INLINE void prefetch_next_codes(const row_set *rs, int64_t from, const int lines) {
    for (int i = 0; i < lines; i++) _mm_prefetch(rs->next_codes + from + 64 * i, _MM_HINT_T0);
}

/* With one x row, the next set's params go a line at a time along with
 * its codes, those of chunks c and c + 1 here: all of them at the start of
 * a set (prefetch_params) stalled on the line-fill buffers (4-bit
 * 8960x1536, one thread: 18.5 against 19.7 weights/ns; 8-bit decode 0.5
 * to 2.6 % faster in two alternating runs). */
Q8_INLINE void prefetch_next_params(const row_set *rs, int64_t c) {
    const char *p = rs->next_params + rs->chunk_param_bytes * c;
    _mm_prefetch(p, _MM_HINT_T0);
    if (rs->chunk_param_bytes > 32) _mm_prefetch(p + 64, _MM_HINT_T0);
}

/* A 32-byte vector of 4-bit codes split into its low and high nibbles
 * (masking before the shift lets both planes start from the loaded bytes,
 * which measured faster on Zen 1 than shift-then-mask). */
Q8_INLINE void q4_split(const uint8_t *bytes, __m256i *lo, __m256i *hi) {
    const __m256i nib = _mm256_set1_epi8(15);
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)bytes);
    *lo = _mm256_and_si256(v, nib);
    *hi = _mm256_srli_epi16(_mm256_andnot_si256(nib, v), 4);
}

/* [r0 r1 r2 r3 | r0 r1 r2 r3]: four rows' i32 lanes folded (unpacks:
 * vphaddd costs 3 cycles on Zen 1). */
Q8_INLINE __m256i fold_i32(const __m256i s[SET]) {
    __m256i a = _mm256_add_epi32(_mm256_unpacklo_epi32(s[0], s[1]), _mm256_unpackhi_epi32(s[0], s[1]));
    __m256i b = _mm256_add_epi32(_mm256_unpacklo_epi32(s[2], s[3]), _mm256_unpackhi_epi32(s[2], s[3]));
    return _mm256_add_epi32(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));
}

/* 4-bit weights come as quad codes (kernel_table.h): each 32-byte vector
 * of a chunk holds, in each half, four columns of each of the set's rows
 * in row order, so its products with x land in the lanes of the rows
 * already. x plane p of a chunk (p < 8) is dword p & 3 of each half of its
 * even codes (p < 4) or odd codes, broadcast: vector v's low nibbles pair
 * with plane v, its high nibbles with plane v + 4. */

/* One vector's products with its two x planes: i16 pair sums (i32 with
 * VNNI), two lanes per row and half. */
Q8_INLINE __m256i q4_vector_products(__m256i lo, __m256i hi, __m256i xe, __m256i xo) {
#ifdef Q8_DPBUSD
    return Q8_DPBUSD(Q8_DPBUSD(_mm256_setzero_si256(), lo, xe), hi, xo);
#else
    return _mm256_add_epi16(_mm256_maddubs_epi16(lo, xe), _mm256_maddubs_epi16(hi, xo));
#endif
}

Q8_INLINE __m256i q4_add(__m256i a, __m256i b) {
#ifdef Q8_DPBUSD
    return _mm256_add_epi32(a, b);
#else
    return _mm256_add_epi16(a, b); /* eight pair sums: at most 8 * 2 * 15 * 127 = 30480 */
#endif
}

/* [r0 r1 r2 r3 | r0 r1 r2 r3] i32 from a chunk's summed vector products. */
Q8_INLINE __m256i q4_widen(__m256i s) {
#ifdef Q8_DPBUSD
    return s;
#else
    return _mm256_madd_epi16(s, _mm256_set1_epi16(1));
#endif
}

/* The products of a chunk's four code vectors (codes) with its x planes
 * X[0..7], summed, before q4_widen. */
Q8_INLINE __m256i q4_chunk_sums(const uint8_t *codes, const __m256i X[8]) {
    __m256i t[4];
    for (int v = 0; v < 4; v++) {
        __m256i lo, hi;
        q4_split(codes + 32 * v, &lo, &hi);
        t[v] = q4_vector_products(lo, hi, X[v], X[4 + v]);
    }
    return q4_add(q4_add(t[0], t[1]), q4_add(t[2], t[3]));
}

/* Dword v of each half of a, broadcast within the half (an immediate per
 * case, so that unoptimized builds compile too). */
Q8_INLINE __m256i dword_broadcast(__m256i a, const int v) {
    switch (v) {
    case 0: return _mm256_shuffle_epi32(a, 0x00);
    case 1: return _mm256_shuffle_epi32(a, 0x55);
    case 2: return _mm256_shuffle_epi32(a, 0xaa);
    default: return _mm256_shuffle_epi32(a, 0xff);
    }
}

/* The x planes of a chunk from its 64 codes. */
Q8_INLINE void q4_x_planes(const int8_t *xc, __m256i X[8]) {
    __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)xc);
    __m256i o = _mm256_loadu_si256((const __m256i *)(const void *)(xc + 32));
    for (int v = 0; v < 4; v++) {
        X[v] = dword_broadcast(e, v);
        X[4 + v] = dword_broadcast(o, v);
    }
}

#ifdef Q8_DPBUSD
enum { Q8_VECS = 2 }; /* vectors per 8-bit chunk row */

/* Row k's bytes of 8-bit chunk c as two vectors, j = 0, 1: bytes
 * 16j..16j+15 of the chunk's first block (low half) and of its second
 * (high half). */
Q8_INLINE void q8_planes(const row_set *rs, int k, int64_t c, __m256i v[Q8_VECS]) {
    const uint8_t *bytes = rs->rows[k] + c * 64;
    prefetch_next_codes(rs, SET * 64 * c + 64 * k, 1);
    for (int j = 0; j < 2; j++)
        v[j] = _mm256_loadu2_m128i((const __m128i *)(const void *)(bytes + 32 + 16 * j),
                                   (const __m128i *)(const void *)(bytes + 16 * j));
}

/* x codes of a chunk laid out like q8_planes: its runs of eight
 * (linear_q8_index) regrouped into block halves. */
Q8_INLINE void q8_codes(const int8_t *xc, __m256i x[Q8_VECS]) {
    for (int j = 0; j < 2; j++)
        x[j] = _mm256_permute4x64_epi64(_mm256_loadu_si256((const __m256i *)(const void *)(xc + 32 * j)), 0xd8);
}

Q8_INLINE __m256i q8_dot(const __m256i v[Q8_VECS], const __m256i x[Q8_VECS]) {
    return Q8_DPBUSD(Q8_DPBUSD(_mm256_setzero_si256(), v[0], x[0]), v[1], x[1]);
}
#else
enum { Q8_VECS = 4 };

/* Row k's bytes of 8-bit chunk c widened to i16: u[j] holds bytes
 * 8j..8j+7 of the chunk's first block (low half) and of its second (high
 * half), which pair with x codes 16j..16j+15 (linear_q8_index). */
Q8_INLINE void q8_planes(const row_set *rs, int k, int64_t c, __m256i u[Q8_VECS]) {
    const __m256i zero = _mm256_setzero_si256();
    const uint8_t *bytes = rs->rows[k] + c * 64;
    prefetch_next_codes(rs, SET * 64 * c + 64 * k, 1);
    for (int j = 0; j < 2; j++) {
        __m256i v = _mm256_loadu2_m128i((const __m128i *)(const void *)(bytes + 32 + 16 * j),
                                        (const __m128i *)(const void *)(bytes + 16 * j));
        u[2 * j] = _mm256_unpacklo_epi8(v, zero);
        u[2 * j + 1] = _mm256_unpackhi_epi8(v, zero);
    }
}

/* x codes of a chunk widened to i16. */
Q8_INLINE void q8_codes(const int8_t *xc, __m256i x[Q8_VECS]) {
    for (int j = 0; j < 4; j++) x[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(xc + 16 * j)));
}

Q8_INLINE __m256i q8_dot(const __m256i u[Q8_VECS], const __m256i x[Q8_VECS]) {
    __m256i a = _mm256_add_epi32(_mm256_madd_epi16(u[0], x[0]), _mm256_madd_epi16(u[1], x[1]));
    __m256i b = _mm256_add_epi32(_mm256_madd_epi16(u[2], x[2]), _mm256_madd_epi16(u[3], x[3]));
    return _mm256_add_epi32(a, b);
}

#endif
/* Folded sums of chunk c of the set's rows with NX x rows (codes xq[j];
 * for 4-bit weights, their planes from memory when planes is not NULL,
 * the rows' planes cols / 8 vectors apart), the chunk's weight vectors
 * (4-bit) or planes (8-bit) unpacked once for all of them. */
Q8_INLINE void chunk_folds(const row_set *rs, const int8_t *const xq[2], const __m256i *planes, int64_t cols, int64_t c,
                           const int NX, const int BITS, __m256i out[2]) {
    if (BITS == 4) { /* vector by vector */
        const uint8_t *codes = rs->codes + 128 * c;
        prefetch_next_codes(rs, SET * 32 * c, SET * 32 / 64);
        __m256i e[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()}, o[2] = {e[0], e[0]}, acc[2];
        for (int j = 0; j < NX && !planes; j++) {
            e[j] = _mm256_loadu_si256((const __m256i *)(const void *)(xq[j] + c * 64));
            o[j] = _mm256_loadu_si256((const __m256i *)(const void *)(xq[j] + c * 64 + 32));
        }
        for (int v = 0; v < 4; v++) {
            __m256i lo, hi;
            q4_split(codes + 32 * v, &lo, &hi);
            for (int j = 0; j < NX; j++) {
                const __m256i *X = planes ? planes + j * cols / 8 + 8 * c : NULL;
                __m256i t = X ? q4_vector_products(lo, hi, X[v], X[4 + v])
                              : q4_vector_products(lo, hi, dword_broadcast(e[j], v), dword_broadcast(o[j], v));
                acc[j] = v ? q4_add(acc[j], t) : t;
            }
        }
        for (int j = 0; j < NX; j++) out[j] = q4_widen(acc[j]);
    } else { /* one row's planes at a time: all four would not fit the registers */
        __m256i x[2][Q8_VECS], d[2][SET];
        for (int j = 0; j < NX; j++) q8_codes(xq[j] + c * 64, x[j]);
        for (int k = 0; k < SET; k++) {
            __m256i u[Q8_VECS];
            q8_planes(rs, k, c, u);
            for (int j = 0; j < NX; j++) d[j][k] = q8_dot(u, x[j]);
        }
        for (int j = 0; j < NX; j++) out[j] = fold_i32(d[j]);
    }
}

/* The factor of chunk c's folded sums: the rows' scales of its blocks
 * times the x row's block scales (its scale_quads: [d0 x4 | d1 x4] per chunk). */
Q8_INLINE __m256 chunk_factor(__m256 scales, const float *scale_quads, int64_t c) {
    return _mm256_mul_ps(scales, _mm256_loadu_ps(scale_quads + c * 2 * SET));
}

/* The decode case of mlx-community's 4-bit checkpoints (one x row, params
 * in groups of 64, so a chunk is a group and its scales one run of four)
 * is software-pipelined: chunk c's products are formed before chunk
 * c-1's are folded and scaled. The out-of-order window alone overlaps
 * little of a chunk's long dependency chain (loads, products, fold,
 * conversion, FMA); written this way decode runs about 8 % faster on Zen 1
 * (one x row in the other cases keeps set_sums). */
Q8_INLINE __m256i q4_chunk_products(const row_set *rs, const __m256i *planes, const int8_t *xq, int64_t c) {
    if (planes) return q4_chunk_sums(rs->codes + 128 * c, planes + 8 * c);
    __m256i X[8];
    q4_x_planes(xq + 64 * c, X);
    return q4_chunk_sums(rs->codes + 128 * c, X);
}

Q8_INLINE __m256 q4_chunk_scaled(const row_set *rs, __m256i s, int64_t c, const float *f, vlm_dtype DT, __m256 acc) {
    __m256 scales = param_pair(DT, rs->params, 8 * c, 8 * c);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_widen(s)), chunk_factor(scales, f, c), acc);
}

/* The set's sums with one x row, its bias terms included: x's planes
 * come ready from memory (planes, vlm_q8_acts.q4_planes) or, when planes is
 * NULL, are broadcast from its codes xq chunk by chunk; xs holds its group
 * sums four times each, so groups g and g + 1 are one load. */
Q8_INLINE __m256 set_sums_q4_g64(const row_set *rs, const __m256i *planes, const int8_t *xq, const float *f,
                                 const float *xs, int64_t chunks, vlm_dtype DT) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), ab = _mm256_setzero_ps();
    __m256i sa = q4_chunk_products(rs, planes, xq, 0), sb;
    int64_t c = 1;
    for (; c + 2 <= chunks; c += 2) {
        prefetch_next_codes(rs, SET * 32 * (c - 1), 2 * SET * 32 / 64);
        prefetch_next_params(rs, c - 1);
        sb = q4_chunk_products(rs, planes, xq, c);
        a0 = q4_chunk_scaled(rs, sa, c - 1, f, DT, a0);
        ab = _mm256_fmadd_ps(bias_pair(rs, c - 1, DT), _mm256_loadu_ps(xs + 4 * (c - 1)), ab);
        sa = q4_chunk_products(rs, planes, xq, c + 1);
        a1 = q4_chunk_scaled(rs, sb, c, f, DT, a1);
    }
    for (int64_t o = SET * 32 * (c - 1); o < SET * 32 * chunks; o += 64) prefetch_next_codes(rs, o, 1);
    if (c < chunks) {
        sb = q4_chunk_products(rs, planes, xq, c);
        a1 = q4_chunk_scaled(rs, sb, c, f, DT, a1);
        ab = _mm256_fmadd_ps(bias_pair(rs, c - 1, DT), _mm256_loadu_ps(xs + 4 * (c - 1)), ab);
    } else
        ab = _mm256_fmadd_ps(param_pair(DT, rs->params, 8 * (c - 1) + 4, 8 * (c - 1) + 4),
                             _mm256_set_m128(_mm_setzero_ps(), _mm_set1_ps(xs[4 * (c - 1)])), ab);
    return _mm256_add_ps(_mm256_add_ps(q4_chunk_scaled(rs, sa, c - 1, f, DT, a0), a1), ab);
}

/* The four rows' dots of 8-bit chunk c with one x row, before folding. */
Q8_INLINE void q8_chunk_dots(const row_set *rs, const int8_t *xq, int64_t c, __m256i d[SET]) {
    __m256i x[Q8_VECS];
    q8_codes(xq + c * 64, x);
    for (int k = 0; k < SET; k++) {
        __m256i u[Q8_VECS];
        q8_planes(rs, k, c, u);
        d[k] = q8_dot(u, x);
    }
}

/* acc + chunk c's dots folded, converted and scaled. */
Q8_INLINE __m256 q8_chunk_scaled(const row_set *rs, const __m256i d[SET], int64_t c, const float *f, int blocks_log2,
                                 __m256 acc) {
    __m256 factor = chunk_factor(chunk_scales(rs, c, blocks_log2), f, c);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(fold_i32(d)), factor, acc);
}

/* One x row of 8-bit weights, software-pipelined as set_sums_q4_g64 is:
 * chunk c + 1's dots are formed before chunk c's are folded and scaled
 * (8-bit decode 8.97 -> 9.36 tok/s, four alternating pairs). */
Q8_INLINE __m256 set_sums_q8_one(const row_set *rs, const int8_t *xq, const float *f, int64_t chunks,
                                 int blocks_log2) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256i da[SET], db[SET];
    q8_chunk_dots(rs, xq, 0, da);
    int64_t c = 0;
    for (; c + 2 < chunks; c += 2) {
        prefetch_next_params(rs, c);
        q8_chunk_dots(rs, xq, c + 1, db);
        a0 = q8_chunk_scaled(rs, da, c, f, blocks_log2, a0);
        q8_chunk_dots(rs, xq, c + 2, da);
        a1 = q8_chunk_scaled(rs, db, c + 1, f, blocks_log2, a1);
    }
    a0 = q8_chunk_scaled(rs, da, c, f, blocks_log2, a0);
    if (c + 1 < chunks) {
        q8_chunk_dots(rs, xq, c + 1, db);
        a1 = q8_chunk_scaled(rs, db, c + 1, f, blocks_log2, a1);
    }
    return _mm256_add_ps(a0, a1);
}

/* [r0 r1 r2 r3 | r0 r1 r2 r3] sums of NX x rows (codes xq[j], 4-bit
 * planes from planes when not NULL, block scale quads f[j]) with the set's
 * rows. One x row takes two chunks per step
 * with two accumulators (the chain from the loads to the FMA is long);
 * two x rows give that overlap by themselves and share the unpacking. */
Q8_INLINE void set_sums(const row_set *rs, const int8_t *const xq[2], const __m256i *planes, const float *const f[2],
                        int64_t chunks, int blocks_log2, const int NX, const int BITS, __m256 acc[2]) {
    int64_t cols = chunks * LINEAR_Q8_CHUNK;
    __m256 part[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    acc[0] = acc[1] = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 2 <= chunks; c += 2) {
        __m256i s0[2], s1[2];
        if (NX == 1) prefetch_next_params(rs, c);
        chunk_folds(rs, xq, planes, cols, c, NX, BITS, s0);
        chunk_folds(rs, xq, planes, cols, c + 1, NX, BITS, s1);
        __m256 sc0 = chunk_scales(rs, c, blocks_log2), sc1 = chunk_scales(rs, c + 1, blocks_log2);
        for (int j = 0; j < NX; j++) {
            acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0[j]), chunk_factor(sc0, f[j], c), acc[j]);
            part[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s1[j]), chunk_factor(sc1, f[j], c + 1), part[j]);
        }
    }
    if (c < chunks) {
        __m256i s0[2];
        chunk_folds(rs, xq, planes, cols, c, NX, BITS, s0);
        __m256 sc0 = chunk_scales(rs, c, blocks_log2);
        for (int j = 0; j < NX; j++) acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s0[j]), chunk_factor(sc0, f[j], c), acc[j]);
    }
    for (int j = 0; j < NX; j++) acc[j] = _mm256_add_ps(acc[j], part[j]);
}

/* Whether one x row takes set_sums_q4_g64. */
static int q4_g64(const vlm_weight *w) { return w->bits == 4 && w->group_size == 64; }

/* set_sums_q4_g64 with the params' dtype a constant in each copy (and,
 * inlined, with planes NULL or not). */
Q8_INLINE __m256 set_sums_q4_g64_dt(const row_set *rs, const __m256i *planes, const int8_t *xq, const float *f,
                                    const float *xs, int64_t chunks) {
    if (rs->dtype == VLM_DTYPE_BF16) return set_sums_q4_g64(rs, planes, xq, f, xs, chunks, VLM_DTYPE_BF16);
    if (rs->dtype == VLM_DTYPE_F16) return set_sums_q4_g64(rs, planes, xq, f, xs, chunks, VLM_DTYPE_F16);
    return set_sums_q4_g64(rs, planes, xq, f, xs, chunks, VLM_DTYPE_F32);
}

/* y of NX x rows from i for the set's rows (the first n are real).
 * Inlined into run_set's two calls so that NX is a constant in both: as a
 * function, gcc kept NX a variable in its one-row copy, whose 8-bit loop
 * then branched on it and spilled (8-bit decode 8.6 -> 10.2 tok/s). */
Q8_INLINE void set_outputs(const vlm_q8_args *a, const row_set *rs, int64_t r, int n, int64_t i, const int NX) {
    const vlm_weight *w = a->w;
    int64_t cols = w->cols, groups = cols / w->group_size, chunks = cols / LINEAR_Q8_CHUNK;
    const int8_t *xq[2] = {a->x->q + i * cols, a->x->q + (i + NX - 1) * cols};
    const float *f[2] = {a->x->scale_quads + i * chunks * 2 * SET,
                         a->x->scale_quads + (i + NX - 1) * chunks * 2 * SET};
    __m256 acc[2];
    int blocks_log2 = w->group_size == 32 ? 0 : w->group_size == 64 ? 1 : 2;
    int fused = NX == 1 && q4_g64(w);
    const float *xs = a->x->xsum_quads + i * groups * SET;
    const __m256i *planes = a->x->q4_planes ? (const __m256i *)(const void *)(a->x->q4_planes + i * cols * 4) : NULL;
    if (fused && planes) acc[0] = set_sums_q4_g64_dt(rs, planes, xq[0], f[0], xs, chunks);
    else if (fused) acc[0] = set_sums_q4_g64_dt(rs, NULL, xq[0], f[0], xs, chunks);
    else if (w->bits == 4 && planes) set_sums(rs, xq, planes, f, chunks, blocks_log2, NX, 4, acc);
    else if (w->bits == 4) set_sums(rs, xq, NULL, f, chunks, blocks_log2, NX, 4, acc);
    else if (NX == 1) acc[0] = set_sums_q8_one(rs, xq[0], f[0], chunks, blocks_log2);
    else set_sums(rs, xq, NULL, f, chunks, blocks_log2, NX, 8, acc);
    for (int j = 0; j < NX; j++) {
        float y[SET];
        __m128 sums = _mm_add_ps(_mm256_castps256_ps128(acc[j]), _mm256_extractf128_ps(acc[j], 1));
        _mm_storeu_ps(y, fused ? sums : _mm_add_ps(sums, bias_terms(w, rs, a->x->xsum_quads + (i + j) * groups * SET)));
        for (int k = 0; k < n; k++) a->y[(i + j) * w->rows + r + k] = y[k] + (a->bias ? a->bias[r + k] : 0.0f);
    }
}

/* The params of set r / SET, requested a set ahead: waiting for them at
 * the start of every set would stall the stream. */
static void prefetch_params(const vlm_weight *w, int64_t r) {
    const char *p = linear_quad_params(w, r);
    size_t bytes = linear_quad_bytes(w);
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
}

/* y for W rows [r, min(r + SET, r1)) against every x row, two at a time. A
 * short last set repeats its last row and drops the copies' outputs. */
static void run_set(const vlm_q8_args *a, row_set *rs, int64_t r, int64_t r1) {
    const vlm_weight *w = a->w;
    int64_t row_bytes = w->cols * w->bits / 8, i = 0;
    int n = r1 - r < SET ? (int)(r1 - r) : SET;
    /* the set after this one, past r1 too: a pool runner's next rows */
    int64_t next = r + SET < w->rows ? r + SET : r;
    if (w->bits == 4) {
        rs->codes = linear_quad_codes(w, r);
        rs->next_codes = (const char *)linear_quad_codes(w, next);
    } else {
        for (int k = 0; k < SET; k++) rs->rows[k] = (const uint8_t *)w->data + (r + (k < n ? k : n - 1)) * row_bytes;
        rs->next_codes = (const char *)w->data + next * row_bytes;
    }
    rs->params = linear_quad_params(w, r);
    rs->next_params = linear_quad_params(w, next);
    if (a->x->m > 1) prefetch_params(w, next); /* else prefetch_next_params */
    for (; i + 2 <= a->x->m; i += 2) set_outputs(a, rs, r, n, i, 2);
    if (i < a->x->m) set_outputs(a, rs, r, n, i, 1);
}

void Q8_GEMV(const vlm_q8_args *a, int64_t r0, int64_t r1) {
    int64_t chunks = a->w->cols / LINEAR_Q8_CHUNK;
    row_set rs = {.dtype = a->w->scale_dtype, .chunk_param_bytes = (int64_t)linear_quad_bytes(a->w) / chunks};
    for (int64_t r = r0; r < r1; r += SET) run_set(a, &rs, r, r1);
}
