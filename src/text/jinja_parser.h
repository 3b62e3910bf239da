/*
 * jinja_parser.h — builds the syntax tree (jinja_ast.h) from tokens with
 * Jinja2's grammar and operator precedence (jinja2/parser.py).
 */
#ifndef VLM_TEXT_JINJA_PARSER_H
#define VLM_TEXT_JINJA_PARSER_H

#include "text/jinja_ast.h"
#include "text/jinja_lexer.h"

/* Parse a whole template into its top-level statement list. Syntax errors
 * carry the line and column; nesting deeper than the parser allows is
 * VLM_ERR_LIMIT. */
vlm_status jparse(jarena *a, const jsource *src, const jtoken *tokens, size_t n_tokens, jnodes *body);

#endif
