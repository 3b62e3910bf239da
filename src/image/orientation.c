/*
 * orientation.c — ImageOps.exif_transpose: turn a decoded image upright
 * according to its EXIF orientation (1..8).
 *
 * Each orientation is one PIL transpose (FLIP_LEFT_RIGHT, ROTATE_180,
 * FLIP_TOP_BOTTOM, TRANSPOSE, ROTATE_270, TRANSVERSE, ROTATE_90), written
 * here as: output pixel (x, y) reads input column u and row v, where
 * (u, v) = swap ? (y, x) : (x, y), then mirrored on the axes flagged.
 */
#include <stdlib.h>

#include "core/error.h"
#include "image/image.h"

typedef struct orientation_map {
    int swap_axes, mirror_u, mirror_v;
} orientation_map;

static const orientation_map orientation_maps[9] = {
    [2] = {0, 1, 0}, /* FLIP_LEFT_RIGHT */
    [3] = {0, 1, 1}, /* ROTATE_180      */
    [4] = {0, 0, 1}, /* FLIP_TOP_BOTTOM */
    [5] = {1, 0, 0}, /* TRANSPOSE       */
    [6] = {1, 0, 1}, /* ROTATE_270      */
    [7] = {1, 1, 1}, /* TRANSVERSE      */
    [8] = {1, 1, 0}, /* ROTATE_90       */
};

vlm_status image_apply_orientation(vlm_image **img, int orientation) {
    if (orientation < 2 || orientation > 8) return VLM_OK;
    const orientation_map *m = &orientation_maps[orientation];
    const vlm_image *in = *img;
    int out_w = m->swap_axes ? in->height : in->width;
    int out_h = m->swap_axes ? in->width : in->height;
    vlm_image *out;
    vlm_status st = image_new(out_w, out_h, &out);
    if (st) return st;
    for (int y = 0; y < out_h; y++) {
        uint8_t *dst = out->rgb + (size_t)y * out_w * 3;
        for (int x = 0; x < out_w; x++, dst += 3) {
            int u = m->swap_axes ? y : x, v = m->swap_axes ? x : y;
            if (m->mirror_u) u = in->width - 1 - u;
            if (m->mirror_v) v = in->height - 1 - v;
            const uint8_t *src = in->rgb + ((size_t)v * in->width + u) * 3;
            dst[0] = src[0], dst[1] = src[1], dst[2] = src[2];
        }
    }
    vlm_image_free(*img);
    *img = out;
    return VLM_OK;
}
