/*
 * preprocess_clip.c — CLIP as LLaVA-1.5 uses it (transformers'
 * CLIPImageProcessor): optionally pad to a square of the mean colour
 * (LLaVA's expand2square, when image_aspect_ratio is "pad"), resize the
 * shortest edge to size.shortest_edge keeping the aspect ratio
 * (int(size * long / short) for the other side), centre crop to
 * crop_size, rescale in float64, normalise in float32, channels first.
 * Output [n, 3, crop_height, crop_width].
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/processor.h"
#include "io/config.h"

static const char *const clip_types[] = {"CLIPImageProcessor", "CLIPImageProcessorFast", NULL};

static vlm_status clip_configure(image_processor *p, const cJSON *config,
                                 const cJSON *model_config) {
    static const float clip_mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float clip_std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    memcpy(p->mean, clip_mean, sizeof clip_mean);
    memcpy(p->std, clip_std, sizeof clip_std);
    p->resample = RESAMPLE_BICUBIC;
    p->rescale_in_f64 = 1;
    p->shortest_edge = (int)config_int(config, "size.shortest_edge", 224);
    p->do_center_crop = config_bool(config, "do_center_crop", 1);
    p->crop_h = (int)config_int(config, "crop_size.height", 224);
    p->crop_w = (int)config_int(config, "crop_size.width", 224);
    const char *aspect = config_string(config, "image_aspect_ratio", NULL);
    if (!aspect && model_config) aspect = config_string(model_config, "image_aspect_ratio", NULL);
    p->pad_to_square = aspect && !strcmp(aspect, "pad");
    if (p->shortest_edge <= 0 || p->shortest_edge > 16384 || p->crop_h <= 0 || p->crop_w <= 0 ||
        p->crop_h > 16384 || p->crop_w > 16384)
        return vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json: invalid size or crop_size");
    return VLM_OK;
}

/* get_resize_output_image_size(default_to_square=False): (height, width). */
static vlm_status shortest_edge_size(const vlm_image *img, int edge, int *h, int *w) {
    int shorter = img->width <= img->height ? img->width : img->height;
    int longer = img->width <= img->height ? img->height : img->width;
    double other = (double)edge * longer / shorter;
    if (other > 1 << 20) return vlm_error(VLM_ERR_LIMIT, "image %dx%d is too elongated to resize",
                                          img->width, img->height);
    *w = img->width <= img->height ? edge : (int)other;
    *h = img->width <= img->height ? (int)other : edge;
    return VLM_OK;
}

/* One image through pad -> resize -> crop; *out is the final 8-bit image. */
static vlm_status clip_geometry(const image_processor *p, const vlm_image *img, vlm_image **out) {
    vlm_image *padded = NULL, *resized = NULL;
    vlm_status st = VLM_OK;
    if (p->pad_to_square) {
        uint8_t color[3];
        for (int c = 0; c < 3; c++) color[c] = (uint8_t)(int)(p->mean[c] * 255);
        st = image_pad_to_square(img, color, &padded);
        img = padded;
    }
    int h = img->height, w = img->width;
    if (!st && p->do_resize) st = shortest_edge_size(img, p->shortest_edge, &h, &w);
    if (!st) st = image_resize(img, w, h, p->resample, &resized);
    if (!st) {
        if (p->do_center_crop) st = image_center_crop(resized, p->crop_h, p->crop_w, out);
        else *out = resized, resized = NULL;
    }
    vlm_image_free(padded);
    vlm_image_free(resized);
    return st;
}

static vlm_status clip_run(const image_processor *p, const vlm_image *const *images, int n,
                           model_images *out) {
    if (!p->do_center_crop && n > 1)
        return vlm_error(VLM_ERR_UNSUPPORTED, "several images without center crop differ in size");
    vlm_image **ready = vlm_calloc((size_t)n, sizeof *ready);
    if (!ready) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = VLM_OK;
    for (int i = 0; i < n && !st; i++) st = clip_geometry(p, images[i], &ready[i]);
    if (!st) {
        int64_t shape[4] = {n, 3, ready[0]->height, ready[0]->width};
        st = model_images_alloc(out, n, shape, 4);
        pixel_lut lut;
        pixel_lut_build(p, &lut);
        size_t plane = (size_t)ready[0]->height * ready[0]->width;
        for (int i = 0; !st && i < n; i++) image_to_chw(ready[i], &lut, out->pixel_values + i * 3 * plane);
    }
    for (int i = 0; i < n; i++) vlm_image_free(ready[i]);
    free(ready);
    return st;
}

/* No resize_target: padding to a square comes before the resize. */
const image_processor_family preprocess_clip = {"clip", clip_types, clip_configure, NULL, clip_run};
