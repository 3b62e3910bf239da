/* test_kernels.c — the compute kernels against straightforward references.
 *
 * vlm_linear (every dtype, every bit width and group size, ragged shapes,
 * m = 1..64) against vlm_linear_ref under each kernel set the CPU runs and
 * with 1 and several threads (including the SIMD source at AVX-512's
 * width in plain C, kernels_wide.h); the thread pool; the elementwise ops against
 * double-precision formulas and published values; RoPE; and attention
 * against a naive double-precision softmax(q.k^T) v. */
#include <stdatomic.h>

#include "core/kernels.h"
#include "kernels_wide.h"
#include "test.h"
#include "test_rng.h"



/* ---- linear ------------------------------------------------------------ */

typedef struct test_weight {
    vlm_weight w;
    void *data, *scales, *biases;
} test_weight;

static void store_float(vlm_dtype dtype, void *base, int64_t i, float v) {
    if (dtype == VLM_DTYPE_BF16) ((uint16_t *)base)[i] = f32_to_bf16(v);
    else if (dtype == VLM_DTYPE_F16) ((uint16_t *)base)[i] = f32_to_f16(v);
    else ((float *)base)[i] = v;
}

static test_weight make_dense(vlm_dtype dtype, int64_t rows, int64_t cols) {
    test_weight t = {{.dtype = dtype, .rows = rows, .cols = cols}, NULL, NULL, NULL};
    t.data = malloc((size_t)(rows * cols) * vlm_dtype_size(dtype));
    for (int64_t i = 0; i < rows * cols; i++) store_float(dtype, t.data, i, rng_uniform());
    t.w.data = t.data;
    return t;
}

static test_weight make_quant(int bits, int group, vlm_dtype sdtype, int64_t rows, int64_t cols) {
    test_weight t = {{.dtype = VLM_DTYPE_U32, .rows = rows, .cols = cols, .bits = bits,
                      .group_size = group, .scale_dtype = sdtype}, NULL, NULL, NULL};
    int64_t words = rows * cols * bits / 32, groups = rows * cols / group;
    t.data = malloc((size_t)words * 4);
    for (int64_t i = 0; i < words; i++) ((uint32_t *)t.data)[i] = rng_u32() ^ (rng_u32() << 16);
    t.scales = malloc((size_t)groups * 4);
    t.biases = malloc((size_t)groups * 4);
    for (int64_t g = 0; g < groups; g++) {
        store_float(sdtype, t.scales, g, 0.05f * rng_uniform());
        store_float(sdtype, t.biases, g, 0.5f * rng_uniform());
    }
    t.w.data = t.data;
    t.w.scales = t.scales;
    t.w.biases = t.biases;
    return t;
}

static void free_weight(test_weight *t) {
    free(t->data);
    free(t->scales);
    free(t->biases);
}

/* vlm_linear vs vlm_linear_ref on one weight, for several m, every kernel
 * set, 1 and 3 threads. Tolerance: 1e-5 of sum_k |x_k w_k| per output. */
