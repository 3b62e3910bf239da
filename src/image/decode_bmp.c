/*
 * decode_bmp.c — uncompressed Windows BMP (the common case that is cheap
 * to read exactly): 1/4/8-bit palette, 24-bit BGR and 32-bit BGRX
 * (BI_RGB; the 4th byte ignored as PIL's "BGRX" does), bottom-up or
 * top-down rows padded to 4 bytes. RLE and bit-field variants are refused
 * with VLM_ERR_UNSUPPORTED.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/color.h"
#include "image/image.h"

enum { BMP_FILE_HEADER = 14, BI_RGB = 0 };

typedef struct bmp_header {
    int64_t width, height;   /* height < 0: rows stored top-down */
    int bpp, palette_entry_size;
    uint32_t data_offset, header_size, colors;
} bmp_header;

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static vlm_status read_bmp_header(const uint8_t *data, size_t size, bmp_header *h) {
    if (size < BMP_FILE_HEADER + 12) return vlm_error(VLM_ERR_FORMAT, "truncated header");
    h->data_offset = rd32(data + 10);
    h->header_size = rd32(data + 14);
    const uint8_t *dib = data + BMP_FILE_HEADER;
    if (h->header_size == 12) {   /* OS/2 BITMAPCOREHEADER */
        h->width = rd16(dib + 4);
        h->height = rd16(dib + 6);
        h->bpp = (int)rd16(dib + 10);
        h->palette_entry_size = 3;
        h->colors = 0;
    } else {
        if (h->header_size < 40 || size < BMP_FILE_HEADER + (size_t)h->header_size)
            return vlm_error(VLM_ERR_FORMAT, "truncated or unknown header");
        h->width = (int32_t)rd32(dib + 4);
        h->height = (int32_t)rd32(dib + 8);
        h->bpp = (int)rd16(dib + 14);
        if (rd32(dib + 16) != BI_RGB)
            return vlm_error(VLM_ERR_UNSUPPORTED, "compressed BMP (type %u) is not supported",
                             rd32(dib + 16));
        h->palette_entry_size = 4;
        h->colors = rd32(dib + 32);
    }
    if (h->bpp != 1 && h->bpp != 4 && h->bpp != 8 && h->bpp != 24 && h->bpp != 32)
        return vlm_error(VLM_ERR_UNSUPPORTED, "%d-bit BMP is not supported", h->bpp);
    return image_check_size(h->width, h->height < 0 ? -h->height : h->height, "BMP");
}

static void read_bmp_palette(const uint8_t *data, size_t size, const bmp_header *h,
                             color_palette *palette) {
    uint8_t triplets[256 * 3];
    size_t n = h->colors ? h->colors : (size_t)1 << h->bpp;
    size_t start = BMP_FILE_HEADER + (size_t)h->header_size;
    if (n > 256) n = 256;
    if (start > size) n = 0;
    else if (n > (size - start) / h->palette_entry_size) n = (size - start) / h->palette_entry_size;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *bgr = data + start + i * h->palette_entry_size;
        triplets[i * 3 + 0] = bgr[2];
        triplets[i * 3 + 1] = bgr[1];
        triplets[i * 3 + 2] = bgr[0];
    }
    color_palette_init(palette, triplets, n);
}

static void bmp_row_to_rgb(uint8_t *dst, const uint8_t *row, int width, int bpp,
                           const color_palette *palette) {
    for (int x = 0; x < width; x++, dst += 3) {
        if (bpp >= 24) {
            const uint8_t *bgr = row + (size_t)x * (bpp / 8);
            dst[0] = bgr[2], dst[1] = bgr[1], dst[2] = bgr[0];
        } else {
            int per_byte = 8 / bpp;
            int shift = 8 - bpp * (x % per_byte + 1);
            memcpy(dst, palette->rgb[(row[x / per_byte] >> shift) & ((1 << bpp) - 1)], 3);
        }
    }
}

vlm_status decode_bmp(const uint8_t *data, size_t size, vlm_image **out, int *orientation) {
    bmp_header h = {0};
    vlm_status st = read_bmp_header(data, size, &h);
    if (st) return st;
    int width = (int)h.width, height = (int)(h.height < 0 ? -h.height : h.height);
    size_t stride = (((size_t)width * h.bpp + 31) / 32) * 4;
    if (h.data_offset > size || (size - h.data_offset) / stride < (size_t)height)
        return vlm_error(VLM_ERR_FORMAT, "truncated file (pixel data ends early)");
    color_palette palette;
    if (h.bpp <= 8) read_bmp_palette(data, size, &h, &palette);
    vlm_image *img;
    if ((st = image_new(width, height, &img))) return st;
    for (int y = 0; y < height; y++) {
        int stored = h.height < 0 ? y : height - 1 - y;
        bmp_row_to_rgb(img->rgb + (size_t)y * width * 3, data + h.data_offset + stored * stride,
                       width, h.bpp, &palette);
    }
    *orientation = 1;
    *out = img;
    return VLM_OK;
}
