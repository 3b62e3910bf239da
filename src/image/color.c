/*
 * color.c — PIL's convert("RGB") arithmetic (libImaging/Convert.c) for the
 * source layouts our decoders produce.
 */
#include "image/color.h"

#include <string.h>

void color_palette_init(color_palette *p, const uint8_t *rgb_triplets, size_t n) {
    for (int i = 0; i < 256; i++) p->rgb[i][0] = p->rgb[i][1] = p->rgb[i][2] = (uint8_t)i;
    if (n > 256) n = 256;
    if (rgb_triplets) memcpy(p->rgb, rgb_triplets, n * 3);
}

void color_gray_to_rgb(uint8_t *out, const uint8_t *gray, size_t n, size_t in_stride) {
    for (size_t i = 0; i < n; i++, gray += in_stride, out += 3) out[0] = out[1] = out[2] = *gray;
}

void color_palette_to_rgb(uint8_t *out, const uint8_t *index, size_t n, const color_palette *p) {
    for (size_t i = 0; i < n; i++, out += 3) memcpy(out, p->rgb[index[i]], 3);
}

/* Pillow's MULDIV255: a * b / 255 rounded, in integers. */
static inline int muldiv255(int a, int b) {
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

static inline uint8_t clip8(int v) { return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v; }

void color_adobe_cmyk_to_rgb(uint8_t *out, const uint8_t *cmyk, size_t n) {
    for (size_t i = 0; i < n; i++, cmyk += 4, out += 3) {
        /* "CMYK;I" unpacking inverts every sample, then cmyk2rgb. */
        int c = 255 - cmyk[0], m = 255 - cmyk[1], y = 255 - cmyk[2], k = 255 - cmyk[3];
        int nk = 255 - k;
        out[0] = clip8(nk - muldiv255(c, nk));
        out[1] = clip8(nk - muldiv255(m, nk));
        out[2] = clip8(nk - muldiv255(y, nk));
    }
}

void color_rgba_to_rgb(uint8_t *out, const uint8_t *rgba, size_t n) {
    for (size_t i = 0; i < n; i++, rgba += 4, out += 3) memcpy(out, rgba, 3);
}
