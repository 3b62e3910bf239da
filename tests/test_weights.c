/*
 * test_weights.c — binding linear weights (dense and MLX-quantized, decided
 * per tensor by .scales), small f32 vectors and shape checks.
 *
 * References: shapes of the unquantized bf16 fixture (the same model), and
 * values read from the fixtures with Python numpy (bf16 -> f32), not with
 * this code. Hand-made files go to w_cases.tmp/.
 */
#include <cjson/cJSON.h>
#include <sys/stat.h>

#include "io/weights.h"
#include "test.h"

#define TMP "w_cases.tmp"
#define LM "language_model.model.layers.0."

static st_archive *open_dir(const char *dir) {
    st_archive *a = NULL;
    CHECK_OK(st_open_dir(dir, &a));
    return a;
}

static vlm_quant_config quant_of(const char *dir, cJSON **config) {
    vlm_quant_config q = {0};
    CHECK_OK(config_load(dir, config));
    if (*config) CHECK_OK(config_quantization(*config, &q));
    return q;
}

static float bf16_at(const void *p, size_t i) {
    uint16_t h;
    memcpy(&h, (const uint8_t *)p + 2 * i, 2);
    return bf16_to_f32(h);
}

/* Each quantized linear of the q4 model has the [out, in] of the same
 * layer in the bf16 model. */
static void test_q4_matches_bf16_shapes(void) {
    st_archive *q4 = open_dir("fixtures/io/qwen2_vl_q4"), *bf = open_dir("fixtures/io/qwen2_vl_bf16");
    cJSON *config = NULL;
    vlm_quant_config q = quant_of("fixtures/io/qwen2_vl_q4", &config);
    const char *linears[] = {LM "self_attn.q_proj", LM "self_attn.k_proj", LM "self_attn.v_proj",
                             LM "self_attn.o_proj", LM "mlp.gate_proj", LM "mlp.up_proj",
                             LM "mlp.down_proj", "language_model.model.embed_tokens"};
    for (size_t i = 0; q4 && bf && i < sizeof linears / sizeof *linears; i++) {
        vlm_weight wq, wb;
        CHECK_OK(weights_linear(q4, &q, linears[i], &wq));
        CHECK_OK(weights_linear(bf, NULL, linears[i], &wb));
        CHECKF(vlm_weight_is_quantized(&wq) && wq.bits == 4 && wq.group_size == 64, "%s", linears[i]);
        CHECKF(!vlm_weight_is_quantized(&wb) && wb.dtype == VLM_DTYPE_BF16, "%s", linears[i]);
        CHECKF(wq.rows == wb.rows && wq.cols == wb.cols, "%s: %lldx%lld vs %lldx%lld", linears[i],
               (long long)wq.rows, (long long)wq.cols, (long long)wb.rows, (long long)wb.cols);
    }
    st_close(q4);
    st_close(bf);
    cJSON_Delete(config);
}

