/*
 * test_sampling.c — logits processors, samplers, PRNG and stop strings
 * against hand-derived expectations (the formulas of mlx-lm's
 * sample_utils.py worked out on small vectors), a brute-force full-sort
 * reference for top-p/top-k on large vocabularies, the published
 * xoshiro256** output for state {1,2,3,4}, and sampling frequencies against
 * softmax(logits / T).
 */
#include <stdint.h>

#include "generate/sampling.h"
#include "generate/stop.h"
#include "test.h"

static vlm_generate_params params(void) { return vlm_generate_defaults(); }

static sampler make(vlm_generate_params p, int64_t vocab) {
    sampler s;
    vlm_status st = sampler_init(&s, &p, vocab);
    CHECKF(st == VLM_OK, "%s", vlm_last_error());
    return s;
}

static void test_defaults_match_mlx_vlm(void) {
    vlm_generate_params p = vlm_generate_defaults();
    CHECK(p.temperature == 0.0f);
    CHECK(p.top_p == 1.0f);
    CHECK(p.top_k == 0);
    CHECK(p.min_p == 0.0f);
    CHECK(p.repetition_penalty == 1.0f);
    CHECK(p.repetition_context_size == 20);
    CHECK(p.prefill_step_size == 2048);
    CHECK(p.max_tokens == 256);
}

static void test_xoshiro_reference_vector(void) {
    sampler_rng r = {{1, 2, 3, 4}};
    CHECK(sampler_rng_next(&r) == 11520u);
    CHECK(sampler_rng_next(&r) == 0u);
    CHECK(sampler_rng_next(&r) == 1509978240u);
    CHECK(sampler_rng_next(&r) == 1215971899390074240u);
}

static void test_logit_bias(void) {
    vlm_logit_bias bias[] = {{0, 5.0f}, {2, -1.5f}};
    vlm_generate_params p = params();
    p.logit_bias = bias;
    p.n_logit_bias = 2;
    sampler s = make(p, 3);
    float logits[3] = {1, 2, 3};
    sampler_process_logits(&s, logits, NULL, 0);
    CHECK_NEAR(logits[0], 6.0, 1e-6);
    CHECK_NEAR(logits[1], 2.0, 1e-6);
    CHECK_NEAR(logits[2], 1.5, 1e-6);
    sampler_free(&s);
}

static void test_repetition_penalty_sign_aware_once_per_token(void) {
    vlm_generate_params p = params();
    p.repetition_penalty = 2.0f;
    sampler s = make(p, 4);
    float logits[4] = {2, -2, 4, 1};
    int32_t history[] = {0, 0, 2, 1};
    sampler_process_logits(&s, logits, history, 4);
    CHECK_NEAR(logits[0], 1.0, 1e-6);   /* 2 / 2, not divided twice */
    CHECK_NEAR(logits[1], -4.0, 1e-6);  /* negative: multiplied */
    CHECK_NEAR(logits[2], 2.0, 1e-6);
    CHECK_NEAR(logits[3], 1.0, 1e-6);   /* not in the context */
    sampler_free(&s);
}

static void test_context_size_limits_window(void) {
    vlm_generate_params p = params();
    p.repetition_penalty = 2.0f;
    p.repetition_context_size = 1;
    sampler s = make(p, 3);
    float logits[3] = {4, 4, 4};
    int32_t history[] = {0, 1, 2};
    sampler_process_logits(&s, logits, history, 3);
    CHECK_NEAR(logits[0], 4.0, 1e-6);
    CHECK_NEAR(logits[1], 4.0, 1e-6);
    CHECK_NEAR(logits[2], 2.0, 1e-6);
    sampler_free(&s);
}

