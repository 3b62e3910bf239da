/*
 * test_safetensors.c — reading real MLX checkpoints (single file, indexed
 * folder, shards) and refusing every kind of broken file with a message
 * that names the file and the tensor. The broken files are written here,
 * at run time, into st_cases.tmp/.
 *
 * Expected values for the fixtures (tensor counts, shapes, first values,
 * a packed word) were read with Python's json/struct/numpy from the
 * files themselves, independently of this code.
 */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "test.h"

#define TMP "st_cases.tmp"

/* ---- helpers that write (broken) files --------------------------------- */

static void write_bytes(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "  cannot write %s\n", path);
        test_failures++;
        return;
    }
    fwrite(bytes, 1, n, f);
    fclose(f);
}

/* 8-byte length + header + data_len zero bytes (header length given
 * explicitly so tests can lie about it). */
static void write_st_raw(const char *path, uint64_t hlen, const char *header, size_t data_len) {
    size_t n = strlen(header);
    unsigned char *buf = calloc(1, 8 + n + data_len);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, n);
    write_bytes(path, buf, 8 + n + data_len);
    free(buf);
}

static void write_st(const char *path, const char *header, size_t data_len) {
    write_st_raw(path, strlen(header), header, data_len);
}

/* Open path expecting failure with status want and a message containing
 * both needles (NULL = not checked). */
static void expect_open_error(const char *path, vlm_status want, const char *needle1, const char *needle2) {
    st_archive *a = NULL;
    vlm_status st = st_open_file(path, &a);
    CHECKF(st == want, "%s: got %s (%s), want %s", path, vlm_status_name(st), vlm_last_error(),
           vlm_status_name(want));
    CHECK(a == NULL);
    const char *msg = vlm_last_error();
    CHECKF(!needle1 || strstr(msg, needle1), "message '%s' lacks '%s'", msg, needle1);
    CHECKF(!needle2 || strstr(msg, needle2), "message '%s' lacks '%s'", msg, needle2);
    st_close(a);
}

/* A broken header in file TMP/<file>: status and the tensor it names. */
static void check_broken(const char *file, const char *header, size_t data_len, vlm_status want,
                         const char *needle) {
    char path[256];
    snprintf(path, sizeof path, TMP "/%s", file);
    write_st(path, header, data_len);
    expect_open_error(path, want, file, needle);
}

static void setup(void) { mkdir(TMP, 0755); }

/* ---- real checkpoints --------------------------------------------------- */

static float bf16_at(const st_tensor *t, size_t i) {
    uint16_t h;
    memcpy(&h, (const uint8_t *)t->data + 2 * i, 2);
    return bf16_to_f32(h);
}

static void test_single_file_bf16(void) {
    st_archive *a = NULL;
    CHECK_OK(st_open_file("fixtures/io/qwen2_vl_bf16/model.safetensors", &a));
    if (!a) return;
    CHECK(st_count(a) == 57);
    const st_tensor *t = st_find(a, "language_model.model.norm.weight");
    CHECK(t && t->dtype == VLM_DTYPE_BF16 && t->ndim == 1 && t->shape[0] == 128 && t->nbytes == 256);
    if (t) {
        CHECK(bf16_at(t, 0) == 1.0859375f && bf16_at(t, 1) == 0.95703125f);
        CHECK(bf16_at(t, 2) == 0.94921875f && bf16_at(t, 3) == 1.0234375f);
    }
    t = st_find(a, "vision_tower.patch_embed.proj.weight");
    CHECK(t && t->ndim == 5 && t->shape[0] == 64 && t->shape[1] == 2 && t->shape[2] == 14 &&
          t->shape[3] == 14 && t->shape[4] == 3 && st_numel(t) == 64 * 2 * 14 * 14 * 3);
    CHECK(st_find(a, "language_model.model.norm") == NULL);
    CHECK(st_metadata(a, "format") && !strcmp(st_metadata(a, "format"), "mlx"));
    CHECK(st_metadata(a, "nope") == NULL);
    for (size_t i = 0; i < st_count(a); i++) CHECK(st_find(a, st_at(a, i)->name) == st_at(a, i));
    CHECK(st_at(a, st_count(a)) == NULL);
    st_close(a);
}

static void test_indexed_folder_q4(void) {
    st_archive *a = NULL;
    CHECK_OK(st_open_dir("fixtures/io/qwen2_vl_q4", &a));
    if (!a) return;
    CHECK(st_count(a) == 87);
    const st_tensor *t = st_find(a, "language_model.model.layers.0.mlp.up_proj.weight");
    CHECK(t && t->dtype == VLM_DTYPE_U32 && t->ndim == 2 && t->shape[0] == 256 && t->shape[1] == 16);
    if (t) {
        uint32_t w;
        memcpy(&w, t->data, 4);
        CHECK(w == 0x67f783d6u);
    }
    t = st_find(a, "language_model.model.embed_tokens.scales");
    CHECK(t && t->dtype == VLM_DTYPE_BF16 && t->shape[0] == 1024 && t->shape[1] == 2 && t->file_index == 0);
    st_close(a);
}

