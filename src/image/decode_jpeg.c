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

/* Decode every scanline into img, converting the decoder's output layout
 * (RGB, gray or inverted CMYK) with PIL's rules. */
static void read_scanlines(struct jpeg_decompress_struct *cinfo, vlm_image *img, uint8_t *row) {
    int components = cinfo->output_components;
    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *dst = img->rgb + (size_t)cinfo->output_scanline * img->width * 3;
        if (components == 3) {
            JSAMPROW rows[1] = {dst};
            jpeg_read_scanlines(cinfo, rows, 1);
            continue;
        }
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(cinfo, rows, 1);
        if (components == 1) color_gray_to_rgb(dst, row, (size_t)img->width, 1);
        else color_adobe_cmyk_to_rgb(dst, row, (size_t)img->width);
    }
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

vlm_status decode_jpeg(const uint8_t *data, size_t size, vlm_image **out, int *orientation) {
    struct jpeg_decompress_struct cinfo;
    jpeg_error_ctx err;
    vlm_image *volatile img = NULL;
    uint8_t *volatile row = NULL;
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = on_jpeg_error;
    err.mgr.emit_message = on_jpeg_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        vlm_image_free(img);
        free(row);
        return vlm_error(jpeg_error_status(&err), "%s", err.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);
    vlm_image *fresh = NULL;
    vlm_status st = choose_output(&cinfo);
    if (!st) st = image_new((int)cinfo.image_width, (int)cinfo.image_height, &fresh);
    img = fresh;
    if (!st && cinfo.num_components != 3 && !(row = vlm_malloc((size_t)cinfo.image_width * 4)))
        st = VLM_ERR_OUT_OF_MEMORY;
    if (st) {
        jpeg_destroy_decompress(&cinfo);
        vlm_image_free(img);
        return st;
    }
    *orientation = jpeg_orientation(&cinfo);
    jpeg_start_decompress(&cinfo);
    read_scanlines(&cinfo, img, row);
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *out = img;
    return VLM_OK;
}
