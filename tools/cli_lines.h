/*
 * cli_lines.h — the stdin loop shared by `vlm tokenize` and
 * `vlm detokenize`: one JSON value per line in, one result per line out.
 */
#ifndef VLM_TOOLS_CLI_LINES_H
#define VLM_TOOLS_CLI_LINES_H

#include <stddef.h>
#include <stdio.h>

/* Calls fn for each non-empty line of in (newline stripped, 1-based
 * line number) until fn returns non-zero; returns that value or 0. */
int cli_each_line(FILE *in, int (*fn)(void *ctx, const char *line, size_t len, size_t lineno), void *ctx);

#endif