static void check_linear(const test_weight *t, const char *what) {
    static const int64_t ms[] = {1, 2, 3, 5, 7, 8, 17};
    const vlm_weight *w = &t->w;
    CHECK_OK(vlm_weight_validate(w));
    float *wf = malloc((size_t)(w->rows * w->cols) * sizeof(float));
    vlm_dequantize(w, wf);
    float *bias = malloc((size_t)w->rows * sizeof(float));
    for (int64_t r = 0; r < w->rows; r++) bias[r] = rng_uniform();
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) {
        int64_t m = ms[mi];
        float *x = malloc((size_t)(m * w->cols) * sizeof(float));
        float *want = malloc((size_t)(m * w->rows) * sizeof(float));
        float *got = malloc((size_t)(m * w->rows) * sizeof(float));
        for (int64_t i = 0; i < m * w->cols; i++) x[i] = rng_uniform();
        const float *b = mi % 2 ? bias : NULL;
        vlm_linear_ref(want, x, m, w, b);
        for (size_t s = 0; s < sizeof test_isas / sizeof *test_isas; s++) {
            if (!test_select_isa(test_isas[s])) continue;
            for (int threads = 1; threads <= 3; threads += 2) {
                vlm_set_num_threads(threads);
                memset(got, 0xff, (size_t)(m * w->rows) * sizeof(float)); /* NaN */
                vlm_linear(got, x, m, w, b);
                int bad = 0;
                for (int64_t i = 0; i < m; i++)
                    for (int64_t r = 0; r < w->rows; r++) {
                        double mag = 1e-3;
                        for (int64_t k = 0; k < w->cols; k++)
                            mag += fabs((double)x[i * w->cols + k] * wf[r * w->cols + k]);
                        double d = fabs((double)got[i * w->rows + r] - want[i * w->rows + r]);
                        if (!(d <= 1e-5 * mag)) bad++;
                    }
                CHECKF(bad == 0, "%s [%lldx%lld] m=%lld %s %d threads: %d outputs off", what,
                       (long long)w->rows, (long long)w->cols, (long long)m, test_isas[s], threads, bad);
            }
        }
        free(x);
        free(want);
        free(got);
    }
    vlm_set_num_threads(0);
    vlm_kernels_force_scalar(0);
    free(wf);
    free(bias);
}

static void test_linear_dense(void) {
    static const vlm_dtype dtypes[] = {VLM_DTYPE_F32, VLM_DTYPE_F16, VLM_DTYPE_BF16};
    static const int64_t shapes[][2] = {{37, 77}, {64, 256}, {5, 3}, {70, 130}};
    for (size_t d = 0; d < 3; d++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            test_weight t = make_dense(dtypes[d], shapes[s][0], shapes[s][1]);
            check_linear(&t, vlm_dtype_name(dtypes[d]));
            free_weight(&t);
        }
}

static void test_linear_quantized(void) {
    static const int bits[] = {2, 3, 4, 5, 6, 8}, groups[] = {32, 64, 128};
    static const vlm_dtype sdtypes[] = {VLM_DTYPE_BF16, VLM_DTYPE_F32, VLM_DTYPE_F16};
    int n = 0;
    for (size_t b = 0; b < 6; b++)
        for (size_t g = 0; g < 3; g++) {
            char what[48];
            vlm_dtype sd = sdtypes[n++ % 3];
            snprintf(what, sizeof what, "q%d g%d %s", bits[b], groups[g], vlm_dtype_name(sd));
            /* ragged row counts (not multiples of 4 or of the GEMM tiles) */
            test_weight t = make_quant(bits[b], groups[g], sd, 37 + (int64_t)b, 2 * groups[g] + 128);
            check_linear(&t, what);
            free_weight(&t);
        }
    /* rows of more groups than the GEMV converts scales for at once (512) */
    test_weight t = make_quant(4, 32, VLM_DTYPE_BF16, 6, 32 * 520);
    check_linear(&t, "q4 g32 long rows");
    free_weight(&t);
}

/* A GEMM big enough for several panels and K blocks, with a ragged edge. */
static void test_linear_gemm_blocks(void) {
    test_weight t = make_quant(4, 64, VLM_DTYPE_BF16, 150, 640);
    const vlm_weight *w = &t.w;
    int64_t m = 64;
    float *x = malloc((size_t)(m * w->cols) * sizeof(float));
    float *want = malloc((size_t)(m * w->rows) * sizeof(float)), *got = malloc((size_t)(m * w->rows) * sizeof(float));
    for (int64_t i = 0; i < m * w->cols; i++) x[i] = rng_uniform();
    vlm_linear_ref(want, x, m, w, NULL);
    for (size_t s = 0; s < sizeof test_isas / sizeof *test_isas; s++) {
        if (!test_select_isa(test_isas[s])) continue;
        vlm_linear(got, x, m, w, NULL);
        double d = test_max_abs_diff(got, want, (size_t)(m * w->rows));
        CHECKF(d < 2e-4, "%s: max diff %g", test_isas[s], d);
    }
    vlm_kernels_force_scalar(0);
    free(x);
    free(want);
    free(got);
    free_weight(&t);
}

