/* cli_lines.c — line loop for the JSON-Lines subcommands (cli_lines.h). */
#include "cli_lines.h"

#include <stdlib.h>
#include <sys/types.h>

int cli_each_line(FILE *in, int (*fn)(void *ctx, const char *line, size_t len, size_t lineno), void *ctx) {
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while (!rc && (len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len > 0) rc = fn(ctx, line, (size_t)len, lineno);
    }
    free(line);
    return rc;
}
