/*
 * test_image_preprocess.c — the image processors against independent
 * references:
 *   - ../shared/images goldens (transformers processors' arithmetic, PIL
 *     9.4 resize): Qwen2-VL resized images + pixel_values + grids, the
 *     smart_resize table, SigLIP and Gemma 3 resized images and sums;
 *   - the tensors mlx-vlm fed its own models (../shared/golden/<arch>/
 *     inputs): Qwen2-VL, Qwen2.5-VL, LLaVA (CLIP), PaliGemma, Gemma 3.
 * pixel_values must agree within 1e-6, resized 8-bit images exactly.
 */
#include "image/processor.h"
#include "image_golden.h"

static image_processor *load_processor(const char *dir) {
    image_processor *p = NULL;
    CHECK_OK(image_processor_load(dir, &p));
    return p;
}

static vlm_image *load_image(const char *name) {
    char path[512];
    snprintf(path, sizeof path, IMAGE_FIXTURES "%s", name);
    vlm_image *img = NULL;
    CHECK_OK(vlm_image_load(path, &img));
    return img;
}

static double sum_floats(const float *v, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += v[i];
    return s;
}

static size_t element_count(const model_images *im) {
    size_t n = 1;
    for (int d = 0; d < im->ndim; d++) n *= (size_t)im->shape[d];
    return n;
}

/* pixel_values versus a float .npy golden of the same element count. */
static void check_against_npy(const model_images *im, const char *path, double tol) {
    npy_array a;
    float *want = NULL;
    CHECK_OK(npy_load(path, &a));
    CHECK_OK(npy_to_f32(&a, 0, &want));
    CHECKF(a.count == element_count(im), "%s: %zu elements vs %zu", path, a.count, element_count(im));
    if (want && a.count == element_count(im)) {
        double d = test_max_abs_diff(im->pixel_values, want, a.count);
        CHECKF(d <= tol, "%s: max |diff| %g", path, d);
    }
    free(want);
    npy_free(&a);
}

/* The resize step alone: PIL-exact 8-bit pixels (hash from the manifest). */
static void check_resized(const cJSON *m, const char *family, const char *name, const vlm_image *img,
                          int h, int w, resample_filter filter) {
    vlm_image *r = NULL;
    CHECK_OK(image_resize(img, w, h, filter, &r));
    if (!r) return;
    char what[256];
    snprintf(what, sizeof what, "%s resized %s", family, name);
    CHECKF(golden_hash_matches(r->rgb, (size_t)w * h * 3, golden_string(m, family, name, "resized_sha256"),
                               what), "%s", what);
    vlm_image_free(r);
}

static int json_int(const cJSON *o, const char *key, int i) {
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, key), i)->valueint;
}

/* image_processor_run_sources (JPEGs decoded straight to the resize
 * target) must give exactly what decoding then image_processor_run gives. */
static void check_sources_path_same(const image_processor *p, const char *name, const model_images *want) {
    char path[512];
    snprintf(path, sizeof path, IMAGE_FIXTURES "%s", name);
    const char *sources[1] = {path};
    model_images got;
    CHECK_OK(image_processor_run_sources(p, sources, 1, &got));
    CHECKF(got.pixel_values && got.ndim == want->ndim && element_count(&got) == element_count(want) &&
               !memcmp(got.pixel_values, want->pixel_values, element_count(want) * sizeof(float)),
           "%s: run_sources differs from run", name);
    model_images_free(&got);
}

