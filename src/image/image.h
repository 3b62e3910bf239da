/*
 * image.h — internal helpers shared by the image decoders and
 * preprocessors: allocating an RGB image under the pixel limit, the
 * decoders' common signature, and EXIF orientation.
 *
 * Every decoder turns file bytes into an 8-bit RGB vlm_image the way
 * PIL 9.4's Image.open(...).convert("RGB") does (alpha dropped, not
 * composited; palettes expanded; 16-bit samples as Pillow reads them) and
 * reports the EXIF orientation (1..8, 1 when absent) for the caller to
 * apply with image_apply_orientation (ImageOps.exif_transpose).
 */
#ifndef VLM_IMAGE_IMAGE_H
#define VLM_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "vlm.h"

/* Pixel limit of vlm_image_set_max_pixels (PIL's 2 * MAX_IMAGE_PIXELS). */
#define IMAGE_DEFAULT_MAX_PIXELS (2ull * 89478485ull)

uint64_t image_max_pixels(void);
/* Refuse (VLM_ERR_LIMIT) dimensions that are not positive or exceed the
 * pixel limit; what names the image in the message. */
vlm_status image_check_size(int64_t width, int64_t height, const char *what);
/* A new RGB image (uninitialised pixels) after image_check_size. */
vlm_status image_new(int width, int height, vlm_image **out);

/* The decoders: data/size are the whole file. */
typedef vlm_status (*image_decoder)(const uint8_t *data, size_t size, vlm_image **out,
                                    int *orientation);
vlm_status decode_jpeg(const uint8_t *data, size_t size, vlm_image **out, int *orientation);
vlm_status decode_png(const uint8_t *data, size_t size, vlm_image **out, int *orientation);
vlm_status decode_webp(const uint8_t *data, size_t size, vlm_image **out, int *orientation);
vlm_status decode_gif(const uint8_t *data, size_t size, vlm_image **out, int *orientation);
vlm_status decode_bmp(const uint8_t *data, size_t size, vlm_image **out, int *orientation);

/* A consumer of decoded RGB rows, top to bottom: begin gets the size (and
 * may refuse with an error), row gives the buffer for row y, rows_ready
 * hands over rows [y, y + n) once written. At most IMAGE_ROW_BATCH rows
 * are asked for between two rows_ready calls. */
#define IMAGE_ROW_BATCH 8
typedef struct image_row_sink {
    void *ctx;
    vlm_status (*begin)(void *ctx, int width, int height);
    uint8_t *(*row)(void *ctx, int y);
    vlm_status (*rows_ready)(void *ctx, int y, int n);
} image_row_sink;

/* A JPEG decoded row by row into sink, never held whole. An image whose
 * EXIF orientation is not 1 is refused before sink->begin with
 * VLM_ERR_UNSUPPORTED and no message: decode it whole instead. */
vlm_status decode_jpeg_rows(const uint8_t *data, size_t size, const image_row_sink *sink);

/* EXIF orientation tag (0x0112) from a TIFF-structured EXIF block, with or
 * without the leading "Exif\0\0"; 1 when absent or unreadable (PIL treats
 * a broken EXIF block as no orientation). */
int exif_orientation(const uint8_t *exif, size_t size);
/* ImageOps.exif_transpose: rotate/flip so orientation becomes 1. May
 * replace *img (90-degree turns swap width and height). */
vlm_status image_apply_orientation(vlm_image **img, int orientation);

#endif
