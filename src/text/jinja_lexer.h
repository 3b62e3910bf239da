/*
 * jinja_lexer.h — splits template source into tokens the way Jinja2's lexer
 * does with trim_blocks and lstrip_blocks on (transformers' settings):
 * `-`/`+` whitespace control, comments, raw blocks, newline normalization
 * and the dropped final newline (keep_trailing_newline off).
 */
#ifndef VLM_TEXT_JINJA_LEXER_H
#define VLM_TEXT_JINJA_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "text/jinja_arena.h"

typedef enum jtok_type {
    JT_DATA,
    JT_VAR_BEGIN,
    JT_VAR_END,
    JT_BLOCK_BEGIN,
    JT_BLOCK_END,
    JT_NAME,
    JT_STRING,
    JT_INT,
    JT_FLOAT,
    JT_OP,
    JT_EOF
} jtok_type;

typedef struct jtoken {
    uint8_t type;    /* jtok_type */
    uint32_t pos;    /* byte offset in the normalized source */
    const char *s;   /* DATA text, NAME, decoded STRING, OP spelling */
    size_t len;
    int64_t i;       /* INT */
    double f;        /* FLOAT */
} jtoken;

typedef struct jsource {
    const char *name; /* for messages */
    char *text;       /* newline-normalized source (arena) */
    size_t len;
} jsource;

/* Normalize newlines of src into s->text. */
vlm_status jsource_init(jsource *s, jarena *a, const char *name, const char *src, size_t len);
/* 1-based line and column of a byte offset. */
void jsource_linecol(const jsource *s, size_t pos, int *line, int *col);
/* Record "name:line:col: TemplateSyntaxError: msg" and return VLM_ERR_TEMPLATE. */
vlm_status jsource_syntax_error(const jsource *s, size_t pos, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Tokenize the whole source; the last token is JT_EOF. */
vlm_status jlex(jarena *a, const jsource *src, jtoken **tokens, size_t *n_tokens);

#endif
