/*
 * bench_make_random.c — `vlm bench --make-random qwen2-vl-2b --bits B --out DIR`:
 * a random-weight checkpoint at the real Qwen2-VL-2B-Instruct dimensions,
 * in the exact layout mlx-vlm's convert writes (MLX tensor names,
 * channels-last Conv3d patch embedding, one model.safetensors with
 * __metadata__ {"format":"mlx"}), so speed and memory can be measured
 * without downloading real weights.
 *
 * Quantization: bits 4/8 = MLX affine, group 64, on every Linear whose input
 * size is a multiple of 64 and the (tied) embedding, vision tower included,
 * as the mlx-community Qwen2-VL uploads were converted (the Conv3d patch
 * embedding and norms stay bf16); --skip-vision keeps the whole vision
 * tower bf16, as today's mlx-vlm convert does. bits 16 = all bf16.
 * Values are random but of a realistic scale (|w| ~ 0.004..0.06, unit
 * norms), so activations stay finite through all layers. The folder also
 * gets config.json, generation_config.json, preprocessor_config.json, the
 * Qwen2-VL chat template and a minimal byte-level tokenizer (the 256 byte
 * tokens plus the 14 Qwen2-VL special tokens at their real ids; the
 * benchmark feeds ids directly).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_model.h"
#include "commands.h"
#include "generate/sampling.h"
#include "io/safetensors_write.h"

#define GROUP_SIZE 64

/* Qwen2-VL-2B-Instruct (Qwen/Qwen2-VL-2B-Instruct config.json). */
typedef struct qwen2_vl_dims {
    int hidden, layers, heads, kv_heads, intermediate, vocab;
    int vision_depth, vision_dim, vision_heads, mlp_ratio, patch, merge, temporal;
} qwen2_vl_dims;

static const qwen2_vl_dims qwen2_vl_2b = {1536, 28, 12, 2, 8960, 151936, 32, 1280, 16, 4, 14, 2, 2};

static const char *const special_tokens[] = {
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"};
enum { FIRST_SPECIAL_ID = 151643, N_SPECIALS = 14 };

static const char qwen2_vl_chat_template[] =
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% f"
    "or message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>"
    "system\nYou are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'"
    "] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %"
    "}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in c"
    "ontent or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{%"
    " if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_"
    "pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}{% set vid"
    "eo_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.valu"
    "e }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}"
    "{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add"
    "_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/* ---- the tensor list ---------------------------------------------------- */

typedef enum fill_kind { FILL_WEIGHT, FILL_ONES, FILL_CODES, FILL_SCALES, FILL_QBIASES } fill_kind;

typedef struct checkpoint {
    st_write_tensor *tensors;
    fill_kind *fill;
    char **names;
    size_t n, cap;
    int bits;
    int quantize_vision;
} checkpoint;

static int add_tensor(checkpoint *c, const char *name, vlm_dtype dtype, fill_kind fill, int ndim, const int64_t *shape) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        st_write_tensor *t = realloc(c->tensors, cap * sizeof *t);
        if (t) c->tensors = t;
        fill_kind *f = realloc(c->fill, cap * sizeof *f);
        if (f) c->fill = f;
        char **nm = realloc(c->names, cap * sizeof *nm);
        if (nm) c->names = nm;
        if (!t || !f || !nm) return cli_fail("bench", "out of memory");
        c->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return cli_fail("bench", "out of memory");
    st_write_tensor *t = &c->tensors[c->n];
    memset(t, 0, sizeof *t);
    t->name = c->names[c->n] = copy;
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    c->fill[c->n++] = fill;
    return 0;
}

static int add_1d(checkpoint *c, const char *prefix, const char *leaf, int64_t n, fill_kind fill) {
    char name[256];
    snprintf(name, sizeof name, "%s.%s", prefix, leaf);
    return add_tensor(c, name, VLM_DTYPE_BF16, fill, 1, (int64_t[]){n});
}

/* A Linear (or Embedding) [out, in]: quantized when bits < 16, quantizable
 * and in is a multiple of the group size, as mlx-vlm's predicate decides. */