static void check_qwen_case(const image_processor *p, const cJSON *m, const cJSON *e) {
    const char *name = e->string;
    vlm_image *img = load_image(name);
    if (!img) return;
    model_images im;
    vlm_status st = image_processor_run(p, (const vlm_image *const *)&img, 1, &im);
    if (cJSON_GetObjectItemCaseSensitive(e, "error")) {
        CHECKF(st == VLM_ERR_LIMIT && strstr(vlm_last_error(), "aspect ratio"), "%s: %s", name,
               vlm_last_error());
        vlm_image_free(img);
        return;
    }
    CHECKF(st == VLM_OK, "%s: %s", name, vlm_last_error());
    if (st == VLM_OK) {
        CHECKF(im.ndim == 2 && im.shape[0] == json_int(e, "pixel_values_shape", 0) &&
                   im.shape[1] == json_int(e, "pixel_values_shape", 1),
               "%s: shape [%lld, %lld]", name, (long long)im.shape[0], (long long)im.shape[1]);
        for (int k = 0; k < 3; k++) CHECK(im.grid_thw[0][k] == json_int(e, "grid_thw", k));
        const cJSON *npy = cJSON_GetObjectItemCaseSensitive(e, "pixel_values_npy");
        char path[512];
        snprintf(path, sizeof path, IMAGE_FIXTURES "%s", npy ? npy->valuestring : "");
        FILE *f = npy ? fopen(path, "rb") : NULL;
        if (f) {
            fclose(f);
            check_against_npy(&im, path, 1e-6);
        }
        const cJSON *first8 = cJSON_GetObjectItemCaseSensitive(e, "pixel_values_row0_first8");
        for (int i = 0; i < 8; i++)
            CHECK_NEAR(im.pixel_values[i], cJSON_GetArrayItem(first8, i)->valuedouble, 1e-6);
        double want = cJSON_GetObjectItemCaseSensitive(e, "pixel_values_sum")->valuedouble;
        CHECK_NEAR(sum_floats(im.pixel_values, element_count(&im)), want, 1e-6 * element_count(&im));
        check_resized(m, "qwen2vl", name, img, json_int(e, "resized_hw", 0), json_int(e, "resized_hw", 1),
                      RESAMPLE_BICUBIC);
        check_sources_path_same(p, name, &im);
    }
    model_images_free(&im);
    vlm_image_free(img);
}

static void test_qwen2vl_goldens(void) {
    cJSON *m = golden_manifest();
    image_processor *p = load_processor(IMAGE_FIXTURES "configs/qwen2vl");
    if (!m || !p) return;
    CHECK(!strcmp(image_processor_family_name(p), "qwen2_vl"));
    int n = 0;
    for (const cJSON *e = cJSON_GetObjectItemCaseSensitive(m, "qwen2vl")->child; e; e = e->next, n++)
        check_qwen_case(p, m, e);
    CHECK(n >= 7);
    image_processor_free(p);
    cJSON_Delete(m);
}

static void test_smart_resize_table(void) {
    cJSON *m = golden_manifest();
    if (!m) return;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(m, "smart_resize_table"), "table");
    int n = 0;
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next, n++) {
        int h = cJSON_GetArrayItem(r, 0)->valueint, w = cJSON_GetArrayItem(r, 1)->valueint;
        const cJSON *want_h = cJSON_GetArrayItem(r, 2), *want_w = cJSON_GetArrayItem(r, 3);
        int rh = 0, rw = 0;
        vlm_status st = qwen2_vl_smart_resize(h, w, 28, 3136, 1003520, &rh, &rw);
        if (cJSON_IsNull(want_h)) {
            CHECKF(st == VLM_ERR_LIMIT, "%dx%d should be refused", h, w);
        } else {
            CHECKF(st == VLM_OK && rh == want_h->valueint && rw == want_w->valueint,
                   "%dx%d -> %dx%d, golden %dx%d", h, w, rh, rw, want_h->valueint, want_w->valueint);
        }
    }
    CHECKF(n > 100, "only %d smart_resize rows", n);
    cJSON_Delete(m);
}

/* SigLIP / Gemma 3: resized pixels exact, pixel_values sums (and, for
 * Gemma 3 on cats.jpg, the first 8 rows of every channel) to 1e-6. */
