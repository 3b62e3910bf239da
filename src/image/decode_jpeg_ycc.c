/*
 * decode_jpeg_ycc.c — YCbCr JPEGs read as raw downsampled planes
 * (jpeg_read_raw_data) and turned into RGB rows by jpeg_ycc.h, for the
 * common layouts: 4:4:4, 4:2:2 and 4:2:0 with full-size luma. The bytes
 * are libjpeg's own JCS_RGB output (fancy upsampling included); the
 * point is speed: the chroma is upsampled one row at a time into a
 * small buffer and converted straight into the sink's row.
 *
 * Raw data comes one iMCU row at a time (8 chroma rows, 8 or 16 luma
 * rows). Vertical upsampling needs the chroma row below, so output lags
 * one row behind what has been read; two iMCU rows of each plane are
 * kept. Top and bottom edges reuse the first and last chroma row, as
 * libjpeg's context rows do.
 */
#include <string.h>

#include "image/decode_jpeg_ycc.h"
#include "image/jpeg_ycc.h"

/* libjpeg takes the fancy path we reproduce only for these layouts. */
int jpeg_ycc_supported(const struct jpeg_decompress_struct *cinfo) {
    const jpeg_component_info *c = cinfo->comp_info;
    if (cinfo->num_components != 3 || cinfo->jpeg_color_space != JCS_YCbCr ||
        cinfo->out_color_space != JCS_RGB || !cinfo->do_fancy_upsampling ||
        cinfo->CCIR601_sampling || cinfo->scale_num != cinfo->scale_denom)
        return 0;
    int h = c[0].h_samp_factor, v = c[0].v_samp_factor;
    for (int i = 1; i < 3; i++)
        if (c[i].h_samp_factor != 1 || c[i].v_samp_factor != 1) return 0;
    if (h < 1 || h > 2 || v < 1 || v > h) return 0;   /* 1x1, 2x1, 2x2 */
    /* narrower chroma gets libjpeg's plain (box) upsampling */
    return h == 1 || (cinfo->image_width + 1) / 2 > 2;
}

typedef struct ycc_reader {
    struct jpeg_decompress_struct *cinfo;
    const image_row_sink *sink;
    const ycc_ops *ops;
    int h_up, v_up, width, height, chroma_w, chroma_h;
    int luma_rows, chroma_rows;      /* per iMCU row */
    JSAMPARRAY planes[2][3];         /* two iMCU rows of each plane */
    int16_t *cb_sums, *cr_sums;      /* column sums of one output row */
    int batch_y, batch_n;            /* rows written since the last rows_ready */
} ycc_reader;

static JSAMPROW plane_row(const ycc_reader *r, int plane, int row) {
    int per = plane ? r->chroma_rows : r->luma_rows;
    return r->planes[(row / per) % 2][plane][row % per];
}

static vlm_status flush_rows(ycc_reader *r) {
    vlm_status st = r->batch_n ? r->sink->rows_ready(r->sink->ctx, r->batch_y, r->batch_n) : VLM_OK;
    r->batch_y += r->batch_n;
    r->batch_n = 0;
    return st;
}

/* Output row y from chroma row i (the nearest one). */
static vlm_status emit_row(ycc_reader *r, int y, int i) {
    uint8_t *rgb = r->sink->row(r->sink->ctx, y);
    if (r->h_up == 1) {
        r->ops->to_rgb(rgb, plane_row(r, 0, y), plane_row(r, 1, i), plane_row(r, 2, i), r->width);
    } else {
        int far = i;
        if (r->v_up == 2) far = y % 2 ? (i + 1 < r->chroma_h ? i + 1 : i) : (i > 0 ? i - 1 : 0);
        r->ops->column_sums(r->cb_sums, plane_row(r, 1, i), plane_row(r, 1, far), r->chroma_w, r->v_up);
        r->ops->column_sums(r->cr_sums, plane_row(r, 2, i), plane_row(r, 2, far), r->chroma_w, r->v_up);
        r->ops->upsampled_to_rgb(rgb, plane_row(r, 0, y), r->cb_sums, r->cr_sums, r->width, r->v_up);
    }
    return ++r->batch_n == IMAGE_ROW_BATCH ? flush_rows(r) : VLM_OK;
}

/* Buffers from libjpeg's image pool (freed with the decompressor, also
 * when an error longjmps out). */
static void reader_alloc(ycc_reader *r) {
    struct jpeg_decompress_struct *cinfo = r->cinfo;
    for (int s = 0; s < 2; s++)
        for (int p = 0; p < 3; p++) {
            const jpeg_component_info *c = &cinfo->comp_info[p];
            r->planes[s][p] = cinfo->mem->alloc_sarray(
                (j_common_ptr)cinfo, JPOOL_IMAGE, c->width_in_blocks * DCTSIZE + YCC_ROW_PAD,
                (JDIMENSION)(c->v_samp_factor * DCTSIZE));
        }
    /* from sums[-1]; zeroed so the vector tails never read garbage */
    size_t sums = ((size_t)r->chroma_w + 1 + YCC_ROW_PAD) * sizeof(int16_t);
    r->cb_sums = cinfo->mem->alloc_large((j_common_ptr)cinfo, JPOOL_IMAGE, sums);
    r->cr_sums = cinfo->mem->alloc_large((j_common_ptr)cinfo, JPOOL_IMAGE, sums);
    memset(r->cb_sums, 0, sums);
    memset(r->cr_sums, 0, sums);
    r->cb_sums++;
    r->cr_sums++;
}

vlm_status jpeg_ycc_read(struct jpeg_decompress_struct *cinfo, const image_row_sink *sink) {
    const jpeg_component_info *c = cinfo->comp_info;
    ycc_reader r = {.cinfo = cinfo, .sink = sink, .ops = ycc_ops_best(),
                    .h_up = c[0].h_samp_factor, .v_up = c[0].v_samp_factor,
                    .width = (int)cinfo->output_width, .height = (int)cinfo->output_height,
                    .chroma_w = (int)c[1].downsampled_width, .chroma_h = (int)c[1].downsampled_height,
                    .luma_rows = c[0].v_samp_factor * DCTSIZE, .chroma_rows = DCTSIZE};
    reader_alloc(&r);
    int read = 0, next = 0;   /* chroma rows read, chroma rows emitted */
    vlm_status st = VLM_OK;
    for (int imcu = 0; !st && next < r.chroma_h; imcu++) {
        if (read < r.chroma_h) {
            jpeg_read_raw_data(cinfo, r.planes[imcu % 2], (JDIMENSION)r.luma_rows);
            read = read + r.chroma_rows < r.chroma_h ? read + r.chroma_rows : r.chroma_h;
        }
        /* a lower row needs the chroma row below it (or the bottom edge) */
        int ready = r.v_up == 2 && read < r.chroma_h ? read - 1 : read;
        for (; !st && next < ready; next++)
            for (int t = 0; !st && t < r.v_up && next * r.v_up + t < r.height; t++)
                st = emit_row(&r, next * r.v_up + t, next);
    }
    return st ? st : flush_rows(&r);
}