static void test_weight_validate(void) {
    test_weight t = make_quant(4, 64, VLM_DTYPE_BF16, 4, 128);
    CHECK_OK(vlm_weight_validate(&t.w));
    t.w.bits = 7;
    CHECK(vlm_weight_validate(&t.w) == VLM_ERR_UNSUPPORTED);
    t.w.bits = 4;
    t.w.group_size = 48;
    CHECK(vlm_weight_validate(&t.w) == VLM_ERR_UNSUPPORTED);
    t.w.group_size = 64;
    t.w.cols = 96;
    CHECK(vlm_weight_validate(&t.w) == VLM_ERR_FORMAT);
    CHECK(strstr(vlm_last_error(), "96") != NULL);
    free_weight(&t);
}

static void test_isa_selection(void) {
    vlm_kernels_force_scalar(1);
    CHECK(!strcmp(vlm_kernels_isa(), "scalar"));
    vlm_kernels_force_scalar(0);
    CHECK(!vlm_kernels_select("no-such-isa"));
    if (vlm_cpu()->avx2 && vlm_cpu()->fma) CHECK(vlm_kernels_select("avx2"));
    vlm_kernels_force_scalar(0);
}

/* ---- thread pool ----------------------------------------------------------- */

typedef struct count_ctx {
    atomic_int *hits;
    int nested;
} count_ctx;

static void count_task(void *ctx, int64_t begin, int64_t end) {
    count_ctx *c = ctx;
    for (int64_t i = begin; i < end; i++) {
        if (c->nested) { /* a nested loop runs inline on this thread */
            count_ctx inner = {c->hits + 1000, 0};
            vlm_parallel_for(1, 1, count_task, &inner);
        }
        atomic_fetch_add(&c->hits[i], 1);
    }
}

static void test_parallel_for(void) {
    static atomic_int hits[1001];
    for (int threads = 1; threads <= 4; threads++) {
        vlm_set_num_threads(threads);
        CHECK(vlm_get_num_threads() == threads);
        for (int rep = 0; rep < 50; rep++) {
            for (int i = 0; i < 1001; i++) atomic_store(&hits[i], 0);
            count_ctx c = {hits, rep % 2};
            int64_t n = 1 + rep * 19;
            vlm_parallel_for(n, 1 + rep % 5, count_task, &c);
            int bad = 0;
            for (int64_t i = 0; i < n; i++) bad += atomic_load(&hits[i]) != 1;
            CHECKF(bad == 0, "threads %d n %lld: %d items not run exactly once", threads, (long long)n, bad);
            if (c.nested) CHECK(atomic_load(&hits[1000]) == n);
        }
    }
    vlm_set_num_threads(0);
    CHECK(vlm_get_num_threads() >= 1);
}

/* Many short jobs back to back, with more threads than cores: workers
 * arrive late or not at all, ranges are stolen from and refilled while a
 * late worker still looks at the previous job's. Every item must run once. */
static void test_parallel_for_stress(void) {
    enum { JOBS = 4000, MAX_N = 700 };
    static atomic_int hits[MAX_N];
    uint32_t seed = 1;
    int bad_jobs = 0;
    for (int threads = 2; threads <= 8; threads *= 2) {
        vlm_set_num_threads(threads);
        for (int job = 0; job < JOBS; job++) {
            seed = seed * 1664525u + 1013904223u;
            int64_t n = 1 + (seed >> 8) % MAX_N, min_chunk = 1 + (seed >> 20) % 9;
            for (int64_t i = 0; i < n; i++) atomic_store(&hits[i], 0);
            count_ctx c = {hits, 0};
            vlm_parallel_for(n, min_chunk, count_task, &c);
            int64_t bad = 0;
            for (int64_t i = 0; i < n; i++) bad += atomic_load(&hits[i]) != 1;
            bad_jobs += bad != 0;
        }
    }
    CHECKF(bad_jobs == 0, "%d jobs ran some items other than once", bad_jobs);
    vlm_set_num_threads(0);
}

/* ---- elementwise ops -------------------------------------------------------- */

