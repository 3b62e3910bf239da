/*
 * fuzz_image_decode.c — libFuzzer target over vlm_image_decode_memory, the
 * entry point every untrusted image (file, URL, data: URL) goes through:
 * format sniffing, the JPEG/PNG/WebP/GIF/BMP decoders, EXIF parsing and
 * orientation. Any input must give an image or a clean error.
 * Build: make fuzz; run: build-fuzz/fuzz_image_decode tests/fixtures/images
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "vlm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Keep bombs cheap: 4096 x 4096 is plenty to exercise the decoders. */
    vlm_image_set_max_pixels(4096u * 4096u);
    vlm_image *img = NULL;
    vlm_status st = vlm_image_decode_memory(data, size, &img);
    if ((st == VLM_OK) != (img != NULL)) abort();
    if (img && (img->width <= 0 || img->height <= 0)) abort();
    vlm_image_free(img);
    return 0;
}