static void check_fixed_size_family(const char *family, resample_filter filter) {
    cJSON *m = golden_manifest();
    char dir[256];
    snprintf(dir, sizeof dir, IMAGE_FIXTURES "configs/%s", family);
    image_processor *p = load_processor(dir);
    if (!m || !p) return;
    for (const cJSON *e = cJSON_GetObjectItemCaseSensitive(m, family)->child; e; e = e->next) {
        vlm_image *img = load_image(e->string);
        model_images im;
        if (!img) continue;
        CHECK_OK(image_processor_run(p, (const vlm_image *const *)&img, 1, &im));
        CHECK(im.ndim == 4 && im.shape[0] == 1 && im.shape[1] == 3 && im.shape[2] == 896 &&
              im.shape[3] == 896 && im.grid_thw == NULL);
        double want = cJSON_GetObjectItemCaseSensitive(e, "pixel_values_sum")->valuedouble;
        if (im.pixel_values)
            CHECK_NEAR(sum_floats(im.pixel_values, element_count(&im)), want, 1e-6 * element_count(&im));
        if (!strcmp(family, "gemma3") && !strcmp(e->string, "mlxvlm_cats.jpg") && im.pixel_values) {
            npy_array a;
            CHECK_OK(npy_load(IMAGE_FIXTURES "gemma3/mlxvlm_cats.jpg.pixel_values.rows0-7.npy", &a));
            const float *want_rows = a.data;
            double worst = 0;
            for (int c = 0; c < 3; c++)
                worst = fmax(worst, test_max_abs_diff(im.pixel_values + (size_t)c * 896 * 896,
                                                      want_rows + (size_t)c * 8 * 896, 8 * 896));
            CHECKF(worst <= 1e-6, "gemma3 cats rows 0-7: max |diff| %g", worst);
            npy_free(&a);
        }
        check_resized(m, family, e->string, img, 896, 896, filter);
        if (im.pixel_values) check_sources_path_same(p, e->string, &im);
        model_images_free(&im);
        vlm_image_free(img);
    }
    image_processor_free(p);
    cJSON_Delete(m);
}

static void test_siglip_goldens(void) { check_fixed_size_family("siglip", RESAMPLE_BICUBIC); }
static void test_gemma3_goldens(void) { check_fixed_size_family("gemma3", RESAMPLE_BILINEAR); }

/* What mlx-vlm fed the tiny golden models: the folder's own config. */
static void check_model_inputs(const char *arch, int ndim, const int64_t *shape) {
    char dir[256], path[512];
    snprintf(dir, sizeof dir, IMAGE_FIXTURES "models/%s", arch);
    image_processor *p = load_processor(dir);
    snprintf(path, sizeof path, "%s/image.png", dir);
    vlm_image *img = NULL;
    CHECK_OK(vlm_image_load(path, &img));
    if (!p || !img) return;
    model_images im;
    CHECK_OK(image_processor_run(p, (const vlm_image *const *)&img, 1, &im));
    CHECKF(im.ndim == ndim, "%s: ndim %d", arch, im.ndim);
    for (int d = 0; d < ndim && d < im.ndim; d++)
        CHECKF(im.shape[d] == shape[d], "%s: dim %d is %lld", arch, d, (long long)im.shape[d]);
    snprintf(path, sizeof path, "%s/pixel_values.npy", dir);
    if (im.pixel_values) check_against_npy(&im, path, 1e-6);
    snprintf(path, sizeof path, "%s/image_grid_thw.npy", dir);
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        npy_array g;
        int64_t *grid = NULL;
        CHECK_OK(npy_load(path, &g));
        CHECK_OK(npy_to_i64(&g, &grid));
        CHECK(im.grid_thw && grid && g.count == 3);
        for (int k = 0; im.grid_thw && grid && k < 3; k++) CHECK(im.grid_thw[0][k] == grid[k]);
        free(grid);
        npy_free(&g);
    }
    model_images_free(&im);
    vlm_image_free(img);
    image_processor_free(p);
}

