/* cmd_generate.c — `vlm generate` (placeholder until its issue lands). */
#include "commands.h"

int cmd_generate(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("generate", "not implemented yet");
}
