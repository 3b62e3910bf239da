/* test_q8_vnni_x86.c — the VNNI integer matmul, on any AVX2 machine.
 *
 * linear_q8_vnni_avx512.c and linear_q8_avxvnni.c are linear_q8_x86.h
 * with one instruction, vpdpbusd, that many machines running this suite
 * lack. This file builds
 * the same loops with that instruction written out in AVX2 (exact: no
 * saturation, as vpdpbusd) and checks:
 * (1) the written-out vpdpbusd against its definition, element by element;
 * (2) the loops against the plain-C integer matmul on every test shape
 *     (same integers; only the f32 summation order differs).
 * Where the CPU has VNNI, test_fast_matmul runs the real kernel. */
#include <immintrin.h>

#include "test_qweight.h"

/* acc + sum of the four u8 x s8 products in each i32 lane: even and odd
 * bytes widened to i16 (u8 zero-, s8 sign-extended), then pairwise madd. */
static inline __m256i dpbusd_avx2(__m256i acc, __m256i u8, __m256i s8) {
    __m256i u_even = _mm256_and_si256(u8, _mm256_set1_epi16(0xff)), u_odd = _mm256_srli_epi16(u8, 8);
    __m256i s_even = _mm256_srai_epi16(_mm256_slli_epi16(s8, 8), 8), s_odd = _mm256_srai_epi16(s8, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(u_even, s_even), _mm256_madd_epi16(u_odd, s_odd)));
}

#define Q8_DPBUSD(acc, u8, s8) dpbusd_avx2((acc), (u8), (s8))
#define Q8_GEMV gemv_vnni_in_avx2
#include "core/linear_q8_x86.h"

static void test_dpbusd_definition(void) {
    for (int round = 0; round < 200; round++) {
        uint8_t u[32], s[32];
        int32_t acc[8], got[8];
        for (int i = 0; i < 32; i++) {
            u[i] = (uint8_t)rng_u32();
            s[i] = round < 2 ? (uint8_t)(round ? 0x80 : 0x7f) : (uint8_t)rng_u32(); /* extremes first */
            if (round < 2) u[i] = 255;
        }
        for (int l = 0; l < 8; l++) acc[l] = (int32_t)rng_u32() >> 4;
        __m256i r = dpbusd_avx2(_mm256_loadu_si256((const __m256i *)(const void *)acc),
                                _mm256_loadu_si256((const __m256i *)(const void *)u),
                                _mm256_loadu_si256((const __m256i *)(const void *)s));
        _mm256_storeu_si256((__m256i *)(void *)got, r);
        for (int l = 0; l < 8; l++) {
            int32_t want = acc[l];
            for (int b = 0; b < 4; b++) want += (int32_t)u[4 * l + b] * (int8_t)s[4 * l + b];
            CHECKF(got[l] == want, "round %d lane %d: %d, want %d", round, l, got[l], want);
        }
    }
}

static void test_vnni_loops_match_scalar(void) {
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        qweight q = make_weight(shapes[s].bits, shapes[s].group, shapes[s].sdtype, shapes[s].rows, shapes[s].cols);
        if (!linear_q8_supports(&q.packed)) {
            free_weight(&q);
            continue;
        }
        for (int64_t m = 1; m <= 5; m += 2) { /* a lone x row, a pair and one, two pairs and one */
            int64_t n = m * q.w.rows;
            float *x = make_x(m, q.w.cols), *want = malloc((size_t)n * 4), *got = malloc((size_t)n * 4);
            vlm_q8_acts acts;
            CHECK(linear_q8_quantize(&vlm_kernels_avx2, &acts, x, m, &q.w)); /* with the x planes of m = 1 */
            vlm_q8_args ref = {&q.w, &acts, want, NULL}, a = {&q.packed, &acts, got, NULL};
            linear_q8_gemv_scalar(&ref, 0, q.w.rows);
            gemv_vnni_in_avx2(&a, 0, q.w.rows);
            double scale = 0;
            for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
            double diff = test_max_abs_diff(got, want, (size_t)n);
            CHECKF(diff <= 1e-5 * scale + 1e-6, "q%d g%d %lldx%lld m=%lld: max diff %g (scale %g)", shapes[s].bits,
                   shapes[s].group, (long long)q.w.rows, (long long)q.w.cols, (long long)m, diff, scale);
            linear_q8_acts_free(&acts);
            free(x);
            free(want);
            free(got);
        }
        free_weight(&q);
    }
}

void run_tests(void) {
    if (!vlm_cpu()->avx2) { /* this file is built for AVX2 */
        printf("skipped: the CPU has no AVX2\n");
        return;
    }
    RUN(test_dpbusd_definition);
    RUN(test_vnni_loops_match_scalar);
}