static int add_linear(checkpoint *c, const char *prefix, int64_t out, int64_t in, int has_bias, int quantizable) {
    char name[256];
    int rc;
    if (c->bits < 16 && quantizable && in % GROUP_SIZE == 0) {
        snprintf(name, sizeof name, "%s.weight", prefix);
        rc = add_tensor(c, name, VLM_DTYPE_U32, FILL_CODES, 2, (int64_t[]){out, in * c->bits / 32});
        snprintf(name, sizeof name, "%s.scales", prefix);
        if (!rc) rc = add_tensor(c, name, VLM_DTYPE_BF16, FILL_SCALES, 2, (int64_t[]){out, in / GROUP_SIZE});
        snprintf(name, sizeof name, "%s.biases", prefix);
        if (!rc) rc = add_tensor(c, name, VLM_DTYPE_BF16, FILL_QBIASES, 2, (int64_t[]){out, in / GROUP_SIZE});
    } else {
        snprintf(name, sizeof name, "%s.weight", prefix);
        rc = add_tensor(c, name, VLM_DTYPE_BF16, FILL_WEIGHT, 2, (int64_t[]){out, in});
    }
    if (!rc && has_bias) rc = add_1d(c, prefix, "bias", out, FILL_WEIGHT);
    return rc;
}

static int add_language_model(checkpoint *c, const qwen2_vl_dims *d) {
    const int64_t head_dim = d->hidden / d->heads, kv = d->kv_heads * head_dim;
    char p[160];
    int rc = add_linear(c, "language_model.model.embed_tokens", d->vocab, d->hidden, 0, 1);
    for (int l = 0; l < d->layers && !rc; l++) {
#define LAYER(leaf) (snprintf(p, sizeof p, "language_model.model.layers.%d.%s", l, leaf), p)
        rc = add_1d(c, LAYER("input_layernorm"), "weight", d->hidden, FILL_ONES);
        rc = rc ? rc : add_linear(c, LAYER("self_attn.q_proj"), d->hidden, d->hidden, 1, 1);
        rc = rc ? rc : add_linear(c, LAYER("self_attn.k_proj"), kv, d->hidden, 1, 1);
        rc = rc ? rc : add_linear(c, LAYER("self_attn.v_proj"), kv, d->hidden, 1, 1);
        rc = rc ? rc : add_linear(c, LAYER("self_attn.o_proj"), d->hidden, d->hidden, 0, 1);
        rc = rc ? rc : add_1d(c, LAYER("post_attention_layernorm"), "weight", d->hidden, FILL_ONES);
        rc = rc ? rc : add_linear(c, LAYER("mlp.gate_proj"), d->intermediate, d->hidden, 0, 1);
        rc = rc ? rc : add_linear(c, LAYER("mlp.up_proj"), d->intermediate, d->hidden, 0, 1);
        rc = rc ? rc : add_linear(c, LAYER("mlp.down_proj"), d->hidden, d->intermediate, 0, 1);
#undef LAYER
    }
    return rc ? rc : add_1d(c, "language_model.model.norm", "weight", d->hidden, FILL_ONES);
}

static int add_vision_tower(checkpoint *c, const qwen2_vl_dims *d) {
    const int64_t dim = d->vision_dim, mlp = dim * d->mlp_ratio, merged = dim * d->merge * d->merge;
    char p[160];
    int rc = add_tensor(c, "vision_tower.patch_embed.proj.weight", VLM_DTYPE_BF16, FILL_WEIGHT, 5,
                        (int64_t[]){dim, d->temporal, d->patch, d->patch, 3});
    for (int b = 0; b < d->vision_depth && !rc; b++) {
#define BLOCK(leaf) (snprintf(p, sizeof p, "vision_tower.blocks.%d.%s", b, leaf), p)
        rc = add_1d(c, BLOCK("norm1"), "weight", dim, FILL_ONES);
        rc = rc ? rc : add_1d(c, BLOCK("norm1"), "bias", dim, FILL_WEIGHT);
        rc = rc ? rc : add_linear(c, BLOCK("attn.qkv"), 3 * dim, dim, 1, c->quantize_vision);
        rc = rc ? rc : add_linear(c, BLOCK("attn.proj"), dim, dim, 1, c->quantize_vision);
        rc = rc ? rc : add_1d(c, BLOCK("norm2"), "weight", dim, FILL_ONES);
        rc = rc ? rc : add_1d(c, BLOCK("norm2"), "bias", dim, FILL_WEIGHT);
        rc = rc ? rc : add_linear(c, BLOCK("mlp.fc1"), mlp, dim, 1, c->quantize_vision);
        rc = rc ? rc : add_linear(c, BLOCK("mlp.fc2"), dim, mlp, 1, c->quantize_vision);
#undef BLOCK
    }
    rc = rc ? rc : add_1d(c, "vision_tower.merger.ln_q", "weight", dim, FILL_ONES);
    rc = rc ? rc : add_1d(c, "vision_tower.merger.ln_q", "bias", dim, FILL_WEIGHT);
    rc = rc ? rc : add_linear(c, "vision_tower.merger.mlp.0", merged, merged, 1, c->quantize_vision);
    return rc ? rc : add_linear(c, "vision_tower.merger.mlp.2", d->hidden, merged, 1, c->quantize_vision);
}

