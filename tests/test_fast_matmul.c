/* test_fast_matmul.c — the integer matmul (int8 activations, fast mode).
 *
 * (1) vlm_linear in fast mode against a double-precision product with the
 *     exact f32 activations, within the error int8 rounding can cause:
 *     |x - d x8| <= d/2 per column, so per output the error is at most
 *     sum_k (d_block(k) / 2) |s_g q_k| (the bias term is exact), plus f32
 *     rounding;
 * (2) each SIMD kernel set against the plain-C version of the same int8
 *     algorithm (same integers, only the f32 summation order differs);
 * (3) the precision switch: precise mode gives the f32 path exactly;
 * (4) regrouping scales by quads of rows (quad_params, which fast mode
 *     needs) changes no number of any other path.
 * References always use the weight as MLX stores it, unpacked.
 * Shapes cover 4 and 8 bits, groups 32/64/128, f32/bf16/f16 scales, rows
 * that are not whole 64-column chunks (fast mode takes the f32 path), W
 * rows not a multiple of four, m = 1..41. */
#include "core/kernel_table.h"
#include "test.h"
#include "test_qweight.h"


/* Independent reference: the dequantized weight in double, and the int8
 * error bound of the header comment. */
static void reference(const vlm_weight *w, const float *x, int64_t m, const float *bias,
                      double *y, double *bound) {
    float *wf = malloc((size_t)(w->rows * w->cols) * sizeof(float));
    vlm_dequantize(w, wf);
    for (int64_t i = 0; i < m; i++) {
        const float *xi = x + i * w->cols;
        for (int64_t r = 0; r < w->rows; r++) {
            double acc = bias[r], err = 0, mag = 0;
            for (int64_t b0 = 0; b0 < w->cols; b0 += LINEAR_Q8_BLOCK) {
                double amax = 0, sq = 0;
                int64_t b1 = b0 + LINEAR_Q8_BLOCK < w->cols ? b0 + LINEAR_Q8_BLOCK : w->cols;
                for (int64_t k = b0; k < b1; k++) amax = fmax(amax, fabs(xi[k]));
                for (int64_t k = b0; k < b1; k++) {
                    int64_t g = r * (w->cols / w->group_size) + k / w->group_size;
                    double s = w->scale_dtype == VLM_DTYPE_F32 ? ((const float *)w->scales)[g]
                               : w->scale_dtype == VLM_DTYPE_BF16 ? bf16_to_f32(((const uint16_t *)w->scales)[g])
                                                                 : f16_to_f32(((const uint16_t *)w->scales)[g]);
                    double bb = w->scale_dtype == VLM_DTYPE_F32 ? ((const float *)w->biases)[g]
                                : w->scale_dtype == VLM_DTYPE_BF16 ? bf16_to_f32(((const uint16_t *)w->biases)[g])
                                                                  : f16_to_f32(((const uint16_t *)w->biases)[g]);
                    double wk = wf[r * w->cols + k];
                    acc += wk * xi[k];
                    sq += fabs(wk - bb); /* |s q_k| */
                    mag += fabs(wk * xi[k]) + fabs(s) * 255.0 * fabs(xi[k]);
                }
                err += amax / 127.0 / 2.0 * sq;
            }
            y[i * w->rows + r] = acc;
            bound[i * w->rows + r] = err * 1.0001 + 2e-6 * mag + 1e-6;
        }
    }
    free(wf);
}

/* Fast vlm_linear under the current kernel set against the reference. */
static void check_fast_vs_exact(const qweight *q, int64_t m, const char *what) {
    const vlm_weight *w = &q->w;
    float *x = make_x(m, w->cols), *y = malloc((size_t)(m * w->rows) * sizeof(float));
    float *bias = malloc((size_t)w->rows * sizeof(float));
    double *yr = malloc((size_t)(m * w->rows) * sizeof(double)), *bound = malloc((size_t)(m * w->rows) * sizeof(double));
    for (int64_t r = 0; r < w->rows; r++) bias[r] = rng_uniform();
    reference(w, x, m, bias, yr, bound);
    vlm_linear(y, x, m, &q->packed, bias);
    int bad = 0;
    double worst = 0;
    for (int64_t i = 0; i < m * w->rows; i++) {
        double e = fabs(y[i] - yr[i]);
        if (!(e <= bound[i])) bad++;
        if (e / bound[i] > worst) worst = e / bound[i];
    }
    CHECKF(bad == 0, "%s m=%lld isa=%s: %d outputs beyond the int8 bound (worst %.2fx)", what,
           (long long)m, vlm_kernels_isa(), bad, worst);
    free(x);
    free(y);
    free(bias);
    free(yr);
    free(bound);
}

