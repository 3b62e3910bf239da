/* test_quant_golden.c — MLX affine quantization against mlx's own outputs.
 *
 * fixtures/quant/ holds mx.quantize results for bits {2,3,4,5,6,8} x group
 * {32,64,128} from f32 and bf16 sources (w_q, scales, biases), with
 * mx.dequantize and mx.quantized_matmul outputs (MLX 0.32.2, CPU). Checks:
 * dequantization (exact for f32 scales; for bf16 scales MLX rounds s*q and
 * then +b to bf16 while we keep the f32 value, so the two may differ by half
 * a bf16 ulp of each: 0.5 ulp(s*q) + 0.5 ulp(w), with |s*q| <= |w| + |b|),
 * and vlm_linear / vlm_linear_ref against quantized_matmul for 1 and 5 rows,
 * under every kernel set this CPU runs and the SIMD source at 16 lanes
 * (kernels_wide.h). Plus the QuantizedEmbedding case. */
#include "core/kernels.h"
#include "io/npy.h"
#include "kernels_wide.h"
#include "test.h"


typedef struct qcase {
    npy_array wq, scales, biases;
    vlm_weight w;
} qcase;

static int load_npy(const char *dir, const char *name, npy_array *a) {
    char path[256];
    snprintf(path, sizeof path, "fixtures/quant/%s/%s", dir, name);
    vlm_status st = npy_load(path, a);
    if (st != VLM_OK) fprintf(stderr, "  %s: %s\n", path, vlm_last_error());
    return st == VLM_OK;
}

static float *load_f32(const char *dir, const char *name, size_t *count) {
    npy_array a;
    float *out = NULL;
    if (!load_npy(dir, name, &a)) return NULL;
    if (npy_to_f32(&a, 1, &out) != VLM_OK) out = NULL;
    if (count) *count = a.count;
    npy_free(&a);
    return out;
}

static int load_case(const char *dir, int bits, int group, qcase *c) {
    if (!load_npy(dir, "w_q.npy", &c->wq)) return 0;
    if (!load_npy(dir, "scales.npy", &c->scales) || !load_npy(dir, "biases.npy", &c->biases)) return 0;
    c->w = (vlm_weight){.dtype = VLM_DTYPE_U32, .rows = c->wq.shape[0],
                        .cols = c->wq.shape[1] * 32 / bits, .data = c->wq.data, .bits = bits,
                        .group_size = group,
                        .scale_dtype = c->scales.elem_size == 2 ? VLM_DTYPE_BF16 : VLM_DTYPE_F32,
                        .scales = c->scales.data, .biases = c->biases.data};
    return vlm_weight_validate(&c->w) == VLM_OK;
}

static void free_case(qcase *c) {
    npy_free(&c->wq);
    npy_free(&c->scales);
    npy_free(&c->biases);
}

/* One bf16 ulp of v (the spacing of bf16 values around v). */
static double bf16_ulp(double v) {
    int e;
    frexp(fabs(v) > 1e-30 ? v : 1e-30, &e);
    return ldexp(1.0, e - 8);
}

static void check_dequant(const char *dir, const qcase *c, int bf16) {
    size_t n;
    float *want = load_f32(dir, bf16 ? "dequant.f32.npy" : "dequant.npy", &n);
    CHECK(want && n == (size_t)(c->w.rows * c->w.cols));
    if (!want) return;
    float *got = malloc(n * sizeof(float));
    vlm_dequantize(&c->w, got);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double tol = 0.0;
        if (bf16) { /* MLX: bf16(bf16(s*q) + b); |s*q| <= |w| + |b| */
            int64_t r = (int64_t)i / c->w.cols, g = (int64_t)i % c->w.cols / c->w.group_size;
            double b = bf16_to_f32(((const uint16_t *)c->biases.data)[r * (c->w.cols / c->w.group_size) + g]);
            tol = 0.5 * bf16_ulp(fabs(want[i]) + fabs(b)) + 0.5 * bf16_ulp(want[i]);
        }
        if (!(fabs((double)got[i] - want[i]) <= tol)) bad++;
    }
    CHECKF(bad == 0, "%s: %d of %zu dequantized values off", dir, bad, n);
    float row[256];
    vlm_weight_row(&c->w, 17, row);
    CHECK(!memcmp(row, got + 17 * c->w.cols, (size_t)c->w.cols * sizeof(float)));
    free(got);
    free(want);
}

static double max_abs(const float *v, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(v[i]) > m ? fabs(v[i]) : m;
    return m;
}

