/*
 * decode_png.c — PNG through libpng, producing what Pillow 9.4 gives for
 * Image.open(...).convert("RGB"):
 *   gray 1/2/4/8-bit       -> L (1/2/4-bit scaled to 0..255), repeated to RGB
 *   gray 16-bit            -> mode "I" (0..65535), clipped to 0..255 by I->RGB
 *   RGB / RGBA / LA 16-bit -> the high byte of each sample ("RGB;16B" etc.)
 *   palette 1/2/4/8-bit    -> palette lookup; tRNS ignored
 *   gray+alpha, RGBA       -> alpha dropped, never composited
 * Gamma, ICC and sRGB chunks are ignored, as PIL ignores them. Adam7
 * interlacing is handled by libpng. The eXIf chunk gives the orientation.
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/color.h"
#include "image/image.h"

typedef struct png_source {
    const uint8_t *data;
    size_t size, pos;
    char message[256];
} png_source;

/* What one decode needs across the longjmp boundary. */
typedef struct png_decode {
    png_structp png;
    png_infop info, end_info;   /* end_info: chunks after the image data */
    png_source src;
    uint8_t *raw;        /* libpng's output rows, when not RGB already */
    png_bytep *rows;
    vlm_image *img;
} png_decode;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_source *src = png_get_error_ptr(png);
    snprintf(src->message, sizeof src->message, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void read_png_bytes(png_structp png, png_bytep out, png_size_t n) {
    png_source *src = png_get_io_ptr(png);
    if (n > src->size - src->pos) png_error(png, "truncated file (image data ends early)");
    memcpy(out, src->data + src->pos, n);
    src->pos += n;
}

/* Ask libpng for 8-bit samples (16-bit gray stays 16-bit: PIL's "I"),
 * one byte per palette index, gray 1/2/4-bit scaled, and no alpha
 * synthesised from tRNS. */
static void set_png_transforms(png_structp png, int color_type, int bit_depth) {
    if (bit_depth == 16 && color_type != PNG_COLOR_TYPE_GRAY) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE && bit_depth < 8) png_set_packing(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_interlace_handling(png);
}

static inline uint8_t clip_to_u8(unsigned v) { return v > 255 ? 255 : (uint8_t)v; }

/* Convert one decoded row (libpng's output layout) to RGB. */
static void png_row_to_rgb(uint8_t *dst, const uint8_t *row, int width, int color_type,
                           int bit_depth, const color_palette *palette) {
    size_t n = (size_t)width;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        if (bit_depth == 16) {
            for (size_t i = 0; i < n; i++, dst += 3)
                dst[0] = dst[1] = dst[2] = clip_to_u8((unsigned)row[2 * i] << 8 | row[2 * i + 1]);
        } else {
            color_gray_to_rgb(dst, row, n, 1);
        }
        break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: color_gray_to_rgb(dst, row, n, 2); break;
    case PNG_COLOR_TYPE_PALETTE: color_palette_to_rgb(dst, row, n, palette); break;
    case PNG_COLOR_TYPE_RGB_ALPHA: color_rgba_to_rgb(dst, row, n); break;
    default: memcpy(dst, row, n * 3); break;
    }
}

static void png_read_palette(png_decode *d, color_palette *palette) {
    png_colorp entries = NULL;
    int n = 0;
    color_palette_init(palette, NULL, 0);
    if (png_get_PLTE(d->png, d->info, &entries, &n) & PNG_INFO_PLTE) {
        uint8_t triplets[256 * 3];
        if (n > 256) n = 256;
        for (int i = 0; i < n; i++) {
            triplets[i * 3 + 0] = entries[i].red;
            triplets[i * 3 + 1] = entries[i].green;
            triplets[i * 3 + 2] = entries[i].blue;
        }
        color_palette_init(palette, triplets, (size_t)n);
    }
}

