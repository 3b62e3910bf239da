/*
 * test_safetensors_write.c — the checkpoint writer against the
 * safetensors format rules (8-byte little-endian header length, JSON
 * header with __metadata__ {"format":"mlx"} as mx.save_safetensors writes,
 * data area starting 8-byte aligned, offsets covering it with no holes or
 * overlaps, every tensor aligned to its element size) checked by parsing
 * the bytes with cJSON here, and a round trip through the project's reader.
 */
#include <cjson/cJSON.h>
#include <stdint.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "io/safetensors_write.h"
#include "test.h"

/* Tensor i's bytes are (i + 1) * 16 + byte index, mod 256. */
static vlm_status fill_pattern(void *ctx, size_t index, void *buf, size_t nbytes) {
    (void)ctx;
    for (size_t b = 0; b < nbytes; b++) ((uint8_t *)buf)[b] = (uint8_t)((index + 1) * 16 + b);
    return VLM_OK;
}

static const st_write_tensor tensors[] = {
    {"a.bf16_odd", VLM_DTYPE_BF16, 2, {3, 5}},   /* 30 bytes: would misalign what follows */
    {"b.f32", VLM_DTYPE_F32, 1, {7}},
    {"c.packed", VLM_DTYPE_U32, 2, {2, 4}},
    {"d.scalar_u8", VLM_DTYPE_U8, 1, {3}},
};
enum { N_TENSORS = 4 };

static void check_layout(const uint8_t *file, size_t size) {
    uint64_t hlen = 0;
    for (int b = 7; b >= 0; b--) hlen = hlen << 8 | file[b];
    CHECK((8 + hlen) % 8 == 0);
    CHECK(8 + hlen <= size);
    cJSON *h = cJSON_ParseWithLength((const char *)file + 8, (size_t)hlen);
    CHECK(h != NULL);
    if (!h) return;
    cJSON *meta = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "format")) &&
          !strcmp(cJSON_GetObjectItemCaseSensitive(meta, "format")->valuestring, "mlx"));
    size_t data_size = size - 8 - (size_t)hlen, covered = 0;
    const uint8_t *data = file + 8 + hlen;
    for (int i = 0; i < N_TENSORS; i++) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(h, tensors[i].name);
        CHECKF(t != NULL, "%s missing", tensors[i].name);
        if (!t) continue;
        CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(t, "dtype")->valuestring, vlm_dtype_name(tensors[i].dtype)));
        cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
        CHECK(cJSON_GetArraySize(shape) == tensors[i].ndim);
        size_t numel = 1;
        for (int d = 0; d < tensors[i].ndim; d++) {
            CHECK(cJSON_GetArrayItem(shape, d)->valuedouble == (double)tensors[i].shape[d]);
            numel *= (size_t)tensors[i].shape[d];
        }
        cJSON *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
        size_t begin = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
        size_t end = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
        size_t esize = vlm_dtype_size(tensors[i].dtype);
        CHECK(end - begin == numel * esize);
        CHECK(end <= data_size);
        CHECKF((8 + hlen + begin) % esize == 0, "%s misaligned", tensors[i].name);
        for (size_t b = 0; b < end - begin; b++)
            if (data[begin + b] != (uint8_t)((i + 1) * 16 + b)) {
                CHECKF(0, "%s byte %zu", tensors[i].name, b);
                break;
            }
        covered += end - begin;
    }
    CHECK(covered == data_size);  /* no holes (offsets are disjoint: sizes add up) */
    cJSON_Delete(h);
}

static void test_write_layout(void) {
    const char *path = "/tmp/vlm_test_st_write.safetensors";
    CHECK_OK(st_write_file(path, tensors, N_TENSORS, fill_pattern, NULL));
    size_t size = 0;
    char *file = test_read_file(path, &size);
    CHECK(file != NULL);
    if (file) check_layout((const uint8_t *)file, size);
    free(file);

    st_archive *a = NULL;
    CHECK_OK(st_open_file(path, &a));
    if (a) {
        CHECK(st_count(a) == N_TENSORS);
        const st_tensor *t = st_find(a, "b.f32");
        CHECK(t && t->dtype == VLM_DTYPE_F32 && t->shape[0] == 7);
        CHECK(t && ((const uint8_t *)t->data)[0] == 2 * 16);
        CHECK(st_metadata(a, "format") && !strcmp(st_metadata(a, "format"), "mlx"));
        st_close(a);
    }
    remove(path);
}

static vlm_status fill_fails(void *ctx, size_t index, void *buf, size_t nbytes) {
    (void)ctx, (void)buf, (void)nbytes;
    return index == 1 ? vlm_error(VLM_ERR_INTERNAL, "generator broke") : VLM_OK;
}

static void test_errors(void) {
    st_write_tensor bad = {"x\"y", VLM_DTYPE_F32, 1, {2}};
    CHECK(st_write_file("/tmp/vlm_test_st_bad.safetensors", &bad, 1, fill_pattern, NULL) ==
          VLM_ERR_INVALID_ARGUMENT);
    st_write_tensor neg = {"neg", VLM_DTYPE_F32, 1, {-2}};
    CHECK(st_write_file("/tmp/vlm_test_st_bad.safetensors", &neg, 1, fill_pattern, NULL) ==
          VLM_ERR_INVALID_ARGUMENT);
    CHECK(strstr(vlm_last_error(), "neg") != NULL);
    CHECK(st_write_file("/nonexistent-dir/x.safetensors", tensors, N_TENSORS, fill_pattern, NULL) == VLM_ERR_IO);
    CHECK(st_write_file("/tmp/vlm_test_st_bad.safetensors", tensors, N_TENSORS, fill_fails, NULL) ==
          VLM_ERR_INTERNAL);
    CHECK(strstr(vlm_last_error(), "generator broke") != NULL);
    remove("/tmp/vlm_test_st_bad.safetensors");
}

void run_tests(void) {
    RUN(test_write_layout);
    RUN(test_errors);
}
