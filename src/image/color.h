/*
 * color.h — PIL's convert("RGB") rules for the pixel layouts decoders
 * produce, one row at a time. Alpha is always dropped, never composited.
 */
#ifndef VLM_IMAGE_COLOR_H
#define VLM_IMAGE_COLOR_H

#include <stddef.h>
#include <stdint.h>

/* A palette as PIL holds it: 256 RGB entries; entries a file does not
 * define keep PIL's initial gray ramp (i, i, i). */
typedef struct color_palette {
    uint8_t rgb[256][3];
} color_palette;

/* Gray ramp, then the first n (<= 256) entries from packed RGB triplets. */
void color_palette_init(color_palette *p, const uint8_t *rgb_triplets, size_t n);

/* L -> RGB: each gray value repeated in R, G and B. in and out may not overlap. */
void color_gray_to_rgb(uint8_t *out, const uint8_t *gray, size_t n, size_t in_stride);
/* P -> RGB: palette lookup of n 8-bit indices. */
void color_palette_to_rgb(uint8_t *out, const uint8_t *index, size_t n, const color_palette *p);
/* Inverted CMYK (Adobe polarity, PIL's "CMYK;I") -> RGB with Pillow's
 * cmyk2rgb arithmetic. */
void color_adobe_cmyk_to_rgb(uint8_t *out, const uint8_t *cmyk, size_t n);
/* RGBA/RGBX (any 4-byte layout with RGB first) -> RGB: drop the 4th byte. */
void color_rgba_to_rgb(uint8_t *out, const uint8_t *rgba, size_t n);

#endif
