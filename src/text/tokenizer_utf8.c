/*
 * tokenizer_utf8.c — UTF-8 validation/repair/iteration and the GPT-2
 * byte-level alphabet (see tokenizer_utf8.h).
 */
#include "text/tokenizer_utf8.h"

#include <string.h>

size_t utf8_encode(uint32_t cp, char *buf) {
    unsigned char *b = (unsigned char *)buf;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | cp >> 18);
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Bounds of the second byte for a lead byte (Unicode Table 3-7). */
static bool second_byte_ok(unsigned char lead, unsigned char b) {
    switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
    }
}

static size_t expected_len(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;
}

/* Length of the valid prefix of the sequence starting at s: the full
 * length when complete and valid, else the number of bytes forming a
 * maximal (incomplete or broken) subpart, as a negative-free count via
 * *complete. */
static size_t scan_char(const unsigned char *s, size_t n, bool *complete) {
    size_t need = expected_len(s[0]);
    *complete = false;
    if (need == 0) return 1;
    if (need == 1) {
        *complete = true;
        return 1;
    }
    size_t i = 1;
    for (; i < need; i++) {
        if (i >= n) return i;
        bool ok = i == 1 ? second_byte_ok(s[0], s[1]) : (s[i] >= 0x80 && s[i] <= 0xBF);
        if (!ok) return i;
    }
    *complete = true;
    return need;
}

size_t utf8_valid_prefix_char(const unsigned char *s, size_t n) {
    bool complete;
    size_t k = scan_char(s, n, &complete);
    return complete ? k : 0;
}

/* One pass with the sequence rules inline (Unicode Table 3-7): token
 * loading validates millions of short strings. */
bool utf8_is_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        uint64_t word;
        if (end - p >= 8 && (memcpy(&word, p, 8), !(word & 0x8080808080808080ULL))) { /* 8 ASCII bytes */
            p += 8;
            continue;
        }
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need = expected_len((unsigned char)c);
        if (need == 0 || (size_t)(end - p) < need || !second_byte_ok((unsigned char)c, p[1])) return false;
        if (need >= 3 && (p[2] & 0xC0) != 0x80) return false;
        if (need == 4 && (p[3] & 0xC0) != 0x80) return false;
        p += need;
    }
    return true;
}

uint32_t utf8_next(const char *s, size_t *i) {
    const unsigned char *p = (const unsigned char *)s + *i;
    uint32_t cp;
    size_t n = utf8_len(p[0]);
    switch (n) {
    case 1: cp = p[0]; break;
    case 2: cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F); break;
    case 3: cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F); break;
    default:
        cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
             (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    }
    *i += n;
    return cp;
}

size_t utf8_repair(const char *s, size_t len, char *out) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    char *w = out;
    while (p < end) {
        if (*p < 0x80) {
            *w++ = (char)*p++;
            continue;
        }
        bool complete;
        size_t k = scan_char(p, (size_t)(end - p), &complete);
        if (complete) {
            memcpy(w, p, k);
            w += k;
        } else {
            w += utf8_encode(0xFFFD, w);
        }
        p += k;
    }
    return (size_t)(w - out);
}

/* GPT-2 bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
 * the other 68 bytes map to U+0100.. in byte order. */
static bool byte_is_printable(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t byte_level_char(uint8_t b) {
    if (byte_is_printable(b)) return b;
    if (b <= 32) return 256u + b;            /* bytes 0..32    -> U+0100..U+0120 */
    if (b >= 127 && b <= 160) return 289u + (b - 127u); /* 127..160 -> U+0121..U+0142 */
    return 323;                              /* 173 (soft hyphen) -> U+0143 */
}

int byte_level_byte(uint32_t cp) {
    if (cp < 256) return byte_is_printable((int)cp) ? (int)cp : -1;
    if (cp <= 288) return (int)(cp - 256);
    if (cp <= 322) return (int)(cp - 289 + 127);
    if (cp == 323) return 173;
    return -1;
}

bool unicode_is_white_space(uint32_t cp) {
    return (cp >= 9 && cp <= 13) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}