static void test_activations(void) {
    /* published values: torch.nn.functional.gelu(1.0) etc. */
    float v[1] = {1.0f};
    vlm_gelu_erf(v, 1);
    CHECK_NEAR(v[0], 0.8413447460685429, 1e-6);
    v[0] = 1.0f;
    vlm_gelu_tanh(v, 1);
    CHECK_NEAR(v[0], 0.8411919906082768, 1e-6);
    v[0] = 1.0f;
    vlm_silu(v, 1);
    CHECK_NEAR(v[0], 0.7310585786300049, 1e-6);
    v[0] = 1.0f;
    vlm_quick_gelu(v, 1);
    CHECK_NEAR(v[0], 1.0 / (1.0 + exp(-1.702)), 1e-6);
    float g[5] = {-3, -0.5f, 0, 0.7f, 4}, u[5] = {2, 1, -1, 3, 0.5f};
    vlm_swiglu(g, u, 5);
    const float g0[5] = {-3, -0.5f, 0, 0.7f, 4};
    for (int i = 0; i < 5; i++) CHECK_NEAR(g[i], g0[i] / (1 + exp(-g0[i])) * u[i], 1e-6);
    float e[3] = {-2, 0, 2};
    vlm_gelu_erf(e, 3);
    CHECK_NEAR(e[0], -0.04550026389635842, 1e-6);
    CHECK_NEAR(e[2], 1.9544997361036416, 1e-6);
}

/* The vectorised exp-based ops (with tails) against double formulas. */
static double ref_gelu_tanh(double v) {
    return 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
}

static void test_activation_vectors(void) {
    enum { N = 45 };
    float x[N], up[N], y[N];
    for (int i = 0; i < N; i++) x[i] = -11.0f + 0.5f * (float)i + 0.013f * (float)i, up[i] = rng_uniform();
    x[0] = -100, x[1] = 100, x[2] = -88.5f, x[3] = 0;
    for (size_t s = 0; s < sizeof test_isas / sizeof *test_isas; s++) {
        if (!test_select_isa(test_isas[s])) continue;
        int bad = 0;
        memcpy(y, x, sizeof y);
        vlm_silu(y, N);
        for (int i = 0; i < N; i++) bad += !(fabs(y[i] - x[i] / (1 + exp(-(double)x[i]))) <= 2e-6 * (1 + fabs(x[i])));
        memcpy(y, x, sizeof y);
        vlm_quick_gelu(y, N);
        for (int i = 0; i < N; i++) bad += !(fabs(y[i] - x[i] / (1 + exp(-1.702 * x[i]))) <= 2e-6 * (1 + fabs(x[i])));
        memcpy(y, x, sizeof y);
        vlm_gelu_tanh(y, N);
        for (int i = 0; i < N; i++) bad += !(fabs(y[i] - ref_gelu_tanh(x[i])) <= 2e-6 * (1 + fabs(x[i])));
        memcpy(y, x, sizeof y);
        vlm_swiglu(y, up, N);
        for (int i = 0; i < N; i++)
            bad += !(fabs(y[i] - x[i] / (1 + exp(-(double)x[i])) * up[i]) <= 2e-6 * (1 + fabs(x[i])));
        CHECKF(bad == 0, "%s: %d activation values off", test_isas[s], bad);

        float sm[N];
        double ref[N], sum = 0;
        for (int i = 0; i < N; i++) sm[i] = 0.3f * x[i];
        sm[5] = -INFINITY;
        double mx = -1e300;
        for (int i = 0; i < N; i++) mx = sm[i] > mx ? sm[i] : mx;
        for (int i = 0; i < N; i++) sum += ref[i] = exp((double)sm[i] - mx);
        vlm_softmax(sm, N);
        for (int i = 0; i < N; i++) CHECK_NEAR(sm[i], ref[i] / sum, 1e-7);
    }
    vlm_kernels_force_scalar(0);
}

static void test_softmax(void) {
    float x[7] = {1, 2, 3, -1, 0.5f, 3, -INFINITY};
    double ref[7], sum = 0;
    for (int i = 0; i < 7; i++) sum += ref[i] = exp((double)x[i] - 3);
    vlm_softmax(x, 7);
    for (int i = 0; i < 7; i++) CHECK_NEAR(x[i], ref[i] / sum, 1e-7);
    float big[2] = {1000, 1000};
    vlm_softmax(big, 2);
    CHECK_NEAR(big[0], 0.5, 1e-7);
    float masked[3] = {-INFINITY, -INFINITY, -INFINITY};
    vlm_softmax(masked, 3);
    CHECK(masked[0] == 0 && masked[2] == 0);
}

