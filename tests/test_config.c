/*
 * test_config.c — config.json + generation_config.json as mlx-vlm's
 * load_config merges them, dotted-path look-ups with text_config
 * fallbacks, EOS id lists, and MLX quantization settings with per-module
 * overrides. Real configs come from the shipped fixtures (values read off
 * the JSON by hand); edge cases are written at run time into cfg_cases.tmp/.
 */
#include <cjson/cJSON.h>
#include <sys/stat.h>

#include "io/config.h"
#include "test.h"

#define TMP "cfg_cases.tmp"

static void write_text(const char *dir, const char *name, const char *text) {
    char path[256];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        test_failures++;
        return;
    }
    fputs(text, f);
    fclose(f);
}

static cJSON *load(const char *dir) {
    cJSON *c = NULL;
    CHECK_OK(config_load(dir, &c));
    return c;
}

static cJSON *parse(const char *text) {
    cJSON *c = cJSON_Parse(text);
    CHECK(c != NULL);
    return c;
}

static void test_qwen2_vl_lookups(void) {
    cJSON *c = load("fixtures/io/qwen2_vl_bf16");
    if (!c) return;
    CHECK(!strcmp(config_string(c, "model_type", ""), "qwen2_vl"));
    CHECK(!strcmp(config_string(c, "architectures", "none"), "none"));   /* a list, not a string */
    CHECK(config_int(c, "vision_config.depth", -1) == 2);
    CHECK(config_int(c, "vision_config.embed_dim", -1) == 64);
    CHECK(config_int(c, "vision_config.missing", 7) == 7);
    CHECK(config_int(c, "vision_config.depth.deeper", 9) == 9);
    CHECK(config_int(c, "rms_norm_eps", 5) == 5);   /* not a whole number */
    CHECK_NEAR(config_float(c, "rms_norm_eps", 0), 1e-6, 1e-12);
    CHECK_NEAR(config_float(c, "rope_theta", 0), 1e6, 1e-6);
    CHECK(config_bool(c, "tie_word_embeddings", 0) == 1);
    CHECK(config_bool(c, "use_sliding_window", 1) == 0);
    /* Qwen2-VL keeps text dims at the top level */
    CHECK(config_text_int(c, "hidden_size", -1) == 128);
    CHECK(config_text_int(c, "num_key_value_heads", -1) == 2);
    CHECK_NEAR(config_text_float(c, "rms_norm_eps", 0), 1e-6, 1e-12);
    int64_t *sec = NULL;
    size_t n = 0;
    CHECK_OK(config_int_list(c, "rope_scaling.mrope_section", &sec, &n));
    CHECK(n == 3 && sec && sec[0] == 4 && sec[1] == 6 && sec[2] == 6);
    vlm_free(sec);
    CHECK_OK(config_int_list(c, "nothing.here", &sec, &n));
    CHECK(n == 0 && sec == NULL);
    CHECK(config_int_list(c, "architectures", &sec, &n) == VLM_ERR_FORMAT);
    CHECK(strstr(vlm_last_error(), "architectures") != NULL);
    int64_t v = 0;
    CHECK_OK(config_require_int(c, "vocab_size", &v));
    CHECK(v == 1024);
    CHECK(config_require_int(c, "vision_config.nope", &v) == VLM_ERR_NOT_FOUND);
    CHECK(strstr(vlm_last_error(), "vision_config.nope") != NULL);
    CHECK(config_require_int(c, "hidden_act", &v) == VLM_ERR_FORMAT);
    int32_t *eos = NULL;
    CHECK_OK(config_eos_ids(c, &eos, &n));
    CHECK(n == 1 && eos && eos[0] == 1002);   /* a plain int in config.json */
    vlm_free(eos);
    vlm_quant_config q;
    CHECK_OK(config_quantization(c, &q));
    CHECK(q.bits == 0);
    cJSON_Delete(c);
}

static void test_gemma3_text_config(void) {
    cJSON *c = load("fixtures/io/gemma3_q4");
    if (!c) return;
    CHECK(config_text_int(c, "hidden_size", -1) == 128);   /* only under text_config */
    CHECK(config_text_int(c, "head_dim", -1) == 32);
    CHECK(config_text_int(c, "sliding_window_pattern", -1) == 2);
    CHECK(config_int(c, "hidden_size", -1) == -1);
    CHECK(!strcmp(config_string(c, "text_config.rope_scaling.rope_type", ""), "linear"));
    CHECK(config_int(c, "vision_config.image_size", -1) == 56);
    CHECK(config_int(c, "mm_tokens_per_image", -1) == 4);
    int32_t *eos = NULL;
    size_t n = 0;
    CHECK_OK(config_eos_ids(c, &eos, &n));
    CHECK(n == 2 && eos && eos[0] == 1 && eos[1] == 106);
    vlm_free(eos);
    vlm_quant_config q;
    CHECK_OK(config_quantization(c, &q));
    CHECK(q.bits == 4 && q.group_size == 64);
    cJSON_Delete(c);
}

