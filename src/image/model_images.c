/*
 * model_images.c — the preprocessed-images tensor handed to a model
 * (model_images in src/models/model.h): allocation, release, and
 * model_preprocess_images, which loads sources and runs the model's
 * image processor.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/image.h"
#include "image/processor.h"

vlm_status model_images_alloc(model_images *out, int n_images, const int64_t *shape, int ndim) {
    memset(out, 0, sizeof *out);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] <= 0 || (size_t)shape[d] > SIZE_MAX / sizeof(float) / count)
            return vlm_error(VLM_ERR_LIMIT, "pixel_values shape too large");
        count *= (size_t)shape[d];
        out->shape[d] = shape[d];
    }
    out->ndim = ndim;
    out->n_images = n_images;
    out->pixel_values = vlm_malloc_huge(count * sizeof(float));
    return out->pixel_values ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
}

void model_images_free(model_images *im) {
    if (!im) return;
    free(im->pixel_values);
    free(im->grid_thw);
    memset(im, 0, sizeof *im);
}

vlm_status model_preprocess_images(const vlm_model *m, const char *const *sources, size_t n,
                                   model_images *out) {
    memset(out, 0, sizeof *out);
    if (!m || !m->image_processor)
        return vlm_error(VLM_ERR_UNSUPPORTED, "this model has no image processor");
    if (n == 0 || n > INT32_MAX || !sources)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "model_preprocess_images: no images");
    return image_processor_run_sources(m->image_processor, sources, (int)n, out);
}