static void test_all_dtypes_and_padding(void) {
    /* every dtype, a zero-sized tensor, a scalar, and space padding after
     * the JSON (writers align the data area this way) */
    const char *h =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"f32\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"f16\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
        "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[12,16]},"
        "\"u32\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[16,20]},"
        "\"i32\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[20,24]},"
        "\"i64\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]},"
        "\"u8\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[32,33]},"
        "\"i8\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[33,34]},"
        "\"bool\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[34,36]},"
        "\"f64\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[36,44]},"
        "\"u16\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[44,46]},"
        "\"i16\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[46,48]},"
        "\"u64\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[48,56]},"
        "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[56,56]},"
        "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[56,60]}}     ";
    write_st(TMP "/dtypes.safetensors", h, 60);
    st_archive *a = NULL;
    CHECK_OK(st_open_file(TMP "/dtypes.safetensors", &a));
    if (!a) return;
    CHECK(st_count(a) == 15);
    static const struct { const char *name; vlm_dtype dt; } want[] = {
        {"f32", VLM_DTYPE_F32}, {"f16", VLM_DTYPE_F16}, {"bf16", VLM_DTYPE_BF16}, {"u32", VLM_DTYPE_U32},
        {"i32", VLM_DTYPE_I32}, {"i64", VLM_DTYPE_I64}, {"u8", VLM_DTYPE_U8}, {"i8", VLM_DTYPE_I8},
        {"bool", VLM_DTYPE_BOOL}, {"f64", VLM_DTYPE_F64}, {"u16", VLM_DTYPE_U16}, {"i16", VLM_DTYPE_I16},
        {"u64", VLM_DTYPE_U64}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const st_tensor *t = st_find(a, want[i].name);
        CHECKF(t && t->dtype == want[i].dt, "%s", want[i].name);
    }
    const st_tensor *e = st_find(a, "empty"), *s = st_find(a, "scalar");
    CHECK(e && e->nbytes == 0 && st_numel(e) == 0);
    CHECK(s && s->ndim == 0 && st_numel(s) == 1 && s->nbytes == 4);
    CHECK(!strcmp(st_metadata(a, "format"), "pt"));
    st_close(a);
}

static void test_parse_in_memory(void) {
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    uint8_t buf[128] = {0};
    size_t n = strlen(h);
    buf[0] = (uint8_t)n;
    memcpy(buf + 8, h, n);
    float one = 1.0f;
    memcpy(buf + 8 + n, &one, 4);
    st_archive *a = NULL;
    CHECK_OK(st_parse("mem", buf, 8 + n + 4, &a));
    const st_tensor *t = a ? st_find(a, "w") : NULL;
    CHECK(t && t->data == buf + 8 + n);
    st_close(a);
    CHECK(st_parse("mem", buf, 8 + n + 3, &a) == VLM_ERR_FORMAT && a == NULL);
    CHECK(strstr(vlm_last_error(), "mem") && strstr(vlm_last_error(), "'w'"));
}

/* Released tensor pages read the same afterwards (they come back from the
 * file), and memory the archive does not own is never touched: dropping a
 * caller's heap pages would zero them. */
static void test_release_keeps_data(void) {
    st_archive *a = NULL;
    CHECK_OK(st_open_file("fixtures/io/qwen2_vl_bf16/model.safetensors", &a));
    const st_tensor *t = a ? st_find(a, "vision_tower.patch_embed.proj.weight") : NULL;
    CHECK(t && t->nbytes > 3 * 4096);
    if (t) {
        uint8_t *copy = malloc(t->nbytes);
        memcpy(copy, t->data, t->nbytes);
        st_release(a, t->data, t->nbytes);
        CHECK(memcmp(copy, t->data, t->nbytes) == 0);
        free(copy);
    }
    st_close(a);

    const char *h = "{\"w\":{\"dtype\":\"U8\",\"shape\":[65536],\"data_offsets\":[0,65536]}}";
    size_t n = strlen(h), size = 8 + n + 65536;
    uint8_t *buf = calloc(1, size);
    buf[0] = (uint8_t)n;
    memcpy(buf + 8, h, n);
    for (size_t i = 0; i < 65536; i++) buf[8 + n + i] = (uint8_t)(i * 7 + 1);
    CHECK_OK(st_parse("mem", buf, size, &a));
    t = a ? st_find(a, "w") : NULL;
    if (t) st_release(a, t->data, t->nbytes);
    int same = 1;
    for (size_t i = 0; i < 65536; i++) same &= buf[8 + n + i] == (uint8_t)(i * 7 + 1);
    CHECK(t && same);
    st_close(a);
    free(buf);
}