static void test_q4_binding_points_into_the_file(void) {
    st_archive *a = open_dir("fixtures/io/qwen2_vl_q4");
    cJSON *config = NULL;
    vlm_quant_config q = quant_of("fixtures/io/qwen2_vl_q4", &config);
    if (!a) return;
    vlm_weight w;
    CHECK_OK(weights_linear(a, &q, LM "mlp.up_proj", &w));
    CHECK(w.rows == 256 && w.cols == 128 && w.scale_dtype == VLM_DTYPE_BF16);
    CHECK(w.data == st_find(a, LM "mlp.up_proj.weight")->data);
    /* first row's scales and biases as numpy reads them */
    CHECK(bf16_at(w.scales, 0) == 0.0274658203125f && bf16_at(w.scales, 1) == 0.0211181640625f);
    CHECK(bf16_at(w.biases, 0) == -0.2197265625f && bf16_at(w.biases, 1) == -0.1689453125f);
    /* the vision tower stays bf16 although config.json declares q4 */
    CHECK_OK(weights_linear(a, &q, "vision_tower.blocks.0.attn.qkv", &w));
    CHECK(w.dtype == VLM_DTYPE_BF16 && w.rows == 192 && w.cols == 64 && w.scales == NULL);
    /* packed shapes fit several (bits, group): without a config it is an error */
    CHECK(weights_linear(a, NULL, LM "mlp.up_proj", &w) == VLM_ERR_FORMAT);
    CHECK(strstr(vlm_last_error(), LM "mlp.up_proj") && strstr(vlm_last_error(), "more than one"));
    /* a config that does not fit the shapes */
    vlm_quant_config wrong = {.bits = 3, .group_size = 64};
    CHECK(weights_linear(a, &wrong, LM "mlp.up_proj", &w) == VLM_ERR_FORMAT);
    CHECK(strstr(vlm_last_error(), "3 bits") != NULL);
    /* a per-module override is what counts for that module */
    cJSON *o = cJSON_Parse("{\"quantization\":{\"bits\":4,\"group_size\":64,\"" LM
                           "mlp.up_proj\":{\"bits\":8,\"group_size\":32}}}");
    vlm_quant_config ov;
    CHECK_OK(config_quantization(o, &ov));
    CHECK_OK(weights_linear(a, &ov, LM "mlp.up_proj", &w));
    CHECK(w.bits == 8 && w.group_size == 32 && w.cols == 64);
    CHECK_OK(weights_linear(a, &ov, LM "mlp.gate_proj", &w));
    CHECK(w.bits == 4 && w.cols == 128);
    cJSON_Delete(o);
    /* missing tensors are named */
    CHECK(weights_linear(a, &q, LM "mlp.nope", &w) == VLM_ERR_NOT_FOUND);
    CHECK(strstr(vlm_last_error(), LM "mlp.nope.weight") != NULL);
    st_close(a);
    cJSON_Delete(config);
}

static void test_vectors_and_shapes(void) {
    st_archive *a = open_dir("fixtures/io/qwen2_vl_bf16");
    if (!a) return;
    float *v = NULL;
    CHECK_OK(weights_norm_f32(a, "language_model.model.norm", 128, &v));
    CHECK(v && v[0] == 1.0859375f && v[1] == 0.95703125f && v[2] == 0.94921875f && v[3] == 1.0234375f);
    vlm_free(v);
    CHECK(weights_norm_f32(a, "language_model.model.norm", 64, &v) == VLM_ERR_FORMAT && v == NULL);
    CHECK(strstr(vlm_last_error(), "expected shape [64] but the checkpoint has [128]") != NULL);
    CHECK(strstr(vlm_last_error(), "language_model.model.norm.weight") != NULL);
    CHECK_OK(weights_bias_f32(a, LM "self_attn.q_proj", 128, &v));
    CHECK(v && v[0] == -0.00921630859375f && v[1] == 0.008056640625f && v[2] == -0.0079345703125f);
    vlm_free(v);
    CHECK(weights_bias_f32(a, LM "self_attn.o_proj", 128, &v) == VLM_ERR_NOT_FOUND);
    CHECK(strstr(vlm_last_error(), LM "self_attn.o_proj.bias") != NULL);
    CHECK_OK(weights_bias_f32_opt(a, LM "self_attn.o_proj", 128, &v));
    CHECK(v == NULL);
    CHECK_OK(weights_bias_f32_opt(a, LM "self_attn.q_proj", 128, &v));
    CHECK(v != NULL);
    vlm_free(v);
    const st_tensor *t = NULL;
    CHECK_OK(weights_expect(a, "vision_tower.patch_embed.proj.weight", &t, 64, 2, 14, 14, -1));
    CHECK(t && t->shape[4] == 3);
    CHECK(weights_expect(a, "vision_tower.patch_embed.proj.weight", NULL, 64, 1176) == VLM_ERR_FORMAT);
    CHECK(strstr(vlm_last_error(), "[64, 2, 14, 14, 3]") != NULL);
    vlm_weight w;
    CHECK_OK(weights_dense_flat(a, "vision_tower.patch_embed.proj.weight", &w));
    CHECK(w.rows == 64 && w.cols == 2 * 14 * 14 * 3 && w.dtype == VLM_DTYPE_BF16);
    CHECK(weights_linear(a, NULL, "vision_tower.patch_embed.proj", &w) == VLM_ERR_FORMAT);
    CHECK(weights_linear(a, NULL, "language_model.model.norm", &w) == VLM_ERR_FORMAT);
    st_close(a);
}

