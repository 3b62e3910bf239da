/*
 * preprocess_qwen2_vl.c — Qwen2-VL / Qwen2.5-VL image preprocessing as
 * mlx-vlm's numpy Qwen processor (a port of transformers'
 * Qwen2VLImageProcessor) does it:
 *   1. smart_resize: both sides to multiples of factor = patch * merge,
 *      rounding half to even, total pixels kept within [min, max];
 *      aspect ratios above 200 are an error;
 *   2. PIL BICUBIC resize (the config's "resample"; done by the shared
 *      resize step before qwen2_vl_run), rescale and normalise in float32;
 *   3. duplicate the frame temporal_patch_size times and cut it into
 *      patch x patch squares, emitted merge window by merge window: row
 *      (bh, bw, mh, mw) of [grid_h/m, grid_w/m, m, m], columns (c, t, y, x).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/processor.h"
#include "io/config.h"

enum { QWEN_MAX_ASPECT_RATIO = 200 };

static const char *const qwen2_vl_types[] = {
    "Qwen2VLImageProcessor", "Qwen2VLImageProcessorFast", "Qwen2_5_VLImageProcessor", NULL};

static vlm_status qwen2_vl_configure(image_processor *p, const cJSON *config,
                                     const cJSON *model_config) {
    (void)model_config;
    static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    memcpy(p->mean, clip_mean, sizeof clip_mean);
    memcpy(p->std, clip_std, sizeof clip_std);
    p->resample = RESAMPLE_BICUBIC;
    p->patch_size = (int)config_int(config, "patch_size", 14);
    p->temporal_patch_size = (int)config_int(config, "temporal_patch_size", 2);
    p->merge_size = (int)config_int(config, "merge_size", 2);
    /* mlx-vlm: size.{shortest,longest}_edge, overridden by {min,max}_pixels. */
    p->min_pixels = config_int(config, "size.shortest_edge", 56 * 56);
    p->max_pixels = config_int(config, "size.longest_edge", 28 * 28 * 1280);
    p->min_pixels = config_int(config, "min_pixels", p->min_pixels);
    p->max_pixels = config_int(config, "max_pixels", p->max_pixels);
    if (p->patch_size <= 0 || p->temporal_patch_size <= 0 || p->merge_size <= 0 ||
        p->patch_size > 1024 || p->merge_size > 64 || p->temporal_patch_size > 64)
        return vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json: invalid patch_size/"
                                         "temporal_patch_size/merge_size");
    if (p->min_pixels < 0 || p->max_pixels <= 0 || p->min_pixels > p->max_pixels)
        return vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json: invalid min_pixels/max_pixels");
    return VLM_OK;
}

vlm_status qwen2_vl_smart_resize(int height, int width, int factor, int64_t min_pixels,
                               int64_t max_pixels, int *out_h, int *out_w) {
    double ratio = (double)(height > width ? height : width) / (height < width ? height : width);
    if (ratio > QWEN_MAX_ASPECT_RATIO)
        return vlm_error(VLM_ERR_LIMIT, "absolute aspect ratio must be smaller than %d, got %.17g "
                         "(image %dx%d)", QWEN_MAX_ASPECT_RATIO, ratio, width, height);
    double h_bar = nearbyint((double)height / factor) * factor;
    double w_bar = nearbyint((double)width / factor) * factor;
    double pixels = (double)height * width;
    if (h_bar * w_bar > (double)max_pixels) {
        double beta = sqrt(pixels / (double)max_pixels);
        h_bar = fmax(factor, floor(height / beta / factor) * factor);
        w_bar = fmax(factor, floor(width / beta / factor) * factor);
    } else if (h_bar * w_bar < (double)min_pixels) {
        double beta = sqrt((double)min_pixels / pixels);
        h_bar = ceil(height * beta / factor) * factor;
        w_bar = ceil(width * beta / factor) * factor;
    }
    if (h_bar < factor || w_bar < factor || h_bar > INT32_MAX / 4 || w_bar > INT32_MAX / 4)
        return vlm_error(VLM_ERR_LIMIT, "image %dx%d cannot be resized for the vision model",
                         width, height);
    *out_h = (int)h_bar;
    *out_w = (int)w_bar;
    return VLM_OK;
}

/* Write one image's patches (grid_h * grid_w rows) starting at out. */
static void patchify(const image_processor *p, const vlm_image *img, const pixel_lut *lut,
                     float *out) {
    int ps = p->patch_size, m = p->merge_size, tps = p->temporal_patch_size;
    int grid_h = img->height / ps, grid_w = img->width / ps;
    size_t patch_area = (size_t)ps * ps, row_len = 3 * tps * patch_area;
    for (int bh = 0; bh < grid_h / m; bh++)
        for (int bw = 0; bw < grid_w / m; bw++)
            for (int mh = 0; mh < m; mh++)
                for (int mw = 0; mw < m; mw++, out += row_len) {
                    int py = bh * m + mh, px = bw * m + mw;
                    for (int c = 0; c < 3; c++) {
                        float *frame0 = out + (size_t)c * tps * patch_area;
                        for (int y = 0; y < ps; y++) {
                            const uint8_t *src =
                                img->rgb + ((size_t)(py * ps + y) * img->width + px * ps) * 3 + c;
                            for (int x = 0; x < ps; x++) frame0[y * ps + x] = lut->value[c][src[x * 3]];
                        }
                        for (int t = 1; t < tps; t++)
                            memcpy(frame0 + t * patch_area, frame0, patch_area * sizeof(float));
                    }
                }
}

static vlm_status qwen2_vl_resize_target(const image_processor *p, int width, int height,
                                         int *out_w, int *out_h) {
    *out_w = width;
    *out_h = height;
    if (!p->do_resize) return VLM_OK;
    return qwen2_vl_smart_resize(height, width, p->patch_size * p->merge_size, p->min_pixels,
                                 p->max_pixels, out_h, out_w);
}

/* images are at their resize targets: sides are multiples of
 * patch_size * merge_size (checked: do_resize may be off). */
static vlm_status qwen2_vl_run(const image_processor *p, const vlm_image *const *images, int n,
                               model_images *out) {
    int factor = p->patch_size * p->merge_size;
    int64_t rows = 0, row_len = 3LL * p->temporal_patch_size * p->patch_size * p->patch_size;
    for (int i = 0; i < n; i++) {
        if (images[i]->height % factor || images[i]->width % factor)
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "image %dx%d: sides must be multiples of %d "
                             "when do_resize is false", images[i]->width, images[i]->height, factor);
        rows += (int64_t)(images[i]->height / p->patch_size) * (images[i]->width / p->patch_size);
    }
    int64_t shape[2] = {rows, row_len};
    vlm_status st = model_images_alloc(out, n, shape, 2);
    if (!st && !(out->grid_thw = vlm_calloc((size_t)n, sizeof *out->grid_thw))) st = VLM_ERR_OUT_OF_MEMORY;
    if (st) return st;
    pixel_lut lut;
    pixel_lut_build(p, &lut);
    float *dst = out->pixel_values;
    for (int i = 0; i < n; i++) {
        int64_t *grid = out->grid_thw[i];
        grid[0] = 1;
        grid[1] = images[i]->height / p->patch_size;
        grid[2] = images[i]->width / p->patch_size;
        patchify(p, images[i], &lut, dst);
        dst += (size_t)(grid[1] * grid[2] * row_len);
    }
    return VLM_OK;
}

const image_processor_family preprocess_qwen2_vl = {
    "qwen2_vl", qwen2_vl_types, qwen2_vl_configure, qwen2_vl_resize_target, qwen2_vl_run};
