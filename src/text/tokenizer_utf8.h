/*
 * tokenizer_utf8.h — UTF-8 primitives the tokenizer needs: validation,
 * lossy repair (invalid bytes -> U+FFFD, as Rust's String::from_utf8_lossy
 * and WHATWG decoders do), code point iteration, and GPT-2's byte-level
 * alphabet (each byte <-> one printable code point).
 */
#ifndef VLM_TEXT_TOKENIZER_UTF8_H
#define VLM_TEXT_TOKENIZER_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Write cp as UTF-8 into buf (>= 4 bytes); returns the byte count. */
size_t utf8_encode(uint32_t cp, char *buf);
bool utf8_is_valid(const char *s, size_t len);
/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if the
 * bytes there are not a complete valid sequence. */
size_t utf8_valid_prefix_char(const unsigned char *s, size_t n);
/* Decode the character at s[*i] of valid UTF-8 and advance *i. */
uint32_t utf8_next(const char *s, size_t *i);
/* Byte length of the character starting with lead byte b (valid UTF-8). */
static inline size_t utf8_len(unsigned char b) {
    return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}
/* Copy s into out (capacity >= 3 * len) replacing each maximal invalid
 * subpart with U+FFFD; returns the output length. */
size_t utf8_repair(const char *s, size_t len, char *out);

/* Unicode White_Space (Rust char::is_whitespace, regex \s). */
bool unicode_is_white_space(uint32_t cp);

/* The byte-level alphabet: code point that stands for byte b. */
uint32_t byte_level_char(uint8_t b);
/* Byte a byte-level code point stands for, or -1 when cp is none. */
int byte_level_byte(uint32_t cp);

#endif