static void test_norms(void) {
    enum { N = 67 };
    float x[2 * N], w[N], b[N], y[2 * N];
    for (int i = 0; i < 2 * N; i++) x[i] = rng_uniform() * 3 + 0.5f;
    for (int i = 0; i < N; i++) w[i] = rng_uniform(), b[i] = rng_uniform();
    vlm_rms_norm(y, x, w, 2, N, 1e-6f);
    for (int r = 0; r < 2; r++) {
        double ss = 0;
        for (int i = 0; i < N; i++) ss += (double)x[r * N + i] * x[r * N + i];
        double inv = 1 / sqrt(ss / N + 1e-6);
        for (int i = 0; i < N; i++) CHECK_NEAR(y[r * N + i], x[r * N + i] * inv * w[i], 1e-5);
    }
    vlm_layer_norm(y, x, w, b, 2, N, 1e-5f);
    for (int r = 0; r < 2; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < N; i++) mean += x[r * N + i];
        mean /= N;
        for (int i = 0; i < N; i++) var += (x[r * N + i] - mean) * (x[r * N + i] - mean);
        var /= N;
        for (int i = 0; i < N; i++)
            CHECK_NEAR(y[r * N + i], (x[r * N + i] - mean) / sqrt(var + 1e-5) * w[i] + b[i], 1e-5);
    }
    /* in place, no weight */
    float z[4] = {1, 2, 3, 4};
    vlm_rms_norm(z, z, NULL, 1, 4, 0);
    CHECK_NEAR(z[3], 4 / sqrt(7.5), 1e-6);
}

static void test_rope(void) {
    float cs[2] = {cosf(0.3f), cosf(1.1f)}, sn[2] = {sinf(0.3f), sinf(1.1f)};
    float h[4] = {1, 2, 3, 4}, il[4] = {1, 2, 3, 4};
    vlm_rope(h, 4, cs, sn, 1); /* pairs (0,2), (1,3) */
    CHECK_NEAR(h[0], 1 * cs[0] - 3 * sn[0], 1e-6);
    CHECK_NEAR(h[2], 3 * cs[0] + 1 * sn[0], 1e-6);
    CHECK_NEAR(h[1], 2 * cs[1] - 4 * sn[1], 1e-6);
    CHECK_NEAR(h[3], 4 * cs[1] + 2 * sn[1], 1e-6);
    vlm_rope(il, 4, cs, sn, 0); /* pairs (0,1), (2,3) */
    CHECK_NEAR(il[0], 1 * cs[0] - 2 * sn[0], 1e-6);
    CHECK_NEAR(il[1], 2 * cs[0] + 1 * sn[0], 1e-6);
    CHECK_NEAR(il[2], 3 * cs[1] - 4 * sn[1], 1e-6);
    CHECK_NEAR(il[3], 4 * cs[1] + 3 * sn[1], 1e-6);
}

/* ---- attention ----------------------------------------------------------------- */

static void attention_naive(double *out, const float *q, int64_t n_q, int64_t qs, const float *k,
                            const float *v, int64_t n_kv, int64_t kvs, int nh, int nkv, int d,
                            int64_t off, float scale) {
    double *p = malloc((size_t)n_kv * sizeof(double));
    for (int64_t i = 0; i < n_q; i++)
        for (int h = 0; h < nh; h++) {
            int g = h / (nh / nkv);
            int64_t lim = off < 0 ? n_kv : (off + i + 1 < n_kv ? off + i + 1 : n_kv);
            double mx = -1e300, sum = 0;
            for (int64_t j = 0; j < lim; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) s += (double)q[i * qs + h * d + c] * k[j * kvs + g * d + c];
                p[j] = s * scale;
                mx = p[j] > mx ? p[j] : mx;
            }
            for (int64_t j = 0; j < lim; j++) sum += p[j] = exp(p[j] - mx);
            for (int c = 0; c < d; c++) {
                double o = 0;
                for (int64_t j = 0; j < lim; j++) o += p[j] * v[j * kvs + g * d + c];
                out[(i * nh + h) * d + c] = o / sum;
            }
        }
    free(p);
}