static void checkpoint_free(checkpoint *c) {
    for (size_t i = 0; i < c->n; i++) free(c->names[i]);
    free(c->names);
    free(c->tensors);
    free(c->fill);
}

/* ---- random values ------------------------------------------------------ */

/* bf16 with random sign and mantissa, |x| in [2^-8, 2^-4). */
static uint16_t random_weight_bf16(uint16_t r) {
    return (uint16_t)((r & 0x8000) | ((119u + ((r >> 7) & 3u)) << 7) | (r & 0x7f));
}

/* Per-group scale giving codes a spread like the bf16 weights (std ~0.02). */
static float group_scale(int bits, double u) {
    float base = bits == 4 ? 0.0043f : 0.00027f;
    return base * (float)(0.75 + 0.5 * u);
}

static vlm_status fill_tensor(void *ctx, size_t index, void *buf, size_t nbytes) {
    const checkpoint *c = ctx;
    sampler_rng rng;
    sampler_rng_seed(&rng, 0x5eed0000u + index);
    uint16_t *h = buf;
    size_t n16 = nbytes / 2;
    float center = (float)((1 << c->bits) - 1) / 2.0f;
    switch (c->fill[index]) {
    case FILL_CODES:
        for (size_t i = 0; i < nbytes; i += 8) {
            uint64_t r = sampler_rng_next(&rng);
            memcpy((uint8_t *)buf + i, &r, nbytes - i < 8 ? nbytes - i : 8);
        }
        break;
    case FILL_WEIGHT:
        for (size_t i = 0; i < n16; i += 4) {
            uint64_t r = sampler_rng_next(&rng);
            for (size_t k = 0; k < 4 && i + k < n16; k++) h[i + k] = random_weight_bf16((uint16_t)(r >> (16 * k)));
        }
        break;
    case FILL_ONES:
        for (size_t i = 0; i < n16; i++) h[i] = f32_to_bf16(1.0f);
        break;
    case FILL_SCALES:
    case FILL_QBIASES: /* same stream for both, so bias = -center * scale per group */
        sampler_rng_seed(&rng, 0x5ca1e000u + index - (c->fill[index] == FILL_QBIASES));
        for (size_t i = 0; i < n16; i++) {
            float s = group_scale(c->bits, sampler_rng_uniform(&rng));
            h[i] = f32_to_bf16(c->fill[index] == FILL_SCALES ? s : -center * s);
        }
        break;
    }
    return VLM_OK;
}

/* ---- the folder's JSON files -------------------------------------------- */

static int write_json(const char *dir, const char *file, cJSON *json) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = json ? cJSON_Print(json) : NULL;
    cJSON_Delete(json);
    FILE *f = text ? fopen(path, "wb") : NULL;
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f)) ok = 0;
    free(text);
    return ok ? 0 : cli_fail("bench", "cannot write %s", path);
}

static cJSON *int_array(const int *v, int n) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

static cJSON *quantization(int bits) {
    cJSON *q = cJSON_CreateObject();
    cJSON_AddNumberToObject(q, "group_size", GROUP_SIZE);
    cJSON_AddNumberToObject(q, "bits", bits);
    cJSON_AddStringToObject(q, "mode", "affine");
    return q;
}

typedef struct json_number {
    const char *key;
    double value;
} json_number;

static void add_numbers(cJSON *obj, const json_number *fields, size_t n) {
    for (size_t i = 0; i < n; i++) cJSON_AddNumberToObject(obj, fields[i].key, fields[i].value);
}

