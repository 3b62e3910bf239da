/*
 * test_image_decode.c — every image of the golden manifest decodes to
 * exactly the pixels PIL 9.4 gives for ImageOps.exif_transpose(img)
 * .convert("RGB") (hash of all pixels, plus the .npy golden where it is
 * small enough to ship), and the expected failures fail cleanly. JPEGs
 * in every chroma layout the raw YCbCr path converts (and the narrow
 * ones it leaves to libjpeg) decode, and decode straight to a resized
 * size, as PIL does, with the AVX2 and the portable kernels.
 */
#include "core/kernels.h"
#include "image/processor.h"
#include "image_golden.h"

static void check_decoded(const cJSON *entry, const char *name) {
    char path[512];
    snprintf(path, sizeof path, IMAGE_FIXTURES "%s", name);
    vlm_image *img = NULL;
    vlm_status st = vlm_image_load(path, &img);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(entry, "error");
    if (err) {
        CHECKF(st != VLM_OK, "%s: PIL refuses it (%s) but it decoded", name, err->valuestring);
        CHECKF(strstr(vlm_last_error(), name) != NULL, "%s: message lacks the file: %s", name,
               vlm_last_error());
        vlm_image_free(img);
        return;
    }
    if (st != VLM_OK) {
        CHECKF(0, "%s: %s", name, vlm_last_error());
        return;
    }
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "rgb_shape");
    CHECKF(img->height == cJSON_GetArrayItem(shape, 0)->valueint &&
               img->width == cJSON_GetArrayItem(shape, 1)->valueint,
           "%s: %dx%d", name, img->width, img->height);
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(entry, "rgb_sha256");
    CHECKF(golden_hash_matches(img->rgb, (size_t)img->width * img->height * 3, sha->valuestring, name),
           "%s: pixels differ from PIL", name);
    const cJSON *npy = cJSON_GetObjectItemCaseSensitive(entry, "npy");
    snprintf(path, sizeof path, IMAGE_FIXTURES "%s", npy ? npy->valuestring : "");
    FILE *f = npy ? fopen(path, "rb") : NULL;
    if (f) {
        fclose(f);
        CHECKF(golden_npy_image_matches(img, path), "%s", name);
    }
    vlm_image_free(img);
}

static void test_manifest_decodes(void) {
    cJSON *m = golden_manifest();
    CHECK(m != NULL);
    const cJSON *decode = cJSON_GetObjectItemCaseSensitive(m, "decode");
    int n = 0;
    for (const cJSON *e = decode ? decode->child : NULL; e; e = e->next, n++) check_decoded(e, e->string);
    CHECKF(n >= 40, "only %d decode cases", n);
    cJSON_Delete(m);
}

/* Twelve-bit JPEG: PIL cannot identify it; we refuse it with a reason. */
static void test_12bit_jpeg_is_clean_error(void) {
    vlm_image *img = NULL;
    CHECK(vlm_image_load(IMAGE_FIXTURES "libjpegturbo_monkey12.jpg", &img) == VLM_ERR_UNSUPPORTED);
    CHECKF(strstr(vlm_last_error(), "precision 12") != NULL, "%s", vlm_last_error());
    CHECK(img == NULL);
}

/* BMP files written by Pillow (fixtures/images/bmp/make_bmp_goldens.py). */
static void test_bmp_goldens(void) {
    cJSON *g = golden_json(IMAGE_FIXTURES "bmp/bmp_goldens.json");
    int n = 0;
    for (const cJSON *f = g ? cJSON_GetObjectItemCaseSensitive(g, "files")->child : NULL; f; f = f->next, n++) {
        char path[512];
        snprintf(path, sizeof path, IMAGE_FIXTURES "bmp/%s", f->string);
        vlm_image *img = NULL;
        CHECK_OK(vlm_image_load(path, &img));
        if (!img) continue;
        const char *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256")->valuestring;
        CHECKF(golden_hash_matches(img->rgb, (size_t)img->width * img->height * 3, sha, f->string),
               "%s", f->string);
        vlm_image_free(img);
    }
    CHECK(n == 5);
    cJSON_Delete(g);
    /* The same file marked RLE-compressed: refused, not misread. */
    size_t size;
    uint8_t *bmp = (uint8_t *)test_read_file(IMAGE_FIXTURES "bmp/rgb24.bmp", &size);
    vlm_image *img = NULL;
    if (bmp) {
        bmp[30] = 1;
        CHECK(vlm_image_decode_memory(bmp, size, &img) == VLM_ERR_UNSUPPORTED && !img);
        bmp[30] = 0;
        CHECK(vlm_image_decode_memory(bmp, size / 2, &img) == VLM_ERR_FORMAT && !img);
    }
    free(bmp);
}

#define YCC_DIR IMAGE_FIXTURES "ycc/"

static vlm_status fixed_size(void *ctx, int width, int height, int *out_w, int *out_h) {
    (void)width;
    (void)height;
    *out_w = ((const int *)ctx)[0];
    *out_h = ((const int *)ctx)[1];
    return VLM_OK;
}

/* One fixture of ycc/make_ycc_goldens.py: decoded whole, and streamed
 * into PIL's BICUBIC resize where the golden has one. */
static void check_ycc_file(const cJSON *f, const char *kernels) {
    char path[512];
    snprintf(path, sizeof path, YCC_DIR "%s", f->string);
    vlm_image *img = NULL;
    CHECK_OK(vlm_image_load(path, &img));
    const char *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256")->valuestring;
    CHECKF(img && golden_hash_matches(img->rgb, (size_t)img->width * img->height * 3, sha, f->string),
           "%s (%s)", f->string, kernels);
    vlm_image_free(img);
    const cJSON *resize = cJSON_GetObjectItemCaseSensitive(f, "resize");
    if (!resize) return;
    int size[2] = {cJSON_GetArrayItem(resize, 0)->valueint, cJSON_GetArrayItem(resize, 1)->valueint};
    size_t n;
    uint8_t *data = (uint8_t *)test_read_file(path, &n);
    img = NULL;
    if (data) CHECK_OK(image_decode_resized(data, n, RESAMPLE_BICUBIC, fixed_size, size, &img));
    sha = cJSON_GetObjectItemCaseSensitive(f, "resize_sha256")->valuestring;
    CHECKF(img && img->width == size[0] && img->height == size[1] &&
               golden_hash_matches(img->rgb, (size_t)size[0] * size[1] * 3, sha, f->string),
           "%s resized (%s)", f->string, kernels);
    vlm_image_free(img);
    free(data);
}

static void test_ycc_layouts(void) {
    cJSON *g = golden_json(YCC_DIR "ycc_goldens.json");
    const cJSON *files = g ? cJSON_GetObjectItemCaseSensitive(g, "files") : NULL;
    int n = 0;
    for (int scalar = 0; scalar < 2; scalar++) {
        vlm_kernels_force_scalar(scalar);
        for (const cJSON *f = files ? files->child : NULL; f; f = f->next, n++)
            check_ycc_file(f, vlm_kernels_isa());
    }
    vlm_kernels_force_scalar(0);
    CHECK(n == 26);
    cJSON_Delete(g);
}

void run_tests(void) {
    RUN(test_manifest_decodes);
    RUN(test_12bit_jpeg_is_clean_error);
    RUN(test_bmp_goldens);
    RUN(test_ycc_layouts);
}
