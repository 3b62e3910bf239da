/*
 * decode_gif.c — the first frame of a GIF through giflib, composed the
 * way Pillow 9.4 composes frame 0:
 *   - the canvas is the logical screen, grown to contain the frame;
 *   - it starts filled with the frame's transparent index when the
 *     graphic control extension sets one, else with index 0;
 *   - the frame's indices are written at its offset (interlaced rows put
 *     back in order); transparency is otherwise ignored by convert("RGB");
 *   - indices map through the local colour table, else the global one
 *     (no table: the index is the gray level, PIL's mode "L").
 */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/color.h"
#include "image/image.h"

typedef struct gif_source {
    const uint8_t *data;
    size_t size, pos;
} gif_source;

static int read_gif_bytes(GifFileType *gif, GifByteType *out, int n) {
    gif_source *src = gif->UserData;
    size_t avail = src->size - src->pos;
    size_t take = (size_t)n < avail ? (size_t)n : avail;
    memcpy(out, src->data + src->pos, take);
    src->pos += take;
    return (int)take;
}

static vlm_status gif_fail(int code) {
    const char *msg = GifErrorString(code);
    return vlm_error(VLM_ERR_FORMAT, "%s", msg ? msg : "corrupt GIF");
}

/* Skip one extension, remembering the transparent index of a graphic
 * control extension (-1 when none). */
static vlm_status read_extension(GifFileType *gif, int *transparent) {
    int code;
    GifByteType *block;
    if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) return gif_fail(gif->Error);
    if (code == GRAPHICS_EXT_FUNC_CODE && block && block[0] >= 4)
        *transparent = (block[1] & 1) ? block[4] : -1;
    while (block) {
        if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) return gif_fail(gif->Error);
    }
    return VLM_OK;
}

/* Row order of a frame: interlaced frames arrive in four passes. */
static int frame_row(int i, int height, int interlaced) {
    if (!interlaced) return i;
    static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
    for (int pass = 0; pass < 4; pass++) {
        int rows = start[pass] < height ? (height - start[pass] + step[pass] - 1) / step[pass] : 0;
        if (i < rows) return start[pass] + i * step[pass];
        i -= rows;
    }
    return -1;
}

/* Decode the frame's indices into an index canvas and map them to RGB. */
static vlm_status read_first_frame(GifFileType *gif, int transparent, vlm_image **out) {
    if (DGifGetImageDesc(gif) == GIF_ERROR) return gif_fail(gif->Error);
    const GifImageDesc *d = &gif->Image;
    vlm_status st = image_check_size(d->Width, d->Height, "GIF frame");
    if (st) return st;
    int width = gif->SWidth > d->Left + d->Width ? gif->SWidth : d->Left + d->Width;
    int height = gif->SHeight > d->Top + d->Height ? gif->SHeight : d->Top + d->Height;
    if ((st = image_new(width, height, out))) return st;
    uint8_t *canvas = vlm_malloc((size_t)width * height);
    if (!canvas) return VLM_ERR_OUT_OF_MEMORY;
    memset(canvas, transparent >= 0 ? transparent : 0, (size_t)width * height);
    for (int i = 0; i < d->Height && !st; i++) {
        int y = d->Top + frame_row(i, d->Height, d->Interlace);
        if (DGifGetLine(gif, canvas + (size_t)y * width + d->Left, d->Width) == GIF_ERROR)
            st = gif_fail(gif->Error);
    }
    const ColorMapObject *map = d->ColorMap ? d->ColorMap : gif->SColorMap;
    color_palette palette;
    color_palette_init(&palette, NULL, 0);
    if (map) {
        uint8_t triplets[256 * 3];
        int n = map->ColorCount < 256 ? map->ColorCount : 256;
        for (int i = 0; i < n; i++) {
            triplets[i * 3 + 0] = map->Colors[i].Red;
            triplets[i * 3 + 1] = map->Colors[i].Green;
            triplets[i * 3 + 2] = map->Colors[i].Blue;
        }
        color_palette_init(&palette, triplets, (size_t)n);
    }
    if (!st) color_palette_to_rgb((*out)->rgb, canvas, (size_t)width * height, &palette);
    free(canvas);
    return st;
}

static vlm_status gif_decode_records(GifFileType *gif, vlm_image **out) {
    int transparent = -1;
    for (;;) {
        GifRecordType type;
        if (DGifGetRecordType(gif, &type) == GIF_ERROR) return gif_fail(gif->Error);
        if (type == IMAGE_DESC_RECORD_TYPE) return read_first_frame(gif, transparent, out);
        if (type == TERMINATE_RECORD_TYPE) return vlm_error(VLM_ERR_FORMAT, "GIF has no image");
        if (type == EXTENSION_RECORD_TYPE) {
            vlm_status st = read_extension(gif, &transparent);
            if (st) return st;
        }
    }
}

vlm_status decode_gif(const uint8_t *data, size_t size, vlm_image **out, int *orientation) {
    gif_source src = {data, size, 0};
    int err = 0;
    GifFileType *gif = DGifOpen(&src, read_gif_bytes, &err);
    if (!gif) return gif_fail(err);
    vlm_image *img = NULL;
    vlm_status st = gif_decode_records(gif, &img);
    DGifCloseFile(gif, &err);
    if (st) {
        vlm_image_free(img);
        return st;
    }
    *orientation = 1;
    *out = img;
    return VLM_OK;
}
