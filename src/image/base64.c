/*
 * base64.c — decode base64 text, as images arrive inline in data: URLs
 * and JSON requests. Accepts the standard and URL-safe alphabets, skips
 * whitespace (line-wrapped base64), and treats '=' padding as the end.
 */
#include <stdlib.h>

#include "core/error.h"
#include "image/source.h"

/* 0..63 for alphabet characters, -1 for whitespace, -2 otherwise. */
static int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') return -1;
    return -2;
}

vlm_status base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    uint8_t *buf = vlm_malloc(len / 4 * 3 + 3);
    if (!buf) return VLM_ERR_OUT_OF_MEMORY;
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    size_t i = 0;
    for (; i < len && text[i] != '='; i++) {
        int v = base64_value((unsigned char)text[i]);
        if (v == -1) continue;
        if (v == -2) {
            free(buf);
            return vlm_error(VLM_ERR_FORMAT, "invalid base64 character 0x%02x at offset %zu",
                             (unsigned char)text[i], i);
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (uint8_t)(acc >> bits);
        }
    }
    if (bits >= 6) {   /* a lone trailing character carries no whole byte */
        free(buf);
        return vlm_error(VLM_ERR_FORMAT, "invalid base64: truncated final group");
    }
    *out = buf;
    *out_len = n;
    return VLM_OK;
}