static cJSON *model_config(const qwen2_vl_dims *d, int bits) {
    const json_number text[] = {
        {"bos_token_id", FIRST_SPECIAL_ID},        {"eos_token_id", FIRST_SPECIAL_ID + 2},
        {"vision_start_token_id", FIRST_SPECIAL_ID + 9}, {"vision_end_token_id", FIRST_SPECIAL_ID + 10},
        {"vision_token_id", FIRST_SPECIAL_ID + 11}, {"image_token_id", FIRST_SPECIAL_ID + 12},
        {"video_token_id", FIRST_SPECIAL_ID + 13}, {"hidden_size", d->hidden},
        {"intermediate_size", d->intermediate},    {"max_position_embeddings", 32768},
        {"max_window_layers", d->layers},          {"num_attention_heads", d->heads},
        {"num_hidden_layers", d->layers},          {"num_key_value_heads", d->kv_heads},
        {"rms_norm_eps", 1e-6},                    {"rope_theta", 1000000.0},
        {"sliding_window", 32768},                 {"vocab_size", d->vocab}};
    const json_number vision[] = {
        {"depth", d->vision_depth}, {"embed_dim", d->vision_dim},      {"hidden_size", d->hidden},
        {"mlp_ratio", d->mlp_ratio}, {"num_heads", d->vision_heads},   {"in_chans", 3},
        {"patch_size", d->patch},   {"spatial_merge_size", d->merge}, {"spatial_patch_size", d->patch},
        {"temporal_patch_size", d->temporal}};
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToObject(c, "architectures", cJSON_CreateStringArray((const char *[]){"Qwen2VLForConditionalGeneration"}, 1));
    cJSON_AddStringToObject(c, "model_type", "qwen2_vl");
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    add_numbers(c, text, sizeof text / sizeof *text);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", 1);
    cJSON_AddStringToObject(c, "torch_dtype", "bfloat16");
    cJSON_AddBoolToObject(c, "use_sliding_window", 0);
    cJSON *rope = cJSON_AddObjectToObject(c, "rope_scaling");
    cJSON_AddStringToObject(rope, "type", "mrope");
    cJSON_AddItemToObject(rope, "mrope_section", int_array((const int[]){16, 24, 24}, 3));
    cJSON *v = cJSON_AddObjectToObject(c, "vision_config");
    cJSON_AddStringToObject(v, "hidden_act", "quick_gelu");
    add_numbers(v, vision, sizeof vision / sizeof *vision);
    if (bits < 16) {
        cJSON_AddItemToObject(c, "quantization", quantization(bits));
        cJSON_AddItemToObject(c, "quantization_config", quantization(bits));
    }
    return c;
}

static cJSON *generation_config(void) {
    cJSON *g = cJSON_CreateObject();
    cJSON_AddNumberToObject(g, "bos_token_id", FIRST_SPECIAL_ID);
    cJSON_AddNumberToObject(g, "pad_token_id", FIRST_SPECIAL_ID);
    cJSON_AddItemToObject(g, "eos_token_id", int_array((const int[]){FIRST_SPECIAL_ID + 2, FIRST_SPECIAL_ID}, 2));
    return g;
}

static cJSON *preprocessor_config(const qwen2_vl_dims *d) {
    const json_number fields[] = {{"min_pixels", 3136},
                                  {"max_pixels", 12845056},
                                  {"patch_size", d->patch},
                                  {"temporal_patch_size", d->temporal},
                                  {"merge_size", d->merge}};
    cJSON *p = cJSON_CreateObject();
    add_numbers(p, fields, sizeof fields / sizeof *fields);
    cJSON_AddItemToObject(p, "image_mean", cJSON_CreateDoubleArray((const double[]){0.48145466, 0.4578275, 0.40821073}, 3));
    cJSON_AddItemToObject(p, "image_std", cJSON_CreateDoubleArray((const double[]){0.26862954, 0.26130258, 0.27577711}, 3));
    cJSON_AddStringToObject(p, "image_processor_type", "Qwen2VLImageProcessor");
    cJSON_AddStringToObject(p, "processor_class", "Qwen2VLProcessor");
    return p;
}

/* GPT-2 byte-level alphabet: byte b -> code point, in the id order the
 * real Qwen vocabulary uses (printable bytes first, then the rest). */
static void byte_level_alphabet(int codepoint[256], int byte_of_id[256]) {
    int n = 0, extra = 0;
    for (int b = 0; b < 256; b++)
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) {
            codepoint[b] = b;
            byte_of_id[n++] = b;
        }
    for (int b = 0; b < 256; b++)
        if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))) {
            codepoint[b] = 256 + extra++;
            byte_of_id[n++] = b;
        }
}

static void utf8_encode(int cp, char out[4]) {
    memset(out, 0, 4);
    if (cp < 0x80) out[0] = (char)cp;
    else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
    }
}

static cJSON *added_token(const char *content, int id) {
    cJSON *t = cJSON_CreateObject();
    if (id >= 0) cJSON_AddNumberToObject(t, "id", id);
    cJSON_AddStringToObject(t, "content", content);
    cJSON_AddBoolToObject(t, "single_word", 0);
    cJSON_AddBoolToObject(t, "lstrip", 0);
    cJSON_AddBoolToObject(t, "rstrip", 0);
    cJSON_AddBoolToObject(t, "normalized", 0);
    cJSON_AddBoolToObject(t, "special", 1);
    return t;
}

