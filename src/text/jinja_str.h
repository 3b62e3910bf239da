/*
 * jinja_str.h — text building and Python str semantics on UTF-8.
 *
 * jsb is the growable output buffer every render writes into (it enforces
 * the output-size limit). The helpers below give the Python meaning of
 * str operations (whitespace, case mapping, indexing by code point) that
 * filters and methods share.
 */
#ifndef VLM_TEXT_JINJA_STR_H
#define VLM_TEXT_JINJA_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "text/jinja_value.h"

typedef struct jsb {
    jarena *arena;
    char *p;
    size_t len, cap;
    size_t limit; /* 0 = none; exceeding it fails the arena with VLM_ERR_LIMIT */
} jsb;

void jsb_init(jsb *b, jarena *a, size_t limit);
void jsb_put(jsb *b, const char *s, size_t n);
static inline void jsb_puts(jsb *b, const char *s) { jsb_put(b, s, strlen(s)); }
void jsb_putc(jsb *b, char c);
void jsb_printf(jsb *b, const char *fmt, ...) VLM_PRINTF(2, 3);
/* Append one code point as UTF-8. */
void jsb_put_cp(jsb *b, uint32_t cp);
/* The buffer as a string value (shares the bytes). */
jv jsb_value(const jsb *b);

/* Decode the code point at s[*i] and advance *i (invalid bytes decode as
 * themselves, one byte each). */
uint32_t jutf8_next(const char *s, size_t n, size_t *i);
size_t jutf8_count(const char *s, size_t n);
/* Byte offset of code point index cp (clamped to n). */
size_t jutf8_offset(const char *s, size_t n, size_t cp);

/* Python str.isspace() for one code point. */
bool jpy_isspace(uint32_t cp);
/* Python str.strip/lstrip/rstrip: chars NULL = whitespace. */
jv jpy_strip(jv s, const jv *chars, bool left, bool right);
/* Case mapping of a whole string: 'u'pper, 'l'ower, 't'itle, 'c'apitalize. */
jv jpy_case(jarena *a, jv s, char how);

#endif