static void test_presence_and_frequency(void) {
    vlm_generate_params p = params();
    p.presence_penalty = 0.5f;
    sampler s = make(p, 4);
    float a[4] = {1, 1, 1, 1};
    int32_t history[] = {1, 1, 3, 9999, -1};  /* out-of-vocabulary ids ignored */
    sampler_process_logits(&s, a, history, 5);
    CHECK_NEAR(a[1], 0.5, 1e-6);  /* once, despite two occurrences */
    CHECK_NEAR(a[3], 0.5, 1e-6);
    CHECK_NEAR(a[0], 1.0, 1e-6);
    sampler_free(&s);

    p = params();
    p.frequency_penalty = 0.5f;
    s = make(p, 4);
    float b[4] = {1, 1, 1, 1};
    sampler_process_logits(&s, b, history, 5);
    CHECK_NEAR(b[1], 0.0, 1e-6);  /* per occurrence */
    CHECK_NEAR(b[3], 0.5, 1e-6);
    /* state is reset between calls: same result again */
    float c[4] = {1, 1, 1, 1};
    sampler_process_logits(&s, c, history, 5);
    CHECK_NEAR(c[1], 0.0, 1e-6);
    sampler_free(&s);
}

/* mlx order: bias, then repetition, then presence, then frequency. */
static void test_processor_order(void) {
    vlm_logit_bias bias[] = {{0, 1.0f}};
    vlm_generate_params p = params();
    p.logit_bias = bias;
    p.n_logit_bias = 1;
    p.repetition_penalty = 1.5f;
    p.presence_penalty = 1.0f;
    p.frequency_penalty = 0.25f;
    sampler s = make(p, 2);
    float logits[2] = {2, 0};
    int32_t history[] = {0, 0};
    sampler_process_logits(&s, logits, history, 2);
    /* ((2 + 1) / 1.5) - 1 - 2 * 0.25 = 0.5 */
    CHECK_NEAR(logits[0], 0.5, 1e-6);
    sampler_free(&s);
}

static void fill_logprobs(float *lp, const double *probs, int n) {
    for (int i = 0; i < n; i++) lp[i] = (float)log(probs[i]);
}

static void test_top_p_min_p_top_k_small(void) {
    const double probs[4] = {0.5, 0.3, 0.15, 0.05};
    sampler s = make(params(), 4);
    float lp[4];
    fill_logprobs(lp, probs, 4);
    sampler_apply_top_p(&s, lp, 0.75f);  /* ascending cumsum .05 .2 .5 1 > .25 */
    CHECK(isfinite(lp[0]) && isfinite(lp[1]));
    CHECK(isinf(lp[2]) && isinf(lp[3]));

    fill_logprobs(lp, probs, 4);
    sampler_apply_top_p(&s, lp, 0.9f);  /* > .1: drops only the .05 token */
    CHECK(isfinite(lp[0]) && isfinite(lp[1]) && isfinite(lp[2]));
    CHECK(isinf(lp[3]));

    fill_logprobs(lp, probs, 4);
    sampler_apply_min_p(lp, 4, 0.2f);  /* keep p >= 0.2 * 0.5 */
    CHECK(isfinite(lp[2]) && isinf(lp[3]));
    CHECK_NEAR(lp[0], log(0.5), 1e-6);  /* survivors unchanged */

    fill_logprobs(lp, probs, 4);
    sampler_apply_top_k(&s, lp, 2);
    CHECK(isfinite(lp[0]) && isfinite(lp[1]) && isinf(lp[2]) && isinf(lp[3]));
    sampler_free(&s);
}

/* Brute-force references: full descending sort by insertion. */
static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_top_p_top_k_large_vocab_vs_full_sort(void) {
    enum { V = 5000 };
    static float logits[V], lp[V], sorted[V];
    sampler_rng r;
    sampler_rng_seed(&r, 42);
    sampler s = make(params(), V);
    for (int trial = 0; trial < 6; trial++) {
        double scale = 1.0 + 3.0 * trial;
        for (int i = 0; i < V; i++) logits[i] = (float)((sampler_rng_uniform(&r) - 0.5) * scale);
        memcpy(lp, logits, sizeof lp);
        sampler_log_softmax(lp, V);
        memcpy(sorted, lp, sizeof sorted);
        qsort(sorted, V, sizeof *sorted, cmp_desc);

        /* top-k: the k-th largest value is the smallest survivor */
        int k = 1 + trial * 97;
        float kept_lp[V];
        memcpy(kept_lp, lp, sizeof kept_lp);
        sampler_apply_top_k(&s, kept_lp, k);
        int kept = 0;
        for (int i = 0; i < V; i++)
            if (isfinite(kept_lp[i])) {
                kept++;
                CHECK(kept_lp[i] >= sorted[k - 1]);
            }
        CHECKF(kept == k, "top_k %d kept %d", k, kept);

        /* top-p: keep the descending prefix whose preceding mass < top_p */
        float top_p = 0.3f + 0.1f * (float)trial;
        double before = 0, total = 0;
        for (int i = 0; i < V; i++) total += exp((double)sorted[i]);
        int expect = 0;
        while (expect < V && total - before > 1.0 - top_p) before += exp((double)sorted[expect++]);
        memcpy(kept_lp, lp, sizeof kept_lp);
        sampler_apply_top_p(&s, kept_lp, top_p);
        kept = 0;
        for (int i = 0; i < V; i++) kept += isfinite(kept_lp[i]) != 0;
        CHECKF(kept == expect, "top_p %.2f kept %d, full sort says %d", top_p, kept, expect);
    }
    sampler_free(&s);
}

