/* cmd_detokenize.c — `vlm detokenize` (placeholder until its issue lands). */
#include "commands.h"

int cmd_detokenize(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("detokenize", "not implemented yet");
}