/* ---- broken single files ------------------------------------------------ */

static void test_file_level_errors(void) {
    write_bytes(TMP "/empty.safetensors", "", 0);
    expect_open_error(TMP "/empty.safetensors", VLM_ERR_FORMAT, "empty.safetensors", "too small");
    write_bytes(TMP "/short.safetensors", "\x05\0\0", 3);
    expect_open_error(TMP "/short.safetensors", VLM_ERR_FORMAT, "short.safetensors", "too small");
    expect_open_error(TMP "/missing.safetensors", VLM_ERR_IO, "missing.safetensors", "cannot open");
    expect_open_error(TMP, VLM_ERR_IO, TMP, "not a regular file");
    const char *h = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    write_st_raw(TMP "/huge.safetensors", (uint64_t)1 << 40, h, 4);
    expect_open_error(TMP "/huge.safetensors", VLM_ERR_LIMIT, "huge.safetensors", "limit");
    write_st_raw(TMP "/trunc.safetensors", strlen(h) + 100, h, 4);
    expect_open_error(TMP "/trunc.safetensors", VLM_ERR_FORMAT, "trunc.safetensors", "truncated");
    /* header intact but the data cut short */
    write_st(TMP "/cut.safetensors", h, 2);
    expect_open_error(TMP "/cut.safetensors", VLM_ERR_FORMAT, "cut.safetensors", "'w'");
}

