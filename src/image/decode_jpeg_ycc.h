/*
 * decode_jpeg_ycc.h — the fast path of decode_jpeg.c for YCbCr JPEGs in
 * the common subsampling layouts: raw planes from libjpeg, upsampled and
 * converted by jpeg_ycc.h into the same RGB bytes JCS_RGB output gives.
 */
#ifndef VLM_IMAGE_DECODE_JPEG_YCC_H
#define VLM_IMAGE_DECODE_JPEG_YCC_H

#include <stdio.h>

#include <jpeglib.h>

#include "image/image.h"

/* After jpeg_read_header and the output colour choice: whether this
 * image can take the raw path (then set raw_data_out before
 * jpeg_start_decompress and read it with jpeg_ycc_read). */
int jpeg_ycc_supported(const struct jpeg_decompress_struct *cinfo);
/* Every row, in order, into sink (batches of at most IMAGE_ROW_BATCH).
 * libjpeg errors longjmp out as usual; buffers live in the image pool. */
vlm_status jpeg_ycc_read(struct jpeg_decompress_struct *cinfo, const image_row_sink *sink);

#endif
