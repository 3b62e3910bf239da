/*
 * test_image_resample.c — image_resize against Pillow 9.4's Image.resize
 * for every filter (NEAREST, LANCZOS, BILINEAR, BICUBIC, BOX, HAMMING),
 * down- and up-scaling, odd sizes and one-axis resizes (goldens made by
 * fixtures/images/resample/make_resample_goldens.py with PIL), the mode
 * "F" float path, the SIMD passes against the scalar reference, and the
 * row-streaming resizer against the whole-image one.
 */
#include "image/resample.h"
#include "image_golden.h"

#define RESAMPLE_DIR IMAGE_FIXTURES "resample/"

static void test_pil_resize_goldens(void) {
    cJSON *g = golden_json(RESAMPLE_DIR "resample_goldens.json");
    if (!g) return;
    int n = 0;
    for (const cJSON *c = cJSON_GetObjectItemCaseSensitive(g, "cases")->child; c; c = c->next, n++) {
        char path[512];
        snprintf(path, sizeof path, IMAGE_FIXTURES "%s",
                 cJSON_GetObjectItemCaseSensitive(c, "image")->valuestring);
        int w = cJSON_GetObjectItemCaseSensitive(c, "width")->valueint;
        int h = cJSON_GetObjectItemCaseSensitive(c, "height")->valueint;
        int filter = cJSON_GetObjectItemCaseSensitive(c, "filter")->valueint;
        vlm_image *img = NULL, *out = NULL, *ref = NULL;
        CHECK_OK(vlm_image_load(path, &img));
        if (!img) continue;
        CHECK_OK(image_resize(img, w, h, (resample_filter)filter, &out));
        CHECK_OK(image_resize_ref(img, w, h, (resample_filter)filter, &ref));
        char what[600];
        snprintf(what, sizeof what, "%s -> %dx%d %s", path, w, h, resample_filter_name(filter));
        const char *sha = cJSON_GetObjectItemCaseSensitive(c, "sha256")->valuestring;
        if (out) CHECKF(golden_hash_matches(out->rgb, (size_t)w * h * 3, sha, what), "%s", what);
        if (ref) CHECKF(golden_hash_matches(ref->rgb, (size_t)w * h * 3, sha, what), "ref %s", what);
        vlm_image_free(img);
        vlm_image_free(out);
        vlm_image_free(ref);
    }
    CHECKF(n >= 80, "only %d cases", n);
    cJSON_Delete(g);
}

static void test_pil_float_resize(void) {
    cJSON *g = golden_json(RESAMPLE_DIR "resample_goldens.json");
    npy_array in;
    CHECK_OK(npy_load(RESAMPLE_DIR "f32_input.npy", &in));
    if (!g || !in.data) return;
    for (const cJSON *c = cJSON_GetObjectItemCaseSensitive(g, "f32")->child; c; c = c->next) {
        int w = cJSON_GetObjectItemCaseSensitive(c, "width")->valueint;
        int h = cJSON_GetObjectItemCaseSensitive(c, "height")->valueint;
        int filter = cJSON_GetObjectItemCaseSensitive(c, "filter")->valueint;
        char path[512];
        snprintf(path, sizeof path, RESAMPLE_DIR "%s", cJSON_GetObjectItemCaseSensitive(c, "npy")->valuestring);
        npy_array want;
        CHECK_OK(npy_load(path, &want));
        float *out = malloc(sizeof(float) * w * h);
        CHECK_OK(resample_plane_f32(in.data, (int)in.shape[1], (int)in.shape[0], out, w, h,
                                    (resample_filter)filter));
        if (want.count == (size_t)w * h) {
            double d = test_max_abs_diff(out, want.data, want.count);
            CHECKF(d == 0, "%s: max |diff| %g", path, d);
        }
        free(out);
        npy_free(&want);
    }
    npy_free(&in);
    cJSON_Delete(g);
}