static void test_header_errors(void) {
    check_broken("badjson.safetensors", "{\"w\":{\"dtype\":\"F32\",", 4, VLM_ERR_FORMAT, "JSON");
    check_broken("array.safetensors", "[1, 2]", 0, VLM_ERR_FORMAT, "JSON object");
    check_broken("trailing.safetensors", "{}xyz", 0, VLM_ERR_FORMAT, "trailing");
    check_broken("notobj.safetensors", "{\"w\": 3}", 0, VLM_ERR_FORMAT, "'w'");
    check_broken("nodtype.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                 VLM_ERR_FORMAT, "'w': \"dtype\"");
    check_broken("baddtype.safetensors", "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                 1, VLM_ERR_UNSUPPORTED, "F8_E4M3");
    check_broken("noshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                 VLM_ERR_FORMAT, "'w': \"shape\"");
    check_broken("negdim.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}}", 4,
                 VLM_ERR_FORMAT, "'w': dimension 1");
    check_broken("fracdim.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
                 VLM_ERR_FORMAT, "'w': dimension 0");
    check_broken("rank.safetensors",
                 "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
                 VLM_ERR_FORMAT, "9 dimensions");
    check_broken("nooffs.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, VLM_ERR_FORMAT,
                 "'w': \"data_offsets\"");
    check_broken("offs3.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
                 VLM_ERR_FORMAT, "'w': \"data_offsets\"");
    check_broken("backwards.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4,
                 VLM_ERR_FORMAT, "'w': data_offsets [4, 0]");
    check_broken("outside.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 8,
                 VLM_ERR_FORMAT, "outside the data area");
    check_broken("wrongsize.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                 VLM_ERR_FORMAT, "'w': BF16 x shape needs 6 bytes but data_offsets span 8");
    check_broken("overflow.safetensors",
                 "{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}", 0,
                 VLM_ERR_FORMAT, "'w': shape too large");
    check_broken("overlap.safetensors",
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                 12, VLM_ERR_FORMAT, "'a' and 'b' overlap");
    check_broken("dup.safetensors",
                 "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                 8, VLM_ERR_FORMAT, "'a' defined twice");
    check_broken("meta.safetensors", "{\"__metadata__\":{\"format\":1}}", 0, VLM_ERR_FORMAT, "__metadata__");
    /* a header that is all we need but the length field counts 1 byte short */
    write_st_raw(TMP "/short_len.safetensors", 10, "{\"w\":{\"dtype\":\"F32\"}}", 4);
    expect_open_error(TMP "/short_len.safetensors", VLM_ERR_FORMAT, "short_len.safetensors", "JSON");
}

/* ---- folders and shards ------------------------------------------------- */

static const char *shard1 =
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
static const char *shard2 = "{\"c\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}";

static void make_sharded(const char *dir, const char *index) {
    char path[256];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    write_st(path, shard1, 12);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    write_st(path, shard2, 8);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    write_bytes(path, index, strlen(index));
}

#define GOOD_INDEX                                                                   \
    "{\"metadata\":{\"total_size\":20},\"weight_map\":{"                             \
    "\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"," \
    "\"b\":\"model-00001-of-00002.safetensors\"}}"

static void test_sharded(void) {
    make_sharded(TMP "/sharded", GOOD_INDEX);
    st_archive *a = NULL;
    CHECK_OK(st_open_dir(TMP "/sharded", &a));
    if (!a) return;
    CHECK(st_count(a) == 3);
    const st_tensor *ta = st_find(a, "a"), *tb = st_find(a, "b"), *tc = st_find(a, "c");
    CHECK(ta && tb && tc && ta->file_index == tb->file_index && tc->file_index != ta->file_index);
    CHECK(tc && tc->dtype == VLM_DTYPE_BF16 && tc->shape[0] == 2 && tc->shape[1] == 2);
    st_close(a);
}

static void expect_dir_error(const char *dir, vlm_status want, const char *needle1, const char *needle2) {
    st_archive *a = NULL;
    vlm_status st = st_open_dir(dir, &a);
    CHECKF(st == want, "%s: got %s (%s)", dir, vlm_status_name(st), vlm_last_error());
    CHECK(a == NULL);
    CHECKF(!needle1 || strstr(vlm_last_error(), needle1), "'%s' lacks '%s'", vlm_last_error(), needle1);
    CHECKF(!needle2 || strstr(vlm_last_error(), needle2), "'%s' lacks '%s'", vlm_last_error(), needle2);
}

static void test_sharded_errors(void) {
    make_sharded(TMP "/missing_shard",
                 "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"z\":\"model-00003.safetensors\"}}");
    expect_dir_error(TMP "/missing_shard", VLM_ERR_NOT_FOUND, "'z'", "model-00003.safetensors");
    make_sharded(TMP "/wrong_shard",
                 "{\"weight_map\":{\"a\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"}}");
    expect_dir_error(TMP "/wrong_shard", VLM_ERR_NOT_FOUND, "'a'", "model-00002-of-00002");
    make_sharded(TMP "/absent_tensor",
                 "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"q\":\"model-00002-of-00002.safetensors\"}}");
    expect_dir_error(TMP "/absent_tensor", VLM_ERR_NOT_FOUND, "'q'", "index");
    make_sharded(TMP "/bad_index", "{\"weight_map\": [");
    expect_dir_error(TMP "/bad_index", VLM_ERR_FORMAT, "model.safetensors.index.json", "JSON");
    make_sharded(TMP "/no_map", "{\"metadata\": {}}");
    expect_dir_error(TMP "/no_map", VLM_ERR_FORMAT, "model.safetensors.index.json", "weight_map");
    make_sharded(TMP "/escape", "{\"weight_map\":{\"a\":\"../sharded/model-00001-of-00002.safetensors\"}}");
    expect_dir_error(TMP "/escape", VLM_ERR_FORMAT, "'a'", "not a file name");
    /* a tensor present in two shards */
    make_sharded(TMP "/dup_shards", GOOD_INDEX);
    write_st(TMP "/dup_shards/model-00002-of-00002.safetensors",
             "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    expect_dir_error(TMP "/dup_shards", VLM_ERR_FORMAT, "'a' defined twice", "model-00001-of-00002");
    /* a corrupt shard is reported with its own name */
    make_sharded(TMP "/corrupt_shard", GOOD_INDEX);
    write_st(TMP "/corrupt_shard/model-00002-of-00002.safetensors", "{\"c\":", 0);
    expect_dir_error(TMP "/corrupt_shard", VLM_ERR_FORMAT, "model-00002-of-00002.safetensors", "JSON");
}

static void test_folder_without_index(void) {
    mkdir(TMP "/noindex", 0755);
    write_st(TMP "/noindex/b.safetensors", shard2, 8);
    write_st(TMP "/noindex/a.safetensors", shard1, 12);
    write_bytes(TMP "/noindex/notes.txt", "x", 1);
    st_archive *a = NULL;
    CHECK_OK(st_open_dir(TMP "/noindex", &a));
    if (a) {
        CHECK(st_count(a) == 3);
        CHECK(st_find(a, "a")->file_index == 0 && st_find(a, "c")->file_index == 1);   /* name order */
    }
    st_close(a);
    mkdir(TMP "/nothing", 0755);
    expect_dir_error(TMP "/nothing", VLM_ERR_NOT_FOUND, TMP "/nothing", "no .safetensors");
    expect_dir_error(TMP "/does_not_exist", VLM_ERR_IO, "does_not_exist", NULL);
}

void run_tests(void) {
    setup();
    RUN(test_single_file_bf16);
    RUN(test_indexed_folder_q4);
    RUN(test_all_dtypes_and_padding);
    RUN(test_parse_in_memory);
    RUN(test_release_keeps_data);
    RUN(test_file_level_errors);
    RUN(test_header_errors);
    RUN(test_sharded);
    RUN(test_sharded_errors);
    RUN(test_folder_without_index);
}
