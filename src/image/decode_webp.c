/*
 * decode_webp.c — WebP (lossy, lossless, with alpha) through libwebp.
 *
 * Pillow 9.4 decodes a still WebP to RGBA (or RGBX) with libwebp's default
 * options and convert("RGB") drops alpha, so the RGB samples are exactly
 * libwebp's non-premultiplied output. The orientation comes from the
 * extended format's EXIF chunk, found by walking the RIFF chunks.
 */
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>

#include "core/error.h"
#include "image/color.h"
#include "image/image.h"

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int webp_orientation(const uint8_t *data, size_t size) {
    size_t pos = 12;
    while (pos + 8 <= size) {
        uint32_t len = le32(data + pos + 4);
        if (len > size - pos - 8) break;
        if (!memcmp(data + pos, "EXIF", 4)) return exif_orientation(data + pos + 8, len);
        pos += 8 + (size_t)len + (len & 1);
    }
    return 1;
}

static const char *webp_status_text(VP8StatusCode s) {
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated file (not enough data)";
    default: return "decoding failed";
    }
}

vlm_status decode_webp(const uint8_t *data, size_t size, vlm_image **out, int *orientation) {
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) return vlm_error(VLM_ERR_INTERNAL, "libwebp version mismatch");
    VP8StatusCode s = WebPGetFeatures(data, size, &config.input);
    if (s != VP8_STATUS_OK) return vlm_error(VLM_ERR_FORMAT, "%s", webp_status_text(s));
    if (config.input.has_animation)
        return vlm_error(VLM_ERR_UNSUPPORTED, "animated WebP is not supported");
    vlm_status st = image_check_size(config.input.width, config.input.height, "WebP");
    if (st) return st;
    vlm_image *img;
    if ((st = image_new(config.input.width, config.input.height, &img))) return st;
    size_t n = (size_t)img->width * img->height;
    int alpha = config.input.has_alpha;
    uint8_t *rgba = NULL;
    if (alpha && !(rgba = vlm_malloc(n * 4))) {
        vlm_image_free(img);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    config.output.colorspace = alpha ? MODE_RGBA : MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = alpha ? rgba : img->rgb;
    config.output.u.RGBA.stride = img->width * (alpha ? 4 : 3);
    config.output.u.RGBA.size = n * (alpha ? 4 : 3);
    s = WebPDecode(data, size, &config);
    WebPFreeDecBuffer(&config.output);
    if (s == VP8_STATUS_OK && alpha) color_rgba_to_rgb(img->rgb, rgba, n);
    free(rgba);
    if (s != VP8_STATUS_OK) {
        vlm_image_free(img);
        return vlm_error(VLM_ERR_FORMAT, "%s", webp_status_text(s));
    }
    *orientation = webp_orientation(data, size);
    *out = img;
    return VLM_OK;
}