static void write_st(const char *path, const char *header, const void *data, size_t data_len) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        test_failures++;
        return;
    }
    uint64_t n = strlen(header);
    unsigned char len[8];
    for (int i = 0; i < 8; i++) len[i] = (unsigned char)(n >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(header, 1, n, f);
    fwrite(data, 1, data_len, f);
    fclose(f);
}

static void test_float_conversions(void) {
    /* 1.5 and -2 in each float dtype (bit patterns by IEEE definition) */
    static const uint8_t data[] = {
        0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0,             /* F32 */
        0x00, 0x3e, 0x00, 0xc0,                                     /* F16 */
        0xc0, 0x3f, 0x00, 0xc0,                                     /* BF16 */
        0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0,    /* F64 */
        1, 0, 0, 0};                                                /* I32 */
    write_st(TMP "/floats.safetensors",
             "{\"f32\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
             "\"f16\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
             "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
             "\"f64\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[16,32]},"
             "\"i32\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[32,36]}}",
             data, sizeof data);
    st_archive *a = NULL;
    CHECK_OK(st_open_file(TMP "/floats.safetensors", &a));
    if (!a) return;
    const char *names[] = {"f32", "f16", "bf16", "f64"};
    int64_t two = 2, one = 1;
    for (int i = 0; i < 4; i++) {
        float *v = NULL;
        CHECK_OK(weights_f32_shape(a, names[i], 1, &two, &v));
        CHECKF(v && v[0] == 1.5f && v[1] == -2.0f, "%s", names[i]);
        vlm_free(v);
    }
    float *v = NULL;
    CHECK(weights_f32_shape(a, "i32", 1, &one, &v) == VLM_ERR_FORMAT && v == NULL);
    CHECK(strstr(vlm_last_error(), "'i32'") && strstr(vlm_last_error(), "not a float"));
    st_close(a);
}

/* 3-bit weights with 64 inputs: 6 words and 2 groups of 32 per row fit
 * only (bits 3, group 32), so they are inferred without a config. */
static void test_quant_inference_and_companions(void) {
    const char *good =
        "{\"m.weight\":{\"dtype\":\"U32\",\"shape\":[4,6],\"data_offsets\":[0,96]},"
        "\"m.scales\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[96,112]},"
        "\"m.biases\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[112,128]},"
        "\"n.weight\":{\"dtype\":\"U32\",\"shape\":[4,6],\"data_offsets\":[128,224]},"
        "\"n.scales\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[224,240]},"
        "\"s.weight\":{\"dtype\":\"U32\",\"shape\":[4,6],\"data_offsets\":[240,336]},"
        "\"s.scales\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[336,352]},"
        "\"s.biases\":{\"dtype\":\"BF16\",\"shape\":[4,2],\"data_offsets\":[352,368]},"
        "\"d.weight\":{\"dtype\":\"BF16\",\"shape\":[4,6],\"data_offsets\":[368,416]},"
        "\"d.scales\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[416,432]},"
        "\"d.biases\":{\"dtype\":\"F16\",\"shape\":[4,2],\"data_offsets\":[432,448]}}";
    uint8_t data[448] = {0};
    write_st(TMP "/q3.safetensors", good, data, sizeof data);
    st_archive *a = NULL;
    CHECK_OK(st_open_file(TMP "/q3.safetensors", &a));
    if (!a) return;
    vlm_weight w;
    CHECK_OK(weights_linear(a, NULL, "m", &w));
    CHECK(w.bits == 3 && w.group_size == 32 && w.rows == 4 && w.cols == 64 && w.scale_dtype == VLM_DTYPE_F16);
    CHECK(weights_linear(a, NULL, "n", &w) == VLM_ERR_NOT_FOUND);   /* scales without biases */
    CHECK(strstr(vlm_last_error(), "'n.biases'") != NULL);
    CHECK(weights_linear(a, NULL, "s", &w) == VLM_ERR_FORMAT);      /* mismatched companions */
    CHECK(strstr(vlm_last_error(), "'s'") != NULL);
    CHECK(weights_linear(a, NULL, "d", &w) == VLM_ERR_FORMAT);      /* scales on a bf16 weight */
    CHECK(strstr(vlm_last_error(), "d.weight") && strstr(vlm_last_error(), "U32"));
    st_close(a);
}

