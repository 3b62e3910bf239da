/*
 * fuzz_image_decode.c — libFuzzer target over the image decoding entry
 * points every untrusted image (file, URL, data: URL) goes through:
 * vlm_image_decode_memory (format sniffing, the JPEG/PNG/WebP/GIF/BMP
 * decoders, EXIF parsing and orientation) and image_decode_resized (the
 * row-streaming JPEG decode + resize the processors use). Any input must
 * give an image or a clean error, and both paths must agree.
 * Build: make fuzz; run: build-fuzz/fuzz_image_decode tests/fixtures/images
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/processor.h"
#include "vlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Half the size, rounded up: a downscale with real filter taps. */
static vlm_status half_size(void *ctx, int width, int height, int *out_w, int *out_h) {
    (void)ctx;
    *out_w = (width + 1) / 2;
    *out_h = (height + 1) / 2;
    return VLM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Keep bombs cheap: 4096 x 4096 is plenty to exercise the decoders. */
    vlm_image_set_max_pixels(4096u * 4096u);
    vlm_image *img = NULL, *small = NULL, *want = NULL;
    vlm_status st = vlm_image_decode_memory(data, size, &img);
    if ((st == VLM_OK) != (img != NULL)) abort();
    if (img && (img->width <= 0 || img->height <= 0)) abort();
    vlm_status st2 = image_decode_resized(data, size, RESAMPLE_BICUBIC, half_size, NULL, &small);
    if ((st2 == VLM_OK) != (small != NULL) || (st == VLM_OK) != (st2 == VLM_OK)) abort();
    if (img && image_resize(img, small->width, small->height, RESAMPLE_BICUBIC, &want) == VLM_OK &&
        memcmp(want->rgb, small->rgb, (size_t)small->width * small->height * 3))
        abort();
    vlm_image_free(img);
    vlm_image_free(small);
    vlm_image_free(want);
    return 0;
}