static const int64_t ms[] = {1, 3, 7, 41, 150}; /* 41: two x-row tiles, pairs and a lone row; 150: a prefill */
static const char *const isas[] = {"avx512", "avx2", "neon", "scalar"};

static void test_fast_within_int8_bound(void) {
    vlm_set_fast_matmul(1);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        qweight q = make_weight(shapes[s].bits, shapes[s].group, shapes[s].sdtype, shapes[s].rows, shapes[s].cols);
        char what[64];
        snprintf(what, sizeof what, "q%d g%d %lldx%lld", shapes[s].bits, shapes[s].group,
                 (long long)shapes[s].rows, (long long)shapes[s].cols);
        for (size_t k = 0; k < sizeof isas / sizeof *isas; k++) {
            if (!vlm_kernels_select(isas[k])) continue;
            CHECK(vlm_kernels_active()->gemv_q8 != NULL || strcmp(isas[k], "neon") == 0);
            for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) check_fast_vs_exact(&q, ms[mi], what);
        }
        free_weight(&q);
    }
    vlm_kernels_force_scalar(0);
}

/* Every SIMD set's integer kernel against the plain-C one on the same
 * quantized activations (the set's own, with whatever extra layout it
 * builds; its codes and scales are the plain-C quantizer's, see below):
 * same integers, f32 sums in another order; one x row (decode) and
 * several. */
static void test_simd_matches_scalar_int8(void) {
    for (size_t s = 0; s < 2 * sizeof shapes / sizeof *shapes; s++) { /* each shape with m = 1, then 5 */
        const shape *sh = &shapes[s / 2];
        qweight q = make_weight(sh->bits, sh->group, sh->sdtype, sh->rows, sh->cols);
        const vlm_weight *w = &q.w;
        CHECK(!linear_q8_supports(w)); /* not without quad_params */
        if (!linear_q8_supports(&q.packed)) { /* rows not whole chunks: fast mode takes the f32 path */
            free_weight(&q);
            continue;
        }
        int64_t m = s % 2 ? 5 : 1, n = m * w->rows;
        float *x = make_x(m, w->cols);
        float *y_ref = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
        for (size_t k = 0; k + 1 < sizeof isas / sizeof *isas; k++) {
            if (!vlm_kernels_select(isas[k]) || !vlm_kernels_active()->gemv_q8) continue;
            vlm_q8_acts acts;
            CHECK(linear_q8_quantize(vlm_kernels_active(), &acts, x, m, w));
            vlm_q8_args a = {w, &acts, y_ref, NULL}, ap = {&q.packed, &acts, y, NULL};
            linear_q8_gemv_scalar(&a, 0, w->rows);
            vlm_kernels_active()->gemv_q8(&ap, 0, w->rows);
            double scale = 0;
            for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(y_ref[i]));
            double diff = test_max_abs_diff(y, y_ref, (size_t)n);
            CHECKF(diff <= 1e-5 * scale + 1e-6, "shape %zu m=%lld isa %s: max diff %g (scale %g)", s / 2,
                   (long long)m, isas[k], diff, scale);
            linear_q8_acts_free(&acts);
        }
        free(x);
        free(y_ref);
        free(y);
        free_weight(&q);
    }
    vlm_kernels_force_scalar(0);
}

/* Every SIMD quantizer gives the plain-C one's codes and block scales
 * exactly (same max, product and rounding) and its group sums up to f32
 * summation order, in both code orders. */
static void test_simd_quantizer_matches_scalar(void) {
    const int64_t m = 3, cols = 640, n_groups = m * cols / 64;
    float *x = make_x(m, cols);
    for (int bits = 4; bits <= 8; bits += 4) {
        vlm_weight w = {.dtype = VLM_DTYPE_U32, .rows = 1, .cols = cols, .bits = bits, .group_size = 64};
        vlm_q8_acts ref, got;
        CHECK(linear_q8_quantize(&vlm_kernels_scalar, &ref, x, m, &w));
        for (size_t k = 0; k + 1 < sizeof isas / sizeof *isas; k++) {
            if (!vlm_kernels_select(isas[k]) || !vlm_kernels_active()->quantize_q8) continue;
            CHECK(linear_q8_quantize(vlm_kernels_active(), &got, x, m, &w));
            CHECKF(memcmp(got.q, ref.q, (size_t)(m * cols)) == 0, "%s q%d: codes differ", isas[k], bits);
            CHECKF(memcmp(got.d, ref.d, (size_t)(m * cols / LINEAR_Q8_BLOCK) * sizeof(float)) == 0,
                   "%s q%d: block scales differ", isas[k], bits);
            for (int64_t g = 0; g < n_groups; g++) CHECK_NEAR(got.xsum[g], ref.xsum[g], 1e-5 * (1 + fabs(ref.xsum[g])));
            linear_q8_acts_free(&got);
        }
        linear_q8_acts_free(&ref);
    }
    free(x);
    vlm_kernels_force_scalar(0);
}