static void test_greedy_first_max_and_processors_apply(void) {
    vlm_generate_params p = params();
    sampler s = make(p, 4);
    float logits[4] = {1, 3, 3, 2};
    CHECK(sampler_pick(&s, logits) == 1);
    sampler_free(&s);

    vlm_logit_bias bias[] = {{3, 10.0f}};
    p.logit_bias = bias;
    p.n_logit_bias = 1;
    s = make(p, 4);
    float l2[4] = {1, 3, 3, 2};
    sampler_process_logits(&s, l2, NULL, 0);
    CHECK(sampler_pick(&s, l2) == 3);
    sampler_free(&s);
}

/* Frequencies of draws vs softmax(logprobs / T). */
static void check_distribution(float temperature, const double *expect) {
    vlm_generate_params p = params();
    p.temperature = temperature;
    p.seed = 1234;
    sampler s = make(p, 3);
    int counts[3] = {0};
    enum { N = 40000 };
    for (int i = 0; i < N; i++) {
        float logits[3] = {(float)log(0.5), (float)log(0.3), (float)log(0.2)};
        counts[sampler_pick(&s, logits)]++;
    }
    for (int t = 0; t < 3; t++) CHECK_NEAR((double)counts[t] / N, expect[t], 0.012);
    sampler_free(&s);
}

static void test_temperature_distribution(void) {
    const double t1[3] = {0.5, 0.3, 0.2};
    check_distribution(1.0f, t1);
    const double t05[3] = {0.25 / 0.38, 0.09 / 0.38, 0.04 / 0.38};  /* p^2 normalised */
    check_distribution(0.5f, t05);
}

static void test_top_k_then_draw_never_leaves_kept_set(void) {
    vlm_generate_params p = params();
    p.temperature = 1.0f;
    p.top_k = 2;
    p.seed = 7;
    sampler s = make(p, 5);
    for (int i = 0; i < 2000; i++) {
        float logits[5] = {0.1f, 3.0f, 0.2f, 2.5f, 0.0f};
        int32_t t = sampler_pick(&s, logits);
        CHECK(t == 1 || t == 3);
    }
    sampler_free(&s);
}

static void draw_sequence(uint64_t seed, int32_t *out, int n) {
    vlm_generate_params p = params();
    p.temperature = 0.8f;
    p.top_p = 0.95f;
    p.seed = seed;
    sampler s = make(p, 50);
    for (int i = 0; i < n; i++) {
        float logits[50];
        for (int j = 0; j < 50; j++) logits[j] = (float)((j * 7919) % 13) * 0.3f;
        out[i] = sampler_pick(&s, logits);
    }
    sampler_free(&s);
}

static void test_seed_reproducible(void) {
    int32_t a[64], b[64], c[64];
    draw_sequence(99, a, 64);
    draw_sequence(99, b, 64);
    draw_sequence(100, c, 64);
    CHECK(!memcmp(a, b, sizeof a));
    CHECK(memcmp(a, c, sizeof a) != 0);
}

static void test_bad_params_rejected(void) {
    sampler s;
    vlm_generate_params p = params();
    p.top_p = 1.5f;
    CHECK(sampler_init(&s, &p, 10) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "top_p") != NULL);
    p = params();
    p.temperature = -1.0f;
    CHECK(sampler_init(&s, &p, 10) == VLM_ERR_INVALID_ARGUMENT);
    p = params();
    vlm_logit_bias bias[] = {{10, 1.0f}};
    p.logit_bias = bias;
    p.n_logit_bias = 1;
    CHECK(sampler_init(&s, &p, 10) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "10") != NULL);
    p = params();
    p.repetition_penalty = -0.5f;
    CHECK(sampler_init(&s, &p, 10) == VLM_ERR_INVALID_ARGUMENT);
}

