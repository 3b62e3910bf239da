/*
 * test_generate.c — the generation loop (vlm_generate) over a scripted
 * stand-in architecture and the bundled tiny Qwen2-VL tokenizer:
 * prompt tokenization (ids must equal the reference ids that HF tokenizers
 * produced for the rendered prompt, fixtures/e2e_qwen2_vl/manifest.json),
 * EOS ids ending generation without their text, max_tokens, stop strings
 * across tokens, the callback stopping generation, prompt longer than the
 * context, chunked prefill size, and penalties seeing the history.
 * Token texts come from the same manifest: 984 = "quire", 691 = "data",
 * 1010 = <|vision_end|> (special: not printed), 1002 = <|im_end|> (EOS).
 */
#include <math.h>
#include "models/model.h"
#include "test.h"

#define VOCAB 1024

/* ---- a scripted architecture -------------------------------------------- */

typedef struct script {
    const int32_t *tokens;  /* token the logits favour at step i */
    int n;
    float runner_up;        /* >0: logit of token 691 at every step (penalty tests) */
    int bad_step;           /* >0: from this step on, one logit is bad_value */
    float bad_value;
} script;

static script current;
static int64_t seen_prompt_len, seen_chunk, decode_calls;
static int32_t seen_prompt[64];

struct model_session {
    int step;
};

static void script_logits(int step, float *logits) {
    for (int i = 0; i < VOCAB; i++) logits[i] = -10.0f;
    if (current.runner_up > 0) {
        logits[984] = 2.0f;
        logits[691] = current.runner_up;
    } else {
        logits[current.tokens[step < current.n ? step : current.n - 1]] = 5.0f;
    }
    if (current.bad_step > 0 && step >= current.bad_step) logits[7] = current.bad_value;
}

static vlm_status mock_session_new(vlm_model *m, int64_t max_tokens, model_session **out) {
    (void)m, (void)max_tokens;
    *out = calloc(1, sizeof **out);
    return *out ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
}

static void mock_session_free(model_session *s) { free(s); }

static vlm_status mock_prefill(model_session *s, const int32_t *ids, int64_t n, const model_images *images,
                               int64_t chunk, float *logits, int all_logits, double *image_ms) {
    (void)images, (void)all_logits;
    seen_prompt_len = n;
    seen_chunk = chunk;
    memcpy(seen_prompt, ids, (size_t)(n < 64 ? n : 64) * sizeof *ids);
    if (image_ms) *image_ms = 0;
    script_logits(s->step++, logits);
    return VLM_OK;
}

static vlm_status mock_decode(model_session *s, int32_t id, float *logits) {
    (void)id;
    decode_calls++;
    script_logits(s->step++, logits);
    return VLM_OK;
}

static const model_arch mock_arch = {
    .model_type = "qwen2_vl",
    .session_new = mock_session_new,
    .session_free = mock_session_free,
    .prefill = mock_prefill,
    .decode = mock_decode,
};

/* ---- fixture ------------------------------------------------------------ */

static vlm_model model;
static int32_t eos[] = {1002, 1000};

static int setup(void) {
    memset(&model, 0, sizeof model);
    model.model_type = "qwen2_vl";
    model.arch = &mock_arch;
    model.vocab_size = VOCAB;
    model.max_context = 64;
    model.eos_ids = eos;
    model.n_eos = 2;
    vlm_status st = vlm_tokenizer_load("../models/tiny-qwen2-vl", &model.tokenizer);
    if (st) fprintf(stderr, "tokenizer: %s\n", vlm_last_error());
    return st == VLM_OK;
}

typedef struct collected {
    char text[512];
    int pieces, stop_after;
} collected;

static bool collect(const char *text, void *user) {
    collected *c = user;
    strncat(c->text, text, sizeof c->text - strlen(c->text) - 1);
    c->pieces++;
    return !(c->stop_after && c->pieces >= c->stop_after);
}

static vlm_status run(const char *prompt, const int32_t *tokens, int n, vlm_generate_params *p, collected *out,
                      vlm_generate_stats *stats) {
    current = (script){tokens, n, 0, 0, 0};
    decode_calls = 0;
    memset(out->text, 0, sizeof out->text);
    out->pieces = 0;
    return vlm_generate(&model, prompt, NULL, 0, p, collect, out, stats);
}

/* ---- tests -------------------------------------------------------------- */

static void test_prompt_ids_match_reference(void) {
    size_t len;
    char *prompt = test_read_file("fixtures/e2e_qwen2_vl/expected_rendered_prompt.txt", &len);
    CHECK(prompt != NULL);
    if (!prompt) return;
    static const int32_t reference[] = {1001, 82, 612, 198, 56, 283, 525, 264, 305, 301, 79, 69, 360, 438,
                                        82, 380, 517, 13, 1002, 198, 1001, 872, 198, 1009, 1012, 1010, 35, 288,
                                        740, 65, 68, 419, 732, 424, 13, 1002, 198, 1001, 395, 380, 517, 198};
    const int32_t tokens[] = {984, 1002};
    vlm_generate_params p = vlm_generate_defaults();
    collected out = {0};
    CHECK_OK(run(prompt, tokens, 2, &p, &out, NULL));
    CHECK(seen_prompt_len == 42);
    CHECK(!memcmp(seen_prompt, reference, sizeof reference));
    free(prompt);
}

