/* cmd_preprocess.c — `vlm preprocess` (placeholder until its issue lands). */
#include "commands.h"

int cmd_preprocess(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("preprocess", "not implemented yet");
}