static void test_generation_config_merge(void) {
    /* config.json says 1002; generation_config.json says [1002, 1000] */
    cJSON *c = load("fixtures/io/e2e_qwen2_vl_q4_config");
    if (!c) return;
    int32_t *eos = NULL;
    size_t n = 0;
    CHECK_OK(config_eos_ids(c, &eos, &n));
    CHECK(n == 2 && eos && eos[0] == 1002 && eos[1] == 1000);
    vlm_free(eos);
    /* only eos_token_id is merged */
    CHECK(config_get(c, "top_k") == NULL && config_get(c, "temperature") == NULL);
    cJSON_Delete(c);

    /* a falsy eos (0, [], null) and a broken file leave config alone */
    const char *cases[] = {"{\"eos_token_id\": 0}", "{\"eos_token_id\": []}", "{\"eos_token_id\": null}",
                           "{\"eos_token_id\": [5", "{\"pad_token_id\": 3}"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(TMP "/gen", "config.json", "{\"model_type\":\"x\",\"eos_token_id\":[7,8]}");
        write_text(TMP "/gen", "generation_config.json", cases[i]);
        c = load(TMP "/gen");
        CHECK_OK(config_eos_ids(c, &eos, &n));
        CHECKF(n == 2 && eos[0] == 7 && eos[1] == 8, "case %zu", i);
        vlm_free(eos);
        cJSON_Delete(c);
    }
    /* an int replaces a list; EOS found under text_config when not at top */
    write_text(TMP "/gen", "generation_config.json", "{\"eos_token_id\": 9}");
    c = load(TMP "/gen");
    CHECK_OK(config_eos_ids(c, &eos, &n));
    CHECK(n == 1 && eos[0] == 9);
    vlm_free(eos);
    cJSON_Delete(c);
    write_text(TMP "/gen2", "config.json", "{\"text_config\":{\"eos_token_id\":[3, 4]}}");
    c = load(TMP "/gen2");
    CHECK_OK(config_eos_ids(c, &eos, &n));
    CHECK(n == 2 && eos[0] == 3 && eos[1] == 4);
    vlm_free(eos);
    cJSON_Delete(c);
    write_text(TMP "/gen3", "config.json", "{\"eos_token_id\":[1, \"2\"]}");
    c = load(TMP "/gen3");
    CHECK(config_eos_ids(c, &eos, &n) == VLM_ERR_FORMAT && eos == NULL);
    cJSON_Delete(c);
}

static void test_config_errors(void) {
    cJSON *c = NULL;
    CHECK(config_load(TMP "/absent", &c) == VLM_ERR_NOT_FOUND && c == NULL);
    CHECK(strstr(vlm_last_error(), TMP "/absent/config.json") != NULL);
    write_text(TMP "/broken", "config.json", "{\"model_type\": \"qwen2_vl\",");
    CHECK(config_load(TMP "/broken", &c) == VLM_ERR_FORMAT && c == NULL);
    CHECK(strstr(vlm_last_error(), "config.json") && strstr(vlm_last_error(), "JSON"));
    write_text(TMP "/list", "config.json", "[1, 2]");
    CHECK(config_load(TMP "/list", &c) == VLM_ERR_FORMAT && c == NULL);
    CHECK(strstr(vlm_last_error(), "not a JSON object") != NULL);
}

static void test_quantization(void) {
    cJSON *c = load("fixtures/io/qwen2_vl_q4");
    vlm_quant_config q;
    int bits, group;
    CHECK_OK(config_quantization(c, &q));
    CHECK(q.bits == 4 && q.group_size == 64);
    CHECK_OK(quant_for_module(&q, "language_model.model.layers.0.mlp.up_proj", &bits, &group));
    CHECK(bits == 4 && group == 64);
    CHECK_OK(quant_for_module(NULL, "x", &bits, &group));
    CHECK(bits == 0);
    cJSON_Delete(c);

    /* per-module overrides: own dict, or false */
    c = parse("{\"quantization\":{\"group_size\":64,\"bits\":4,\"mode\":\"affine\","
              "\"lm_head\":{\"group_size\":32,\"bits\":8},\"vision.proj\":false,\"bad\":\"q8\"}}");
    CHECK_OK(config_quantization(c, &q));
    CHECK_OK(quant_for_module(&q, "lm_head", &bits, &group));
    CHECK(bits == 8 && group == 32);
    CHECK_OK(quant_for_module(&q, "vision.proj", &bits, &group));
    CHECK(bits == 0);
    CHECK_OK(quant_for_module(&q, "other", &bits, &group));
    CHECK(bits == 4 && group == 64);
    CHECK(quant_for_module(&q, "bad", &bits, &group) == VLM_ERR_FORMAT);
    CHECK(strstr(vlm_last_error(), "'bad'") != NULL);
    cJSON_Delete(c);

    /* quantization_config alone; unsupported or invalid settings */
    c = parse("{\"quantization_config\":{\"group_size\":128,\"bits\":2}}");
    CHECK_OK(config_quantization(c, &q));
    CHECK(q.bits == 2 && q.group_size == 128);
    cJSON_Delete(c);
    c = parse("{\"quantization\":{\"group_size\":32,\"bits\":4,\"mode\":\"mxfp4\"}}");
    CHECK(config_quantization(c, &q) == VLM_ERR_UNSUPPORTED);
    CHECK(strstr(vlm_last_error(), "mxfp4") != NULL);
    cJSON_Delete(c);
    c = parse("{\"quantization\":{\"group_size\":64,\"bits\":7}}");
    CHECK(config_quantization(c, &q) == VLM_ERR_FORMAT && strstr(vlm_last_error(), "bits"));
    cJSON_Delete(c);
    c = parse("{\"quantization\":{\"group_size\":48,\"bits\":4}}");
    CHECK(config_quantization(c, &q) == VLM_ERR_FORMAT && strstr(vlm_last_error(), "group_size"));
    cJSON_Delete(c);
    c = parse("{\"quantization\":true}");
    CHECK(config_quantization(c, &q) == VLM_ERR_FORMAT);
    cJSON_Delete(c);
}

void run_tests(void) {
    mkdir(TMP, 0755);
    RUN(test_qwen2_vl_lookups);
    RUN(test_gemma3_text_config);
    RUN(test_generation_config_merge);
    RUN(test_config_errors);
    RUN(test_quantization);
}