static void test_eos_stops_without_its_text(void) {
    const int32_t tokens[] = {1010, 984, 984, 691, 1002, 984};
    vlm_generate_params p = vlm_generate_defaults();
    vlm_generate_stats stats;
    collected out = {0};
    CHECK_OK(run("hi", tokens, 6, &p, &out, &stats));
    CHECK(!strcmp(out.text, "quirequiredata"));
    CHECK(!strcmp(stats.finish_reason, "stop"));
    CHECK(stats.generation_tokens == 5);
    CHECK(decode_calls == 4);
    CHECK(stats.prompt_tokens == 2);  /* "hi" = 2 tokens with no merge for it in the tiny vocab */
    CHECK(stats.peak_memory_mb > 0);
}

static void test_max_tokens_and_chunk(void) {
    const int32_t tokens[] = {1010, 984, 691, 691};
    vlm_generate_params p = vlm_generate_defaults();
    p.max_tokens = 3;
    p.prefill_step_size = 5;
    vlm_generate_stats stats;
    collected out = {0};
    CHECK_OK(run("hi", tokens, 4, &p, &out, &stats));
    CHECK(!strcmp(out.text, "quiredata"));
    CHECK(!strcmp(stats.finish_reason, "length"));
    CHECK(stats.generation_tokens == 3);
    CHECK(seen_chunk == 5);
    p.max_tokens = 0;
    CHECK_OK(run("hi", tokens, 4, &p, &out, &stats));
    CHECK(out.text[0] == 0 && stats.generation_tokens == 0);
    CHECK(!strcmp(stats.finish_reason, "length"));
}

static void test_stop_string_across_tokens(void) {
    const int32_t tokens[] = {984, 984, 691, 691};
    const char *stops[] = {"requi"};
    vlm_generate_params p = vlm_generate_defaults();
    p.stop = stops;
    p.n_stop = 1;
    vlm_generate_stats stats;
    collected out = {0};
    CHECK_OK(run("hi", tokens, 4, &p, &out, &stats));
    CHECK(!strcmp(out.text, "qui"));
    CHECK(!strcmp(stats.finish_reason, "stop"));
    CHECK(stats.generation_tokens == 2);
}

static void test_callback_cancels(void) {
    const int32_t tokens[] = {984};
    vlm_generate_params p = vlm_generate_defaults();
    p.max_tokens = 10;
    vlm_generate_stats stats;
    collected out = {0};
    out.stop_after = 2;
    CHECK_OK(run("hi", tokens, 1, &p, &out, &stats));
    CHECK(!strcmp(out.text, "quirequire"));
    CHECK(!strcmp(stats.finish_reason, "cancelled"));
    CHECK(stats.generation_tokens == 2);
}

static void test_repetition_penalty_uses_history(void) {
    /* 984 at 2.0, 691 at 1.9: penalty 1.5 alternates once 984 was seen */
    vlm_generate_params p = vlm_generate_defaults();
    p.max_tokens = 3;
    p.repetition_penalty = 1.5f;
    collected out = {0};
    current = (script){NULL, 0, 1.9f, 0, 0};
    CHECK_OK(vlm_generate(&model, "hi", NULL, 0, &p, collect, &out, NULL));
    CHECK(!strcmp(out.text, "quiredataquire"));
}

static void test_prompt_longer_than_context(void) {
    char prompt[800];
    memset(prompt, 0, sizeof prompt);
    for (int i = 0; i < 70; i++) strcat(prompt, "<|im_end|>");  /* 70 special tokens > 64 */
    const int32_t tokens[] = {984};
    vlm_generate_params p = vlm_generate_defaults();
    collected out = {0};
    CHECK(run(prompt, tokens, 1, &p, &out, NULL) == VLM_ERR_LIMIT);
    CHECK(strstr(vlm_last_error(), "70") && strstr(vlm_last_error(), "64"));
}

static void test_bad_params(void) {
    const int32_t tokens[] = {984};
    vlm_generate_params p = vlm_generate_defaults();
    p.min_p = 3.0f;
    collected out = {0};
    CHECK(run("hi", tokens, 1, &p, &out, NULL) == VLM_ERR_INVALID_ARGUMENT);
    p = vlm_generate_defaults();
    CHECK(vlm_generate(&model, NULL, NULL, 0, &p, NULL, NULL, NULL) == VLM_ERR_INVALID_ARGUMENT);
}

/* NaN or infinite logits end generation with an error, after the tokens
 * sampled before them were streamed; greedy or sampled alike. */
static void test_non_finite_logits(void) {
    const int32_t tokens[] = {984, 691, 984, 691};
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        vlm_generate_params p = vlm_generate_defaults();
        p.max_tokens = 4;
        p.temperature = i == 1 ? 0.7f : 0.0f;
        p.seed = 1;
        collected out = {0};
        current = (script){tokens, 4, 0, 2, bad[i]};
        decode_calls = 0;
        CHECK(vlm_generate(&model, "hi", NULL, 0, &p, collect, &out, NULL) == VLM_ERR_FORMAT);
        CHECKF(strstr(vlm_last_error(), "not finite") && strstr(vlm_last_error(), "token 7"), "%s", vlm_last_error());
        CHECKF(!strcmp(out.text, "quiredata"), "streamed '%s'", out.text);
    }
}

void run_tests(void) {
    if (!setup()) {
        CHECK(0);
        return;
    }
    RUN(test_prompt_ids_match_reference);
    RUN(test_eos_stops_without_its_text);
    RUN(test_max_tokens_and_chunk);
    RUN(test_stop_string_across_tokens);
    RUN(test_callback_cancels);
    RUN(test_repetition_penalty_uses_history);
    RUN(test_prompt_longer_than_context);
    RUN(test_bad_params);
    RUN(test_non_finite_logits);
    vlm_tokenizer_free(model.tokenizer);
}