static void check_matmul(const char *dir, const qcase *c, const char *xname, const char *yname) {
    size_t nx, ny;
    float *x = load_f32(".", xname, &nx), *want = load_f32(dir, yname, &ny); /* x: shared */
    CHECK(x && want);
    if (!x || !want) goto done;
    int64_t m = (int64_t)(nx / (size_t)c->w.cols);
    CHECK(ny == (size_t)(m * c->w.rows));
    float *got = malloc(ny * sizeof(float));
    double tol = 2e-6 * (1.0 + max_abs(want, ny));
    vlm_linear_ref(got, x, m, &c->w, NULL);
    CHECKF(test_max_abs_diff(got, want, ny) <= tol, "%s %s ref: diff %g", dir, yname,
           test_max_abs_diff(got, want, ny));
    for (size_t i = 0; i < sizeof test_isas / sizeof *test_isas; i++) {
        if (!test_select_isa(test_isas[i])) continue;
        memset(got, 0, ny * sizeof(float));
        vlm_linear(got, x, m, &c->w, NULL);
        CHECKF(test_max_abs_diff(got, want, ny) <= tol, "%s %s %s: diff %g", dir, yname, test_isas[i],
               test_max_abs_diff(got, want, ny));
    }
    vlm_kernels_force_scalar(0);
    free(got);
done:
    free(x);
    free(want);
}

static void test_all_cases(void) {
    static const int bits[] = {2, 3, 4, 5, 6, 8}, groups[] = {32, 64, 128};
    int cases = 0;
    for (int src = 0; src < 2; src++)
        for (size_t b = 0; b < 6; b++)
            for (size_t g = 0; g < 3; g++) {
                char dir[32];
                snprintf(dir, sizeof dir, "%s_b%d_g%d", src ? "bf16" : "f32", bits[b], groups[g]);
                qcase c = {0};
                if (!load_case(dir, bits[b], groups[g], &c)) {
                    CHECKF(0, "%s: cannot load", dir);
                    free_case(&c);
                    continue;
                }
                check_dequant(dir, &c, src);
                check_matmul(dir, &c, "x1.npy", "qmm_x1.npy");
                check_matmul(dir, &c, "x5.npy", "qmm_x5.npy");
                free_case(&c);
                cases++;
            }
    CHECK(cases == 36);
}

/* nn.QuantizedEmbedding (4 bits, group 64, bf16 scales): lookups and the
 * tied lm_head use. */
static void test_embedding(void) {
    qcase c = {0};
    npy_array ids;
    CHECK(load_npy("embedding", "weight.npy", &c.wq));
    CHECK(load_npy("embedding", "scales.npy", &c.scales) && load_npy("embedding", "biases.npy", &c.biases));
    CHECK(load_npy("embedding", "ids.npy", &ids) && ids.elem_size == 4 && ids.count == 7);
    c.w = (vlm_weight){.dtype = VLM_DTYPE_U32, .rows = 200, .cols = 128, .data = c.wq.data,
                       .bits = 4, .group_size = 64, .scale_dtype = VLM_DTYPE_BF16,
                       .scales = c.scales.data, .biases = c.biases.data};
    size_t n;
    float *want = load_f32("embedding", "lookup.f32.npy", &n);
    CHECK(want && n == 7 * 128);
    int bad = 0;
    for (int t = 0; want && t < 7; t++) {
        float row[128];
        vlm_weight_row(&c.w, ((const int32_t *)ids.data)[t], row);
        for (int k = 0; k < 128; k++) {
            int id = ((const int32_t *)ids.data)[t];
            double b = bf16_to_f32(((const uint16_t *)c.biases.data)[id * 2 + k / 64]);
            double v = want[t * 128 + k], tol = 0.5 * bf16_ulp(fabs(v) + fabs(b)) + 0.5 * bf16_ulp(v);
            if (!(fabs((double)row[k] - v) <= tol)) bad++;
        }
    }
    CHECKF(bad == 0, "%d looked-up values off by more than the bf16 rounding", bad);
    /* as_linear golden was accumulated in bf16 by MLX CPU (~2% error). */
    float *x = load_f32("embedding", "as_linear_x.f32.npy", NULL);
    float *y_want = load_f32("embedding", "as_linear.f32.npy", &n);
    CHECK(x && y_want && n == 3 * 200);
    if (x && y_want) {
        float y[3 * 200];
        vlm_linear(y, x, 3, &c.w, NULL);
        double tol = 0.03 * max_abs(y_want, n);
        CHECKF(test_max_abs_diff(y, y_want, n) <= tol, "as_linear diff %g (tol %g)",
               test_max_abs_diff(y, y_want, n), tol);
    }
    free(x);
    free(y_want);
    free(want);
    npy_free(&ids);
    free_case(&c);
}

void run_tests(void) {
    vlm_set_precise(true); /* f32 goldens; fast mode: test_fast_matmul.c */
    RUN(test_all_cases);
    RUN(test_embedding);
}