/* Random pixels and awkward sizes: SIMD passes == scalar reference. */
static void test_simd_matches_reference(void) {
    static const int sizes[][4] = {{1, 1, 7, 3},    {17, 9, 5, 23},  {64, 40, 63, 41},
                                   {333, 7, 31, 13}, {9, 200, 90, 20}, {250, 250, 251, 17},
                                   {1500, 11, 333, 5}};   /* many segments of the horizontal pass */
    uint32_t seed = 12345;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int iw = sizes[s][0], ih = sizes[s][1], ow = sizes[s][2], oh = sizes[s][3];
        uint8_t *px = malloc((size_t)iw * ih * 3);
        for (size_t i = 0; i < (size_t)iw * ih * 3; i++) px[i] = (uint8_t)((seed = seed * 1664525u + 1013904223u) >> 24);
        vlm_image *img = NULL;
        CHECK_OK(vlm_image_from_pixels(px, iw, ih, 3, &img));
        for (int f = RESAMPLE_LANCZOS; f <= RESAMPLE_HAMMING && img; f++) {
            vlm_image *a = NULL, *b = NULL;
            CHECK_OK(image_resize(img, ow, oh, (resample_filter)f, &a));
            CHECK_OK(image_resize_ref(img, ow, oh, (resample_filter)f, &b));
            CHECKF(a && b && !memcmp(a->rgb, b->rgb, (size_t)ow * oh * 3), "%dx%d -> %dx%d %s", iw,
                   ih, ow, oh, resample_filter_name(f));
            vlm_image_free(a);
            vlm_image_free(b);
        }
        vlm_image_free(img);
        free(px);
    }
}

/* Rows pushed in uneven batches give exactly image_resize's result. */
static void test_stream_batches(void) {
    vlm_image *img = NULL;
    CHECK_OK(vlm_image_load(IMAGE_FIXTURES "mlxvlm_latex.png", &img));
    if (!img) return;
    static const int targets[][2] = {{140, 28}, {533, 40}, {97, 94}, {1000, 200}};
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        int w = targets[t][0], h = targets[t][1];
        vlm_image *want = NULL, *got = NULL;
        resize_stream *s = NULL;
        CHECK_OK(image_resize(img, w, h, RESAMPLE_BICUBIC, &want));
        CHECK_OK(resize_stream_new(img->width, img->height, w, h, RESAMPLE_BICUBIC, &s));
        for (int y = 0, step = 1; s && y < img->height; step = step % 13 + 1) {
            int n = img->height - y < step ? img->height - y : step;
            const uint8_t *rows[16];
            for (int i = 0; i < n; i++) rows[i] = img->rgb + (size_t)(y + i) * img->width * 3;
            CHECK_OK(resize_stream_push(s, rows, n));
            y += n;
        }
        if (s) CHECK_OK(resize_stream_finish(s, &got));
        CHECKF(want && got && !memcmp(want->rgb, got->rgb, (size_t)w * h * 3), "stream %dx%d", w, h);
        resize_stream_free(s);
        vlm_image_free(want);
        vlm_image_free(got);
    }
    resize_stream *s = NULL;
    CHECK(resize_stream_new(10, 10, 5, 5, RESAMPLE_NEAREST, &s) == VLM_ERR_INVALID_ARGUMENT && !s);
    vlm_image_free(img);
}

static void test_bad_arguments(void) {
    uint8_t px[12] = {0};
    vlm_image *img = NULL, *out = NULL;
    CHECK_OK(vlm_image_from_pixels(px, 2, 2, 3, &img));
    CHECK(image_resize(img, 0, 5, RESAMPLE_BICUBIC, &out) == VLM_ERR_INVALID_ARGUMENT && !out);
    CHECK(image_resize(img, 5, 5, (resample_filter)9, &out) == VLM_ERR_INVALID_ARGUMENT && !out);
    vlm_image_free(img);
}

void run_tests(void) {
    RUN(test_pil_resize_goldens);
    RUN(test_pil_float_resize);
    RUN(test_simd_matches_reference);
    RUN(test_stream_batches);
    RUN(test_bad_arguments);
}
