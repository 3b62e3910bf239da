/*
 * pixels.c — the steps image processors share after resizing: 8-bit
 * samples to normalised floats (through a per-channel table, so each
 * family's exact float arithmetic is evaluated once per value), channel-
 * first layout, transformers' centre crop and LLaVA's pad to square.
 */
#include <string.h>

#include "core/error.h"
#include "image/image.h"
#include "image/processor.h"

void pixel_lut_build(const image_processor *p, pixel_lut *lut) {
    float factor = (float)p->rescale_factor;
    for (int c = 0; c < 3; c++) {
        for (int v = 0; v < 256; v++) {
            float x = (float)v;
            if (p->do_rescale) x = p->rescale_in_f64 ? (float)(v * p->rescale_factor) : x * factor;
            if (p->do_normalize) x = (x - p->mean[c]) / p->std[c];
            lut->value[c][v] = x;
        }
    }
}

void image_to_chw(const vlm_image *img, const pixel_lut *lut, float *out) {
    size_t plane = (size_t)img->width * img->height;
    float *r = out, *g = out + plane, *b = out + 2 * plane;
    const uint8_t *px = img->rgb;
    for (size_t i = 0; i < plane; i++, px += 3) {
        r[i] = lut->value[0][px[0]];
        g[i] = lut->value[1][px[1]];
        b[i] = lut->value[2][px[2]];
    }
}

/* Python's floor division by 2. */
static int floor_half(int v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

vlm_status image_center_crop(const vlm_image *in, int crop_h, int crop_w, vlm_image **out) {
    vlm_status st = image_new(crop_w, crop_h, out);
    if (st) return st;
    int top = floor_half(in->height - crop_h), left = floor_half(in->width - crop_w);
    for (int y = 0; y < crop_h; y++) {
        uint8_t *dst = (*out)->rgb + (size_t)y * crop_w * 3;
        int sy = y + top;
        memset(dst, 0, (size_t)crop_w * 3);
        if (sy < 0 || sy >= in->height) continue;
        int x0 = left < 0 ? -left : 0;
        int x1 = in->width - left < crop_w ? in->width - left : crop_w;
        if (x1 > x0)
            memcpy(dst + (size_t)x0 * 3, in->rgb + ((size_t)sy * in->width + x0 + left) * 3,
                   (size_t)(x1 - x0) * 3);
    }
    return VLM_OK;
}

vlm_status image_pad_to_square(const vlm_image *in, const uint8_t color[3], vlm_image **out) {
    int side = in->width > in->height ? in->width : in->height;
    vlm_status st = image_new(side, side, out);
    if (st) return st;
    uint8_t *px = (*out)->rgb;
    for (size_t i = 0; i < (size_t)side * side; i++) memcpy(px + i * 3, color, 3);
    int x0 = (side - in->width) / 2, y0 = (side - in->height) / 2;
    for (int y = 0; y < in->height; y++)
        memcpy(px + ((size_t)(y + y0) * side + x0) * 3, in->rgb + (size_t)y * in->width * 3,
               (size_t)in->width * 3);
    return VLM_OK;
}