static const char qwen2_pipeline_json[] =
    "{\"normalizer\":{\"type\":\"NFC\"},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":"
    "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+"
    "[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false},"
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}]},"
    "\"post_processor\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false},"
    "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}}";

static cJSON *tokenizer_json(void) {
    cJSON *t = cJSON_Parse(qwen2_pipeline_json);
    if (!t) return NULL;
    cJSON_AddStringToObject(t, "version", "1.0");
    cJSON *added = cJSON_AddArrayToObject(t, "added_tokens");
    for (int i = 0; i < N_SPECIALS; i++) cJSON_AddItemToArray(added, added_token(special_tokens[i], FIRST_SPECIAL_ID + i));
    cJSON *model = cJSON_AddObjectToObject(t, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    int codepoint[256], byte_of_id[256];
    byte_level_alphabet(codepoint, byte_of_id);
    for (int id = 0; id < 256; id++) {
        char sym[4];
        utf8_encode(codepoint[byte_of_id[id]], sym);
        cJSON_AddNumberToObject(vocab, sym, id);
    }
    cJSON_AddArrayToObject(model, "merges");
    return t;
}

static cJSON *tokenizer_config(void) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddBoolToObject(c, "add_prefix_space", 0);
    cJSON *dec = cJSON_AddObjectToObject(c, "added_tokens_decoder");
    for (int i = 0; i < N_SPECIALS; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", FIRST_SPECIAL_ID + i);
        cJSON_AddItemToObject(dec, id, added_token(special_tokens[i], -1));
    }
    cJSON_AddItemToObject(c, "additional_special_tokens", cJSON_CreateStringArray(special_tokens + 1, N_SPECIALS - 1));
    cJSON_AddNullToObject(c, "bos_token");
    cJSON_AddBoolToObject(c, "clean_up_tokenization_spaces", 0);
    cJSON_AddStringToObject(c, "eos_token", "<|im_end|>");
    cJSON_AddStringToObject(c, "pad_token", "<|endoftext|>");
    cJSON_AddNumberToObject(c, "model_max_length", 32768);
    cJSON_AddStringToObject(c, "tokenizer_class", "Qwen2Tokenizer");
    cJSON_AddNullToObject(c, "unk_token");
    return c;
}

static cJSON *chat_template(void) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "chat_template", qwen2_vl_chat_template);
    return c;
}

/* ---- entry -------------------------------------------------------------- */

static int write_weights(const char *out_dir, const qwen2_vl_dims *d, int bits, int quantize_vision) {
    checkpoint c = {.bits = bits, .quantize_vision = quantize_vision};
    int rc = add_language_model(&c, d);
    if (!rc) rc = add_vision_tower(&c, d);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", out_dir);
    if (!rc && st_write_file(path, c.tensors, c.n, fill_tensor, &c)) rc = cli_fail("bench", NULL);
    checkpoint_free(&c);
    return rc;
}

int bench_make_random(const char *arch, int bits, int quantize_vision, const char *out_dir) {
    if (!arch || strcmp(arch, "qwen2-vl-2b"))
        return cli_fail("bench", "--make-random knows 'qwen2-vl-2b', not '%s'", arch ? arch : "");
    if (bits != 4 && bits != 8 && bits != 16) return cli_fail("bench", "--bits must be 4, 8 or 16, got %d", bits);
    if (!out_dir) return cli_fail("bench", "--make-random needs --out DIR");
    if (mkdir(out_dir, 0755) && errno != EEXIST) return cli_fail("bench", "cannot create %s: %s", out_dir, strerror(errno));
    const qwen2_vl_dims *d = &qwen2_vl_2b;
    int rc = write_json(out_dir, "config.json", model_config(d, bits));
    if (!rc) rc = write_json(out_dir, "generation_config.json", generation_config());
    if (!rc) rc = write_json(out_dir, "preprocessor_config.json", preprocessor_config(d));
    if (!rc) rc = write_json(out_dir, "tokenizer.json", tokenizer_json());
    if (!rc) rc = write_json(out_dir, "tokenizer_config.json", tokenizer_config());
    if (!rc) rc = write_json(out_dir, "chat_template.json", chat_template());
    if (!rc) rc = write_weights(out_dir, d, bits, quantize_vision);
    if (!rc) fprintf(stderr, "vlm bench: wrote a random-weight qwen2-vl-2b (%s) to %s\n",
                     bits == 16 ? "bf16" : bits == 8 ? "8-bit" : "4-bit", out_dir);
    return rc;
}
