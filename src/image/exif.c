/*
 * exif.c — read the Orientation tag (0x0112) from an EXIF block, the only
 * EXIF field that changes pixels on mlx-vlm's path (ImageOps.exif_transpose).
 *
 * The block is a TIFF structure: byte order mark ("II" or "MM"), the magic
 * 42, the offset of IFD0, then 12-byte entries (tag, type, count, value).
 * Anything malformed means "no orientation", as in PIL.
 */
#include <string.h>

#include "image/image.h"

typedef struct tiff_reader {
    const uint8_t *p;
    size_t n;
    int big_endian;
} tiff_reader;

static uint32_t tiff_u16(const tiff_reader *t, size_t off) {
    const uint8_t *b = t->p + off;
    return t->big_endian ? (uint32_t)(b[0] << 8 | b[1]) : (uint32_t)(b[1] << 8 | b[0]);
}

static uint32_t tiff_u32(const tiff_reader *t, size_t off) {
    const uint8_t *b = t->p + off;
    return t->big_endian ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]
                         : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

enum { TIFF_SHORT = 3, TIFF_LONG = 4, TAG_ORIENTATION = 0x0112 };

int exif_orientation(const uint8_t *exif, size_t size) {
    if (!exif) return 1;
    if (size >= 6 && !memcmp(exif, "Exif\0\0", 6)) {
        exif += 6;
        size -= 6;
    }
    if (size < 8) return 1;
    tiff_reader t = {exif, size, 0};
    if (!memcmp(exif, "MM", 2)) t.big_endian = 1;
    else if (memcmp(exif, "II", 2)) return 1;
    if (tiff_u16(&t, 2) != 42) return 1;
    size_t ifd = tiff_u32(&t, 4);
    if (ifd > size || size - ifd < 2) return 1;
    size_t count = tiff_u16(&t, ifd);
    for (size_t i = 0; i < count; i++) {
        size_t e = ifd + 2 + i * 12;
        if (e > size || size - e < 12) return 1;
        if (tiff_u16(&t, e) != TAG_ORIENTATION) continue;
        uint32_t type = tiff_u16(&t, e + 2);
        uint32_t value = type == TIFF_SHORT ? tiff_u16(&t, e + 8)
                         : type == TIFF_LONG ? tiff_u32(&t, e + 8) : 1;
        return value >= 1 && value <= 8 ? (int)value : 1;
    }
    return 1;
}
