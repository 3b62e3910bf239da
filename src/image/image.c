/*
 * image.c — the vlm_image object: allocation under the decompression-bomb
 * pixel limit, wrapping caller pixels, and freeing.
 *
 * The pixel limit is the one piece of global state here (documented in
 * vlm.h): a process-wide setting like PIL's Image.MAX_IMAGE_PIXELS, kept in
 * an atomic so decoding threads read it safely.
 */
#include "image/image.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static _Atomic uint64_t max_pixels = IMAGE_DEFAULT_MAX_PIXELS;

void vlm_image_set_max_pixels(uint64_t n) { atomic_store(&max_pixels, n); }

uint64_t image_max_pixels(void) { return atomic_load(&max_pixels); }

vlm_status image_check_size(int64_t width, int64_t height, const char *what) {
    if (width <= 0 || height <= 0)
        return vlm_error(VLM_ERR_FORMAT, "%s: invalid dimensions %lldx%lld", what,
                         (long long)width, (long long)height);
    uint64_t limit = image_max_pixels();
    if ((uint64_t)width * (uint64_t)height > limit || width > INT32_MAX / 4 || height > INT32_MAX / 4)
        return vlm_error(VLM_ERR_LIMIT,
                         "%s: image of %lldx%lld pixels exceeds the limit of %llu pixels "
                         "(possible decompression bomb; see vlm_image_set_max_pixels)",
                         what, (long long)width, (long long)height, (unsigned long long)limit);
    return VLM_OK;
}

vlm_status image_new(int width, int height, vlm_image **out) {
    *out = NULL;
    vlm_status st = image_check_size(width, height, "image");
    if (st) return st;
    vlm_image *img = vlm_calloc(1, sizeof *img);
    if (!img) return VLM_ERR_OUT_OF_MEMORY;
    img->rgb = vlm_malloc_huge((size_t)width * (size_t)height * 3);
    if (!img->rgb) {
        free(img);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    img->width = width;
    img->height = height;
    *out = img;
    return VLM_OK;
}

void vlm_image_free(vlm_image *img) {
    if (!img) return;
    free(img->rgb);
    free(img);
}

vlm_status vlm_image_from_pixels(const uint8_t *pixels, int width, int height, int channels,
                                 vlm_image **out) {
    if (!out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_image_from_pixels: out is NULL");
    *out = NULL;
    if (!pixels) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_image_from_pixels: pixels is NULL");
    if (channels != 3 && channels != 4)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                         "vlm_image_from_pixels: channels must be 3 (RGB) or 4 (RGBA), got %d",
                         channels);
    if (width <= 0 || height <= 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_image_from_pixels: invalid size %dx%d",
                         width, height);
    vlm_status st = image_new(width, height, out);
    if (st) return st;
    size_t n = (size_t)width * (size_t)height;
    if (channels == 3) {
        memcpy((*out)->rgb, pixels, n * 3);
    } else {
        for (size_t i = 0; i < n; i++) memcpy((*out)->rgb + i * 3, pixels + i * 4, 3);
    }
    return VLM_OK;
}
