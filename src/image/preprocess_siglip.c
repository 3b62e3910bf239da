/*
 * preprocess_siglip.c — fixed-size processors: SigLIP (PaliGemma) and
 * Gemma 3 (without pan-and-scan), as transformers' SiglipImageProcessor /
 * Gemma3ImageProcessor: resize to size.height x size.width with the
 * config's filter (PIL), rescale in float64, normalise in float32,
 * channels first. Output [n, 3, height, width].
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "core/error.h"
#include "image/processor.h"
#include "io/config.h"

static const char *const siglip_types[] = {
    "SiglipImageProcessor", "SiglipImageProcessorFast", "Gemma3ImageProcessor",
    "Gemma3ImageProcessorFast", NULL};

static vlm_status siglip_configure(image_processor *p, const cJSON *config,
                                   const cJSON *model_config) {
    (void)model_config;
    const char *type = config_string(config, "image_processor_type", "");
    p->resample = strncmp(type, "Gemma3", 6) ? RESAMPLE_BICUBIC : RESAMPLE_BILINEAR;
    p->mean[0] = p->mean[1] = p->mean[2] = 0.5f;
    p->std[0] = p->std[1] = p->std[2] = 0.5f;
    p->rescale_in_f64 = 1;
    p->size_h = (int)config_int(config, "size.height", 224);
    p->size_w = (int)config_int(config, "size.width", 224);
    if (config_bool(config, "do_pan_and_scan", 0))
        return vlm_error(VLM_ERR_UNSUPPORTED, "Gemma 3 pan-and-scan is not supported");
    if (p->size_h <= 0 || p->size_w <= 0 || p->size_h > 16384 || p->size_w > 16384)
        return vlm_error(VLM_ERR_FORMAT, "preprocessor_config.json: invalid size %dx%d",
                         p->size_w, p->size_h);
    return VLM_OK;
}

static vlm_status siglip_resize_target(const image_processor *p, int width, int height,
                                       int *out_w, int *out_h) {
    *out_w = p->do_resize ? p->size_w : width;
    *out_h = p->do_resize ? p->size_h : height;
    return VLM_OK;
}

/* images are at their resize targets. */
static vlm_status siglip_run(const image_processor *p, const vlm_image *const *images, int n,
                             model_images *out) {
    int h = p->size_h, w = p->size_w;
    for (int i = 0; i < n; i++)
        if (images[i]->height != h || images[i]->width != w)
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "image %d is %dx%d, expected %dx%d "
                             "(do_resize is false)", i, images[i]->width, images[i]->height, w, h);
    int64_t shape[4] = {n, 3, h, w};
    vlm_status st = model_images_alloc(out, n, shape, 4);
    if (st) return st;
    pixel_lut lut;
    pixel_lut_build(p, &lut);
    for (int i = 0; i < n; i++) image_to_chw(images[i], &lut, out->pixel_values + (size_t)i * 3 * h * w);
    return VLM_OK;
}

const image_processor_family preprocess_siglip = {"siglip", siglip_types, siglip_configure,
                                                  siglip_resize_target, siglip_run};