/* Kimi-VL's routed experts are stacked [experts, out, words]; each expert
 * binds as its own [out, in] matrix. Dims from its config.json:
 * n_routed_experts 8, moe_intermediate_size 64, hidden_size 128. */
static void test_stacked_experts(void) {
    st_archive *a = open_dir("fixtures/io/kimi_vl_q4");
    cJSON *config = NULL;
    vlm_quant_config q = quant_of("fixtures/io/kimi_vl_q4", &config);
    if (!a) return;
    const char *up = "language_model.model.layers.1.mlp.switch_mlp.up_proj";
    const char *down = "language_model.model.layers.1.mlp.switch_mlp.down_proj";
    vlm_weight e0, e5;
    CHECK_OK(weights_expert(a, &q, up, 0, &e0));
    CHECK_OK(weights_expert(a, &q, up, 5, &e5));
    CHECK(e0.rows == 64 && e0.cols == 128 && e0.bits == 4 && e0.group_size == 64);
    const st_tensor *w = st_find(a, "language_model.model.layers.1.mlp.switch_mlp.up_proj.weight");
    const st_tensor *s = st_find(a, "language_model.model.layers.1.mlp.switch_mlp.up_proj.scales");
    CHECK(e0.data == w->data && e0.scales == s->data);
    /* expert 5 starts 5 * 64 rows * 16 words * 4 bytes in; scales 5 * 64 * 2 groups * 2 bytes */
    CHECK((const uint8_t *)e5.data == (const uint8_t *)w->data + 5 * 64 * 16 * 4);
    CHECK((const uint8_t *)e5.scales == (const uint8_t *)s->data + 5 * 64 * 2 * 2);
    CHECK_OK(weights_expert(a, &q, down, 7, &e5));
    CHECK(e5.rows == 128 && e5.cols == 64 && e5.group_size == 64);
    CHECK(weights_expert(a, &q, up, 8, &e0) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "expert 8 of 8") != NULL);
    CHECK(weights_linear(a, &q, up, &e0) == VLM_ERR_FORMAT);   /* not one matrix */
    CHECK(strstr(vlm_last_error(), "expected 2 dimensions") != NULL);
    CHECK(weights_expert(a, &q, "language_model.model.layers.1.mlp.shared_experts.up_proj", 0, &e0) ==
          VLM_ERR_FORMAT);
    st_close(a);
    cJSON_Delete(config);
}

void run_tests(void) {
    mkdir(TMP, 0755);
    RUN(test_q4_matches_bf16_shapes);
    RUN(test_q4_binding_points_into_the_file);
    RUN(test_vectors_and_shapes);
    RUN(test_float_conversions);
    RUN(test_quant_inference_and_companions);
    RUN(test_stacked_experts);
}
