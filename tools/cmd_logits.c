/* cmd_logits.c — `vlm logits` (placeholder until its issue lands). */
#include "commands.h"

int cmd_logits(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("logits", "not implemented yet");
}