static void check_attention(int64_t n_q, int64_t n_kv, int nh, int nkv, int d, int64_t off) {
    int64_t qs = (int64_t)nh * d + 3, kvs = (int64_t)nkv * d + 5; /* padded strides */
    float *q = malloc((size_t)(n_q * qs) * sizeof(float)), *k = malloc((size_t)(n_kv * kvs) * sizeof(float));
    float *v = malloc((size_t)(n_kv * kvs) * sizeof(float)), *out = malloc((size_t)(n_q * nh * d) * sizeof(float));
    double *want = malloc((size_t)(n_q * nh * d) * sizeof(double));
    for (int64_t i = 0; i < n_q * qs; i++) q[i] = 2 * rng_uniform();
    for (int64_t i = 0; i < n_kv * kvs; i++) k[i] = 2 * rng_uniform(), v[i] = rng_uniform();
    float scale = 1.0f / sqrtf((float)d);
    attention_naive(want, q, n_q, qs, k, v, n_kv, kvs, nh, nkv, d, off, scale);
    for (size_t s = 0; s < sizeof test_isas / sizeof *test_isas; s++) {
        if (!test_select_isa(test_isas[s])) continue;
        vlm_attention(out, q, n_q, qs, k, v, n_kv, kvs, nh, nkv, d, off, scale);
        double worst = 0;
        for (int64_t i = 0; i < n_q * nh * d; i++) {
            double e = fabs(out[i] - want[i]);
            worst = e > worst || e != e ? e : worst;
        }
        CHECKF(worst < 2e-5, "%s n_q %lld n_kv %lld heads %d/%d d %d off %lld: max err %g", test_isas[s],
               (long long)n_q, (long long)n_kv, nh, nkv, d, (long long)off, worst);
    }
    vlm_kernels_force_scalar(0);
    free(q);
    free(k);
    free(v);
    free(out);
    free(want);
}

static void test_attention(void) {
    check_attention(37, 37, 6, 2, 64, 0);    /* causal prefill, GQA */
    check_attention(300, 300, 3, 3, 64, 0);  /* causal prefill over query blocks: matrix products */
    check_attention(260, 390, 4, 2, 32, 130); /* a prefill step after 130 cached tokens, GQA */
    check_attention(255, 255, 2, 1, 32, 0);  /* just below that path: the online softmax */
    check_attention(31, 31, 2, 2, 32, -1);   /* unmasked, just below that path */
    check_attention(1, 300, 4, 4, 80, 299);  /* decode against a cache */
    check_attention(3, 150, 4, 1, 32, 147);  /* a few new tokens, MQA */
    check_attention(50, 50, 3, 3, 72, -1);   /* vision: no mask */
    check_attention(20, 200, 2, 1, 256, -1); /* wide heads */
    check_attention(300, 300, 4, 2, 80, -1); /* vision-sized: query blocks, GQA */
    check_attention(8, 40, 3, 3, 64, -1);    /* few queries: the online softmax */
    for (int threads = 1; threads <= 3; threads += 2) { /* head slices of uneven size */
        vlm_set_num_threads(threads);
        check_attention(2, 100, 5, 1, 48, 98);
        check_attention(40, 40, 5, 5, 32, -1); /* heads over uneven work slots */
    }
    vlm_set_num_threads(0);
}

void run_tests(void) {
    vlm_set_precise(true); /* these tests check the exact f32 path (fast mode: test_fast_matmul.c) */
    RUN(test_isa_selection);
    RUN(test_weight_validate);
    RUN(test_parallel_for);
    RUN(test_parallel_for_stress);
    RUN(test_linear_dense);
    RUN(test_linear_quantized);
    RUN(test_linear_gemm_blocks);
    RUN(test_activations);
    RUN(test_activation_vectors);
    RUN(test_softmax);
    RUN(test_norms);
    RUN(test_rope);
    RUN(test_attention);
}
