/*
 * decode_resized.c — decode an image straight to the size a processor's
 * first step resizes it to. A JPEG is streamed: each batch of decoded
 * rows goes through the horizontal resampling pass at once, so the
 * full-size image (36 MB for a 12-megapixel photo) is never stored, and
 * the result is bit-identical to decoding whole then Image.resize. Other
 * formats, and JPEGs that need EXIF reorientation, are decoded whole and
 * then resized.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/image.h"
#include "image/processor.h"

typedef struct resized_sink {
    resample_filter filter;
    image_target_size target;
    void *target_ctx;
    int width;
    resize_stream *stream;   /* NULL when the size is kept */
    vlm_image *whole;        /* the image itself when the size is kept */
    uint8_t *batch;          /* IMAGE_ROW_BATCH source rows for the stream */
    int batch_y;             /* source row held in batch[0] */
    int sink_failed;         /* the error is ours (target, resize), not the decoder's */
} resized_sink;

static vlm_status sink_begin(void *ctx, int width, int height) {
    resized_sink *s = ctx;
    int out_w, out_h;
    vlm_status st = s->target(s->target_ctx, width, height, &out_w, &out_h);
    s->width = width;
    if (!st && out_w == width && out_h == height) st = image_new(width, height, &s->whole);
    else if (!st && !(st = resize_stream_new(width, height, out_w, out_h, s->filter, &s->stream)) &&
             !(s->batch = vlm_malloc((size_t)width * 3 * IMAGE_ROW_BATCH)))
        st = VLM_ERR_OUT_OF_MEMORY;
    s->sink_failed = st != VLM_OK;
    return st;
}

static uint8_t *sink_row(void *ctx, int y) {
    resized_sink *s = ctx;
    if (s->whole) return s->whole->rgb + (size_t)y * s->width * 3;
    return s->batch + (size_t)(y - s->batch_y) * s->width * 3;
}

static vlm_status sink_rows_ready(void *ctx, int y, int n) {
    resized_sink *s = ctx;
    if (s->whole) return VLM_OK;
    const uint8_t *rows[IMAGE_ROW_BATCH];
    for (int i = 0; i < n; i++) rows[i] = s->batch + (size_t)i * s->width * 3;
    s->batch_y = y + n;
    vlm_status st = resize_stream_push(s->stream, rows, n);
    s->sink_failed = st != VLM_OK;
    return st;
}

/* Whole decode, then the resize (the path for everything not streamed). */
static vlm_status decode_then_resize(const uint8_t *data, size_t size, resample_filter filter,
                                     image_target_size target, void *ctx, vlm_image **out) {
    vlm_image *img;
    vlm_status st = vlm_image_decode_memory(data, size, &img);
    if (st) return st;
    int out_w, out_h;
    st = target(ctx, img->width, img->height, &out_w, &out_h);
    if (!st && (out_w != img->width || out_h != img->height)) {
        vlm_image *resized;
        st = image_resize(img, out_w, out_h, filter, &resized);
        vlm_image_free(img);
        img = st ? NULL : resized;
    }
    if (st) vlm_image_free(img);
    else *out = img;
    return st;
}

vlm_status image_decode_resized(const uint8_t *data, size_t size, resample_filter filter,
                                image_target_size target, void *ctx, vlm_image **out) {
    *out = NULL;
    int is_jpeg = size >= 3 && !memcmp(data, "\xFF\xD8\xFF", 3);
    if (!is_jpeg || filter == RESAMPLE_NEAREST)
        return decode_then_resize(data, size, filter, target, ctx, out);
    resized_sink s = {.filter = filter, .target = target, .target_ctx = ctx};
    image_row_sink sink = {&s, sink_begin, sink_row, sink_rows_ready};
    vlm_status st = decode_jpeg_rows(data, size, &sink);
    if (!st && s.stream) st = resize_stream_finish(s.stream, out);
    else if (!st) *out = s.whole, s.whole = NULL;
    int streamed = s.stream || s.whole || st != VLM_ERR_UNSUPPORTED;
    resize_stream_free(s.stream);
    vlm_image_free(s.whole);
    free(s.batch);
    if (!streamed) return decode_then_resize(data, size, filter, target, ctx, out);
    return st && !s.sink_failed ? vlm_error_prefix(st, "decoding JPEG") : st;
}
