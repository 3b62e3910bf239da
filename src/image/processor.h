/*
 * processor.h — image preprocessing for vision models, driven by a model
 * folder's preprocessor_config.json: the interface models use.
 *
 *   image_processor *p;
 *   image_processor_load(dir, &p);          dir/preprocessor_config.json
 *   model_images im;                         (src/models/model.h)
 *   image_processor_run(p, images, n, &im);  decoded RGB images -> tensor
 *   ... vision tower reads im.pixel_values ...
 *   model_images_free(&im);
 *   image_processor_free(p);
 * model_preprocess_images(m, sources, n, &im) does load + run with
 * m->image_processor for paths/URLs/data URLs.
 *
 * What model_images holds, per family (picked by image_processor_type):
 *   Qwen2-VL / Qwen2.5-VL  pixel_values [sum_i t*h*w, C*T*P*P] (ndim 2, all
 *                          images' rows concatenated) in transformers'
 *                          merge-window order; grid_thw[i] = (t, h, w) in
 *                          patches. Tokens per image = t*h*w / merge_size^2.
 *   SigLIP / Gemma 3 /     pixel_values [n, 3, H, W] (ndim 4, channels
 *   PaliGemma / CLIP       first), grid_thw NULL.
 *
 * Every family is one small file (preprocess_<family>.c) built on the
 * shared steps below: PIL-exact resize (resample.h), rescale + normalise
 * through a per-channel lookup table, centre crop, pad to square.
 */
#ifndef VLM_IMAGE_PROCESSOR_H
#define VLM_IMAGE_PROCESSOR_H

#include <stdint.h>

#include "image/resample.h"
#include "models/model.h"
#include "vlm.h"

struct cJSON;

typedef struct image_processor image_processor;

vlm_status image_processor_load(const char *dir, image_processor **out);
/* From an already parsed preprocessor_config.json (model_config, e.g.
 * config.json, may be NULL; it supplies LLaVA's image_aspect_ratio). */
vlm_status image_processor_from_json(const struct cJSON *config, const struct cJSON *model_config,
                                     image_processor **out);
void image_processor_free(image_processor *p);
vlm_status image_processor_run(const image_processor *p, const vlm_image *const *images, int n,
                               model_images *out);
/* The same from sources (paths, URLs, data: URLs, base64). Equal to
 * loading each with vlm_image_load and calling image_processor_run, but
 * a JPEG is decoded straight to the processor's resize target when it
 * has one (image_decode_resized): faster, less memory, same bits. */
vlm_status image_processor_run_sources(const image_processor *p, const char *const *sources, int n,
                                       model_images *out);
/* The family's name ("qwen2_vl", "siglip", "clip"). */
const char *image_processor_family_name(const image_processor *p);

/* Qwen2-VL's smart_resize (transformers, evaluated with Python's float
 * semantics): the (height, width) an image is resized to, multiples of
 * factor with min_pixels <= h*w <= max_pixels (approximately, as upstream);
 * VLM_ERR_LIMIT when the aspect ratio exceeds 200. */
vlm_status qwen2_vl_smart_resize(int height, int width, int factor, int64_t min_pixels,
                                 int64_t max_pixels, int *out_h, int *out_w);

/* ---- for the family files ---------------------------------------------- */

typedef struct image_processor_family {
    const char *name;
    const char *const *types;   /* image_processor_type values, NULL-terminated */
    /* Read the family's own keys (defaults as transformers/mlx-vlm). */
    vlm_status (*configure)(image_processor *p, const struct cJSON *config,
                            const struct cJSON *model_config);
    /* For families whose first step is Image.resize(target, p->resample):
     * the target size of a width x height image. Then run receives the
     * images already resized to it. NULL: run gets the decoded images. */
    vlm_status (*resize_target)(const image_processor *p, int width, int height, int *out_w,
                                int *out_h);
    vlm_status (*run)(const image_processor *p, const vlm_image *const *images, int n,
                      model_images *out);
} image_processor_family;

extern const image_processor_family preprocess_qwen2_vl;
extern const image_processor_family preprocess_siglip;
extern const image_processor_family preprocess_clip;

struct image_processor {
    const image_processor_family *family;
    resample_filter resample;
    int do_resize, do_rescale, do_normalize;
    double rescale_factor;
    float mean[3], std[3];
    /* Rescale in float64 then round to float32 (transformers' rescale)
     * rather than multiply in float32 (mlx-vlm's numpy Qwen processor). */
    int rescale_in_f64;
    int size_h, size_w;              /* fixed-size resize (SigLIP, Gemma 3) */
    int shortest_edge;               /* CLIP */
    int do_center_crop, crop_h, crop_w;
    int pad_to_square;               /* LLaVA image_aspect_ratio "pad" */
    int patch_size, temporal_patch_size, merge_size;   /* Qwen2-VL */
    int64_t min_pixels, max_pixels;
};

/* Normalised value of every 8-bit sample per channel:
 * lut[c][v] = (v * rescale_factor - mean[c]) / std[c] with the processor's
 * float arithmetic (steps switched off by do_rescale/do_normalize). */
typedef struct pixel_lut {
    float value[3][256];
} pixel_lut;
void pixel_lut_build(const image_processor *p, pixel_lut *lut);
/* img -> out[3][h][w] through the table. */
void image_to_chw(const vlm_image *img, const pixel_lut *lut, float *out);

/* transformers' center_crop: out(y, x) = in(y + top, x + left) with
 * top = floor((h - crop_h) / 2) (likewise left), zero outside `in`. */
vlm_status image_center_crop(const vlm_image *in, int crop_h, int crop_w, vlm_image **out);
/* LLaVA's expand2square: paste centred on a square of the given colour. */
vlm_status image_pad_to_square(const vlm_image *in, const uint8_t color[3], vlm_image **out);

/* Size chooser for image_decode_resized (called once the size is known). */
typedef vlm_status (*image_target_size)(void *ctx, int width, int height, int *out_w, int *out_h);
/* Decode file bytes and resize to target's choice with filter: what
 * vlm_image_decode_memory + image_resize give, bit for bit, but a JPEG
 * is resized while it decodes, never held at full size. */
vlm_status image_decode_resized(const uint8_t *data, size_t size, resample_filter filter,
                                image_target_size target, void *ctx, vlm_image **out);

/* Allocate out->pixel_values for shape[0..ndim) (zeroed struct first). */
vlm_status model_images_alloc(model_images *out, int n_images, const int64_t *shape, int ndim);

#endif
