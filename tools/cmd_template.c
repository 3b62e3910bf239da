/* cmd_template.c — `vlm template` (placeholder until its issue lands). */
#include "commands.h"

int cmd_template(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return cli_fail("template", "not implemented yet");
}
