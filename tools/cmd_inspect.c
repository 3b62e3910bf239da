/* cmd_inspect.c — `vlm inspect` (placeholder until its issue lands). */
#include "commands.h"

int cmd_inspect(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("inspect", "not implemented yet");
}
