/*
 * processor.c — build an image_processor from preprocessor_config.json:
 * pick the family by image_processor_type, apply that family's defaults
 * (as transformers' processor classes define them), then the keys every
 * family shares (resample, rescale, normalisation). Running a processor:
 * the resize step shared by families that start with one, then the
 * family's own steps.
 */
#include "image/processor.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/source.h"
#include "io/config.h"

static const image_processor_family *const families[] = {
    &preprocess_qwen2_vl,
    &preprocess_siglip,
    &preprocess_clip,
};

static const image_processor_family *family_for_type(const char *type) {
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        for (const char *const *t = families[i]->types; *t; t++)
            if (!strcmp(*t, type)) return families[i];
    return NULL;
}

/* image_mean / image_std: a list of 3 numbers, or one number for all. */
static vlm_status read_triplet(const cJSON *config, const char *key, float out[3]) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, key);
    if (!v || cJSON_IsNull(v)) return VLM_OK;
    if (cJSON_IsNumber(v)) {
        out[0] = out[1] = out[2] = (float)v->valuedouble;
        return VLM_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 3)
        return vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json: %s must be 3 numbers", key);
    for (int c = 0; c < 3; c++) {
        const cJSON *x = cJSON_GetArrayItem(v, c);
        if (!cJSON_IsNumber(x))
            return vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json: %s[%d] is not a number", key, c);
        out[c] = (float)x->valuedouble;
    }
    return VLM_OK;
}

static vlm_status read_common(image_processor *p, const cJSON *config) {
    p->do_resize = config_bool(config, "do_resize", p->do_resize);
    p->do_rescale = config_bool(config, "do_rescale", p->do_rescale);
    p->do_normalize = config_bool(config, "do_normalize", p->do_normalize);
    p->rescale_factor = config_float(config, "rescale_factor", p->rescale_factor);
    int64_t resample = config_int(config, "resample", p->resample);
    if (!resample_filter_name((int)resample))
        return vlm_error(VLM_ERR_UNSUPPORTED, "preprocessor_config.json: unknown resample %lld",
                         (long long)resample);
    p->resample = (resample_filter)resample;
    vlm_status st = read_triplet(config, "image_mean", p->mean);
    if (!st) st = read_triplet(config, "image_std", p->std);
    for (int c = 0; !st && c < 3; c++)
        if (p->do_normalize && p->std[c] == 0.0f)
            st = vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json: image_std[%d] is 0", c);
    return st;
}

static void supported_types(char *buf, size_t cap) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        for (const char *const *t = families[i]->types; *t; t++) {
            int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", *t);
            if (n < 0 || (size_t)n >= cap - used) return;
            used += (size_t)n;
        }
}

vlm_status image_processor_from_json(const cJSON *config, const cJSON *model_config,
                                     image_processor **out) {
    *out = NULL;
    const char *type = config_string(config, "image_processor_type", NULL);
    if (!type)
        return vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json has no image_processor_type");
    const image_processor_family *family = family_for_type(type);
    if (!family) {
        char list[512];
        supported_types(list, sizeof list);
        return vlm_error(VLM_ERR_UNSUPPORTED, "image processor %s is not supported (supported: %s)",
                         type, list);
    }
    image_processor *p = vlm_calloc(1, sizeof *p);
    if (!p) return VLM_ERR_OUT_OF_MEMORY;
    p->family = family;
    p->do_resize = p->do_rescale = p->do_normalize = 1;
    p->rescale_factor = 1.0 / 255.0;
    vlm_status st = family->configure(p, config, model_config);
    if (!st) st = read_common(p, config);
    if (st) {
        free(p);
        return st;
    }
    *out = p;
    return VLM_OK;
}

vlm_status image_processor_load(const char *dir, image_processor **out) {
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
    cJSON *config = NULL, *model_config = NULL;
    vlm_status st = config_parse_file(path, &config);
    if (st) return st;
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        if (config_parse_file(path, &model_config)) model_config = NULL;
    }
    st = image_processor_from_json(config, model_config, out);
    cJSON_Delete(config);
    cJSON_Delete(model_config);
    return st ? vlm_error_prefix(st, "%s", dir) : VLM_OK;
}

void image_processor_free(image_processor *p) { free(p); }

const char *image_processor_family_name(const image_processor *p) { return p->family->name; }

static vlm_status check_run_args(const image_processor *p, const void *const *items, int n,
                                 model_images *out) {
    memset(out, 0, sizeof *out);
    if (!p || !items || n <= 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "image processor: no images");
    for (int i = 0; i < n; i++)
        if (!items[i]) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "image processor: image %d is NULL", i);
    return VLM_OK;
}

/* The family's run; failures leave *out empty. */
static vlm_status run_family(const image_processor *p, const vlm_image *const *images, int n,
                             model_images *out) {
    vlm_status st = p->family->run(p, images, n, out);
    if (st) model_images_free(out);
    return st;
}

static void free_images(vlm_image **images, int n) {
    for (int i = 0; i < n; i++) vlm_image_free(images[i]);
    free(images);
}

vlm_status image_processor_run(const image_processor *p, const vlm_image *const *images, int n,
                               model_images *out) {
    vlm_status st = check_run_args(p, (const void *const *)images, n, out);
    if (st) return st;
    if (!p->family->resize_target) return run_family(p, images, n, out);
    /* Resize to the family's targets first (copies only where needed). */
    vlm_image **resized = vlm_calloc((size_t)n, sizeof *resized);
    const vlm_image **ready = vlm_calloc((size_t)n, sizeof *ready);
    if (!resized || !ready) st = VLM_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n && !st; i++) {
        int w, h;
        st = p->family->resize_target(p, images[i]->width, images[i]->height, &w, &h);
        if (!st && (w != images[i]->width || h != images[i]->height))
            st = image_resize(images[i], w, h, p->resample, &resized[i]);
        ready[i] = resized[i] ? resized[i] : images[i];
    }
    if (!st) st = run_family(p, ready, n, out);
    if (resized) free_images(resized, n);
    free(ready);
    return st;
}

static vlm_status target_of(void *ctx, int width, int height, int *out_w, int *out_h) {
    const image_processor *p = ctx;
    return p->family->resize_target(p, width, height, out_w, out_h);
}

static vlm_status decode_to_target(const uint8_t *data, size_t size, void *ctx, vlm_image **out) {
    const image_processor *p = ctx;
    return image_decode_resized(data, size, p->resample, target_of, ctx, out);
}

/* One source to a decoded image, resized to the family's target if any. */
static vlm_status load_source(const image_processor *p, const char *source, vlm_image **out) {
    if (!p->family->resize_target) return vlm_image_load(source, out);
    return image_source_decode(source, decode_to_target, (void *)p, out);
}

vlm_status image_processor_run_sources(const image_processor *p, const char *const *sources, int n,
                                       model_images *out) {
    vlm_status st = check_run_args(p, (const void *const *)sources, n, out);
    if (st) return st;
    vlm_image **images = vlm_calloc((size_t)n, sizeof *images);
    if (!images) return VLM_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n && !st; i++) st = load_source(p, sources[i], &images[i]);
    if (!st) st = run_family(p, (const vlm_image *const *)images, n, out);
    free_images(images, n);
    return st;
}