static int png_orientation(png_decode *d, png_infop info) {
    png_uint_32 n = 0;
    png_bytep exif = NULL;
    if (info && png_get_eXIf_1(d->png, info, &n, &exif) && exif) return exif_orientation(exif, n);
    return 0;
}

/* Everything that may longjmp; returns the status of non-libpng failures. */
static vlm_status png_decode_body(png_decode *d, int *orientation) {
    png_uint_32 width, height;
    int bit_depth, color_type;
    png_set_read_fn(d->png, &d->src, read_png_bytes);
    png_read_info(d->png, d->info);
    png_get_IHDR(d->png, d->info, &width, &height, &bit_depth, &color_type, NULL, NULL, NULL);
    vlm_status st = image_check_size(width, height, "PNG");
    if (st) return st;
    set_png_transforms(d->png, color_type, bit_depth);
    png_read_update_info(d->png, d->info);
    size_t rowbytes = png_get_rowbytes(d->png, d->info);
    int direct = color_type == PNG_COLOR_TYPE_RGB;   /* rows are RGB8 already */
    if ((st = image_new((int)width, (int)height, &d->img))) return st;
    if (!direct && !(d->raw = vlm_malloc(rowbytes * height))) return VLM_ERR_OUT_OF_MEMORY;
    if (!(d->rows = vlm_malloc(sizeof *d->rows * height))) return VLM_ERR_OUT_OF_MEMORY;
    for (png_uint_32 y = 0; y < height; y++)
        d->rows[y] = direct ? d->img->rgb + (size_t)y * width * 3 : d->raw + (size_t)y * rowbytes;
    png_read_image(d->png, d->rows);
    if ((d->end_info = png_create_info_struct(d->png))) {
        png_read_end(d->png, d->end_info);
        *orientation = png_orientation(d, d->end_info);
    }
    int early = png_orientation(d, d->info);
    if (early) *orientation = early;
    if (!*orientation) *orientation = 1;
    if (!direct) {
        color_palette palette;
        png_read_palette(d, &palette);
        for (png_uint_32 y = 0; y < height; y++)
            png_row_to_rgb(d->img->rgb + (size_t)y * width * 3, d->rows[y], (int)width, color_type,
                           bit_depth, &palette);
    }
    return VLM_OK;
}

/* Refuse a decompression bomb from the IHDR alone, before libpng reads
 * further (png_read_info only returns at the first IDAT). */
static vlm_status check_ihdr_size(const uint8_t *data, size_t size) {
    if (size < 24 || memcmp(data + 12, "IHDR", 4)) return VLM_OK;   /* libpng will complain */
    const uint8_t *p = data + 16;
    uint32_t w = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    uint32_t h = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    return w && h ? image_check_size(w, h, "PNG") : VLM_OK;
}

/* The decode state lives on the heap so that nothing libpng's longjmp
 * skips over is a modified automatic variable. */
vlm_status decode_png(const uint8_t *data, size_t size, vlm_image **out, int *orientation) {
    vlm_status st = check_ihdr_size(data, size);
    if (st) return st;
    png_decode *d = vlm_calloc(1, sizeof *d);
    if (!d) return VLM_ERR_OUT_OF_MEMORY;
    d->src.data = data;
    d->src.size = size;
    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d->src, on_png_error, on_png_warning);
    if (!d->png || !(d->info = png_create_info_struct(d->png))) {
        png_destroy_read_struct(&d->png, NULL, NULL);
        free(d);
        return vlm_error(VLM_ERR_OUT_OF_MEMORY, "libpng: out of memory");
    }
    *orientation = 0;
    if (setjmp(png_jmpbuf(d->png))) st = vlm_error(VLM_ERR_FORMAT, "%s", d->src.message);
    else st = png_decode_body(d, orientation);
    png_destroy_read_struct(&d->png, &d->info, &d->end_info);
    free(d->raw);
    free(d->rows);
    if (st) vlm_image_free(d->img);
    else *out = d->img;
    free(d);
    return st;
}