/* Precise mode is the f32 path: bit-identical to it regardless of fast
 * mode's existence, and fast mode really changes the numerics. */
static void test_precise_switch(void) {
    qweight q = make_weight(4, 64, VLM_DTYPE_BF16, 16, 256);
    int64_t m = 2, n = m * q.w.rows;
    float *x = make_x(m, q.w.cols), *yp = malloc((size_t)n * 4), *yf = malloc((size_t)n * 4), *yr = malloc((size_t)n * 4);
    vlm_set_precise(true);
    CHECK(vlm_fast_matmul() == 0);
    vlm_linear(yp, x, m, &q.packed, NULL);
    vlm_linear_ref(yr, x, m, &q.w, NULL);
    vlm_set_precise(false);
    CHECK(vlm_fast_matmul() == 1);
    vlm_linear(yf, x, m, &q.packed, NULL);
    double scale = 0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(yr[i]));
    CHECK(test_max_abs_diff(yp, yr, (size_t)n) <= 1e-5 * scale);
    CHECK(test_max_abs_diff(yf, yp, (size_t)n) > 0);
    free(x);
    free(yp);
    free(yf);
    free(yr);
    free_weight(&q);
}

/* With quad_params every other path reads the same scales: precise GEMV
 * and GEMM, the reference, and dequantization give identical numbers. */
static void test_quads_change_nothing(void) {
    vlm_set_precise(true);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        qweight q = make_weight(shapes[s].bits, shapes[s].group, shapes[s].sdtype, shapes[s].rows, shapes[s].cols);
        int64_t n = q.w.rows * q.w.cols, m = 9;
        float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4), *x = make_x(m, q.w.cols);
        vlm_dequantize(&q.w, a);
        vlm_dequantize(&q.packed, b);
        CHECKF(memcmp(a, b, (size_t)n * 4) == 0, "shape %zu: dequantized weights differ", s);
        for (int64_t rows = 1; rows <= m; rows += m - 1) { /* GEMV, GEMM */
            vlm_linear(a, x, rows, &q.w, NULL);
            vlm_linear(b, x, rows, &q.packed, NULL);
            CHECKF(memcmp(a, b, (size_t)(rows * q.w.rows) * 4) == 0, "shape %zu m=%lld: outputs differ", s, (long long)rows);
        }
        vlm_linear_ref(a, x, m, &q.w, NULL);
        vlm_linear_ref(b, x, m, &q.packed, NULL);
        CHECKF(memcmp(a, b, (size_t)(m * q.w.rows) * 4) == 0, "shape %zu: reference outputs differ", s);
        free(a);
        free(b);
        free(x);
        free_weight(&q);
    }
    vlm_set_precise(false);
}

/* 4-bit codes are regrouped (x86) only for a weight packed in fast mode:
 * precise mode reads the original codes, and a model loaded in it keeps
 * them alone instead of holding both. */
static void test_quad_codes_only_in_fast_mode(void) {
    vlm_weight w = {.dtype = VLM_DTYPE_U32, .rows = 5, .cols = 128, .bits = 4, .group_size = 64,
                    .scale_dtype = VLM_DTYPE_BF16};
    uint8_t codes[5 * 64] = {0};
    uint16_t params[5 * 2] = {0};
    w.data = codes, w.scales = params, w.biases = params;
    for (int fast = 0; fast <= 1; fast++) {
        vlm_set_precise(!fast);
        vlm_weight p = w;
        CHECK(vlm_weight_pack_quads(&p) == VLM_OK && p.quad_params != NULL);
        CHECK((p.quad_codes != NULL) == (fast && LINEAR_QUAD_CODES));
        vlm_weight_free_quads(&p);
    }
    vlm_set_precise(false);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) { /* rows read back from the quad codes */
        qweight q = make_weight(shapes[s].bits, shapes[s].group, shapes[s].sdtype, shapes[s].rows, shapes[s].cols);
        int64_t n = q.w.rows * q.w.cols;
        float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
        vlm_dequantize(&q.w, a);
        vlm_dequantize(&q.packed, b);
        CHECKF(memcmp(a, b, (size_t)n * 4) == 0, "shape %zu: rows from the quad codes differ", s);
        free(a);
        free(b);
        free_weight(&q);
    }
}

void run_tests(void) {
    RUN(test_quad_codes_only_in_fast_mode);
    RUN(test_fast_within_int8_bound);
    RUN(test_simd_matches_scalar_int8);
    RUN(test_simd_quantizer_matches_scalar);
    RUN(test_precise_switch);
    RUN(test_quads_change_nothing);
    vlm_set_fast_matmul(1);
}