static void test_mlx_vlm_model_inputs(void) {
    check_model_inputs("qwen2_vl", 2, (const int64_t[]){24, 1176});
    check_model_inputs("qwen2_5_vl", 2, (const int64_t[]){96, 1176});
    check_model_inputs("llava", 4, (const int64_t[]){1, 3, 56, 56});
    check_model_inputs("paligemma", 4, (const int64_t[]){1, 3, 56, 56});
    check_model_inputs("gemma3", 4, (const int64_t[]){1, 3, 56, 56});
}

/* Several images: Qwen rows are concatenated in order, one grid each. */
static void test_qwen_batch_concatenates(void) {
    image_processor *p = load_processor(IMAGE_FIXTURES "configs/qwen2vl");
    vlm_image *imgs[2] = {load_image("derived_coffee_13x9.png"), load_image("derived_coffee_28x56.png")};
    if (!p || !imgs[0] || !imgs[1]) return;
    model_images im;
    CHECK_OK(image_processor_run(p, (const vlm_image *const *)imgs, 2, &im));
    CHECK(im.n_images == 2 && im.shape[0] == 48 && im.shape[1] == 1176);
    CHECK(im.grid_thw && im.grid_thw[0][1] == 4 && im.grid_thw[0][2] == 6);
    CHECK(im.grid_thw && im.grid_thw[1][1] == 6 && im.grid_thw[1][2] == 4);
    npy_array a;
    CHECK_OK(npy_load(IMAGE_FIXTURES "qwen2vl/derived_coffee_28x56.png.pixel_values.npy", &a));
    if (im.pixel_values && a.count == 24 * 1176)
        CHECK(test_max_abs_diff(im.pixel_values + 24 * 1176, a.data, a.count) <= 1e-6);
    npy_free(&a);
    model_images_free(&im);
    vlm_image_free(imgs[0]);
    vlm_image_free(imgs[1]);
    image_processor_free(p);
}

/* The streamed JPEG path reports the processor's own errors too. */
static void test_sources_path_errors(void) {
    image_processor *p = load_processor(IMAGE_FIXTURES "configs/qwen2vl");
    const char *strip[1] = {IMAGE_FIXTURES "orientation/strip_700x3.jpg"};
    const char *tall[1] = {IMAGE_FIXTURES "derived_hubble_tall_3x872.png"};
    const char *missing[1] = {IMAGE_FIXTURES "missing.jpg"};
    model_images im;
    if (!p) return;
    CHECK(image_processor_run_sources(p, strip, 1, &im) == VLM_ERR_LIMIT && !im.pixel_values);
    CHECKF(strstr(vlm_last_error(), "aspect ratio") && strstr(vlm_last_error(), "strip_700x3.jpg") &&
               !strstr(vlm_last_error(), "decoding"), "%s", vlm_last_error());
    CHECK(image_processor_run_sources(p, tall, 1, &im) == VLM_ERR_LIMIT && !im.pixel_values);
    CHECK(image_processor_run_sources(p, missing, 1, &im) == VLM_ERR_IO && !im.pixel_values);
    image_processor_free(p);
}

static void test_unsupported_processor(void) {
    cJSON *cfg = cJSON_Parse("{\"image_processor_type\": \"MllamaImageProcessor\"}");
    image_processor *p = NULL;
    CHECK(image_processor_from_json(cfg, NULL, &p) == VLM_ERR_UNSUPPORTED);
    CHECK(strstr(vlm_last_error(), "MllamaImageProcessor") && strstr(vlm_last_error(), "Qwen2VL"));
    CHECK(p == NULL);
    cJSON_Delete(cfg);
    CHECK(image_processor_load(IMAGE_FIXTURES "no-such-dir", &p) != VLM_OK);
}

void run_tests(void) {
    RUN(test_qwen2vl_goldens);
    RUN(test_smart_resize_table);
    RUN(test_siglip_goldens);
    RUN(test_gemma3_goldens);
    RUN(test_mlx_vlm_model_inputs);
    RUN(test_qwen_batch_concatenates);
    RUN(test_sources_path_errors);
    RUN(test_unsupported_processor);
}