/* ---- stop strings and EOS ---------------------------------------------- */

/* Push pieces through a filter and return everything released. */
static void run_filter(const char *const *stops, size_t n_stops, const char *const *pieces, size_t n,
                       char *out, bool *stopped) {
    stop_filter f;
    CHECK_OK(stop_filter_init(&f, stops, n_stops));
    out[0] = 0;
    *stopped = false;
    for (size_t i = 0; i < n && !*stopped; i++) {
        const char *r;
        CHECK_OK(stop_filter_push(&f, pieces[i], &r, stopped));
        strcat(out, r);
    }
    const char *r;
    CHECK_OK(stop_filter_finish(&f, &r));
    strcat(out, r);
    stop_filter_free(&f);
}

static void test_stop_string_across_tokens(void) {
    const char *stops[] = {"END"};
    const char *pieces[] = {"hello E", "N", "D and more"};
    char out[128];
    bool stopped;
    run_filter(stops, 1, pieces, 3, out, &stopped);
    CHECK(stopped);
    CHECK(!strcmp(out, "hello "));
}

static void test_stop_prefix_released_when_not_a_stop(void) {
    const char *stops[] = {"END"};
    stop_filter f;
    CHECK_OK(stop_filter_init(&f, stops, 1));
    const char *r;
    bool stopped;
    CHECK_OK(stop_filter_push(&f, "abc E", &r, &stopped));
    CHECK(!strcmp(r, "abc "));  /* "E" held back */
    CHECK_OK(stop_filter_push(&f, "Nx", &r, &stopped));
    CHECK(!strcmp(r, "ENx"));
    CHECK(!stopped);
    CHECK_OK(stop_filter_push(&f, "tail E", &r, &stopped));
    CHECK(!strcmp(r, "tail "));
    CHECK_OK(stop_filter_finish(&f, &r));  /* held text released at the end */
    CHECK(!strcmp(r, "E"));
    stop_filter_free(&f);
}

static void test_earliest_of_several_stops_utf8(void) {
    const char *stops[] = {"\xc3\xa9t\xc3\xa9", "x\n"};  /* "été" */
    const char *pieces[] = {"un \xc3", "\xa9t", "\xc3\xa9 x", "\n"};
    char out[128];
    bool stopped;
    run_filter(stops, 2, pieces, 4, out, &stopped);
    CHECK(stopped);
    CHECK(!strcmp(out, "un "));
}

static void test_no_stops_passthrough_and_eos(void) {
    const char *pieces[] = {"a", "b", ""};
    char out[32];
    bool stopped;
    run_filter(NULL, 0, pieces, 3, out, &stopped);
    CHECK(!stopped && !strcmp(out, "ab"));
    const int32_t eos[] = {1002, 1000};
    CHECK(stop_is_eos(eos, 2, 1000));
    CHECK(!stop_is_eos(eos, 2, 1001));
    CHECK(!stop_is_eos(NULL, 0, 0));
}

void run_tests(void) {
    RUN(test_defaults_match_mlx_vlm);
    RUN(test_xoshiro_reference_vector);
    RUN(test_logit_bias);
    RUN(test_repetition_penalty_sign_aware_once_per_token);
    RUN(test_context_size_limits_window);
    RUN(test_presence_and_frequency);
    RUN(test_processor_order);
    RUN(test_top_p_min_p_top_k_small);
    RUN(test_top_p_top_k_large_vocab_vs_full_sort);
    RUN(test_greedy_first_max_and_processors_apply);
    RUN(test_temperature_distribution);
    RUN(test_top_k_then_draw_never_leaves_kept_set);
    RUN(test_seed_reproducible);
    RUN(test_bad_params_rejected);
    RUN(test_stop_string_across_tokens);
    RUN(test_stop_prefix_released_when_not_a_stop);
    RUN(test_earliest_of_several_stops_utf8);
    RUN(test_no_stops_passthrough_and_eos);
}
