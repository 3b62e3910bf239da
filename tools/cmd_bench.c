/* cmd_bench.c — `vlm bench` (placeholder until its issue lands). */
#include "commands.h"

int cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("bench", "not implemented yet");
}
