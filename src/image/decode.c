/*
 * decode.c — vlm_image_decode_memory: recognise the format from the
 * file's first bytes (as PIL's plugins do), decode it to RGB, then apply
 * the EXIF orientation exactly like mlx-vlm's load_image
 * (ImageOps.exif_transpose followed by convert("RGB")).
 */
#include <string.h>

#include "core/error.h"
#include "image/image.h"

typedef struct image_format {
    const char *name;
    const uint8_t *magic;
    size_t magic_len;
    size_t magic_offset;
    image_decoder decode;
} image_format;

static const image_format formats[] = {
    {"JPEG", (const uint8_t *)"\xFF\xD8\xFF", 3, 0, decode_jpeg},
    {"PNG", (const uint8_t *)"\x89PNG\r\n\x1a\n", 8, 0, decode_png},
    {"GIF", (const uint8_t *)"GIF87a", 6, 0, decode_gif},
    {"GIF", (const uint8_t *)"GIF89a", 6, 0, decode_gif},
    {"WebP", (const uint8_t *)"WEBP", 4, 8, decode_webp},
    {"BMP", (const uint8_t *)"BM", 2, 0, decode_bmp},
};

static const image_format *sniff_format(const uint8_t *data, size_t size) {
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        const image_format *f = &formats[i];
        if (size >= f->magic_offset + f->magic_len &&
            !memcmp(data + f->magic_offset, f->magic, f->magic_len)) {
            if (f->decode == decode_webp && memcmp(data, "RIFF", 4)) continue;
            return f;
        }
    }
    return NULL;
}

vlm_status vlm_image_decode_memory(const void *data, size_t size, vlm_image **out) {
    if (!out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_image_decode_memory: out is NULL");
    *out = NULL;
    if (!data && size) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_image_decode_memory: data is NULL");
    if (size == 0) return vlm_error(VLM_ERR_FORMAT, "image data is empty (0 bytes)");
    const image_format *f = sniff_format(data, size);
    if (!f)
        return vlm_error(VLM_ERR_UNSUPPORTED,
                         "unknown image format (supported: JPEG, PNG, WebP, GIF, BMP)");
    int orientation = 1;
    vlm_image *img = NULL;
    vlm_status st = f->decode(data, size, &img, &orientation);
    if (st) return vlm_error_prefix(st, "decoding %s", f->name);
    st = image_apply_orientation(&img, orientation);
    if (st) {
        vlm_image_free(img);
        return st;
    }
    *out = img;
    return VLM_OK;
}
