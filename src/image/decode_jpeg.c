/*
 * decode_jpeg.c — JPEG through libjpeg-turbo with the settings Pillow 9.4
 * uses (accurate integer IDCT, fancy upsampling, libjpeg's own colour
 * space guess): baseline, progressive, arithmetic, grayscale, and
 * CMYK/YCCK read with Adobe's inverted polarity as PIL assumes.
 *
 * libjpeg reports fatal errors through error_exit; we longjmp back and
 * turn the message into a vlm_status. A truncated file (libjpeg's
 * "premature end" warning) is an error, as PIL raises "image file is
 * truncated"; other warnings (extraneous bytes) are ignored like PIL does.
 *
 * Rows go to an image_row_sink in batches: a whole image for decode_jpeg,
 * or a consumer such as the streaming resizer for decode_jpeg_rows.
 * YCbCr images in the usual subsampling layouts are read as raw planes
 * and converted by decode_jpeg_ycc.c (same bytes, about twice as fast as
 * libjpeg's own upsampling and conversion).
 */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "core/error.h"
#include "image/color.h"
#include "image/decode_jpeg_ycc.h"
#include "image/image.h"

typedef struct jpeg_error_ctx {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_error_ctx;

/* Valid JPEG features this libjpeg build cannot decode (12-bit samples). */
static vlm_status jpeg_error_status(const jpeg_error_ctx *err) {
    return err->mgr.msg_code == JERR_BAD_PRECISION ? VLM_ERR_UNSUPPORTED : VLM_ERR_FORMAT;
}

static void on_jpeg_error(j_common_ptr cinfo) {
    jpeg_error_ctx *err = (jpeg_error_ctx *)cinfo->err;
    cinfo->err->format_message(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void on_jpeg_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) on_jpeg_error(cinfo);
}

/* The first APP1 segment holding EXIF, as PIL keeps it. */
static int jpeg_orientation(struct jpeg_decompress_struct *cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && !memcmp(m->data, "Exif\0\0", 6))
            return exif_orientation(m->data, m->data_length);
    return 1;
}

/* Decode every scanline into the sink's rows, in batches, converting the
 * decoder's output layout (RGB, gray or inverted CMYK) with PIL's rules. */
static vlm_status read_scanlines(struct jpeg_decompress_struct *cinfo, const image_row_sink *sink,
                                 uint8_t *scratch) {
    int components = cinfo->output_components, width = (int)cinfo->output_width;
    size_t scratch_row = (size_t)width * components;
    while (cinfo->output_scanline < cinfo->output_height) {
        int y = (int)cinfo->output_scanline, n = 0;
        int batch = (int)cinfo->output_height - y < IMAGE_ROW_BATCH ? (int)cinfo->output_height - y
                                                                     : IMAGE_ROW_BATCH;
        while (n < batch) {
            JSAMPROW rows[IMAGE_ROW_BATCH];
            for (int i = n; i < batch; i++)
                rows[i - n] = components == 3 ? sink->row(sink->ctx, y + i) : scratch + (size_t)i * scratch_row;
            n += (int)jpeg_read_scanlines(cinfo, rows, (JDIMENSION)(batch - n));
        }
        for (int i = 0; components != 3 && i < n; i++) {
            const uint8_t *src = scratch + (size_t)i * scratch_row;
            if (components == 1) color_gray_to_rgb(sink->row(sink->ctx, y + i), src, (size_t)width, 1);
            else color_adobe_cmyk_to_rgb(sink->row(sink->ctx, y + i), src, (size_t)width);
        }
        vlm_status st = sink->rows_ready(sink->ctx, y, n);
        if (st) return st;
    }
    return VLM_OK;
}

static vlm_status choose_output(struct jpeg_decompress_struct *cinfo) {
    if (cinfo->data_precision != 8)
        return vlm_error(VLM_ERR_UNSUPPORTED, "%d-bit JPEG samples are not supported (only 8-bit)",
                         cinfo->data_precision);
    switch (cinfo->num_components) {
    case 1: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo->out_color_space = JCS_RGB; break;
    case 4: cinfo->out_color_space = JCS_CMYK; break;
    default:
        return vlm_error(VLM_ERR_UNSUPPORTED, "cannot handle %d-component JPEG", cinfo->num_components);
    }
    return VLM_OK;
}

/* The decode proper. With stream_only, an image needing reorientation is
 * refused (VLM_ERR_UNSUPPORTED, no message) before the sink sees it. */
static vlm_status jpeg_decode(const uint8_t *data, size_t size, const image_row_sink *sink,
                              int stream_only, int *orientation) {
    struct jpeg_decompress_struct cinfo;
    jpeg_error_ctx err;
    uint8_t *volatile scratch = NULL;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_jpeg_error;
    err.mgr.emit_message = on_jpeg_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(scratch);
        return vlm_error(jpeg_error_status(&err), "%s", err.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    *orientation = jpeg_orientation(&cinfo);
    vlm_status st = stream_only && *orientation != 1 ? VLM_ERR_UNSUPPORTED : choose_output(&cinfo);
    if (!st) st = image_check_size(cinfo.image_width, cinfo.image_height, "JPEG");
    if (!st) st = sink->begin(sink->ctx, (int)cinfo.image_width, (int)cinfo.image_height);
    if (!st && cinfo.num_components != 3 &&
        !(scratch = vlm_malloc((size_t)cinfo.image_width * 4 * IMAGE_ROW_BATCH)))
        st = VLM_ERR_OUT_OF_MEMORY;
    if (!st) {
        int raw_ycc = jpeg_ycc_supported(&cinfo);
        cinfo.raw_data_out = raw_ycc ? TRUE : FALSE;
        jpeg_start_decompress(&cinfo);
        st = raw_ycc ? jpeg_ycc_read(&cinfo, sink) : read_scanlines(&cinfo, sink, scratch);
        if (!st) jpeg_finish_decompress(&cinfo);
    }
    jpeg_destroy_decompress(&cinfo);
    free(scratch);
    return st;
}

vlm_status decode_jpeg_rows(const uint8_t *data, size_t size, const image_row_sink *sink) {
    int orientation;
    return jpeg_decode(data, size, sink, 1, &orientation);
}

/* The whole-image sink: rows land straight in a new vlm_image. */
static vlm_status whole_begin(void *ctx, int width, int height) {
    return image_new(width, height, (vlm_image **)ctx);
}

static uint8_t *whole_row(void *ctx, int y) {
    vlm_image *img = *(vlm_image **)ctx;
    return img->rgb + (size_t)y * img->width * 3;
}

static vlm_status whole_rows_ready(void *ctx, int y, int n) {
    (void)ctx;
    (void)y;
    (void)n;
    return VLM_OK;
}

vlm_status decode_jpeg(const uint8_t *data, size_t size, vlm_image **out, int *orientation) {
    vlm_image *img = NULL;
    image_row_sink sink = {&img, whole_begin, whole_row, whole_rows_ready};
    vlm_status st = jpeg_decode(data, size, &sink, 0, orientation);
    if (st) {
        vlm_image_free(img);
        return st;
    }
    *out = img;
    return VLM_OK;
}
