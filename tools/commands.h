/*
 * commands.h — the vlm CLI's subcommands, one file each (tools/cmd_*.c).
 * Each returns the process exit code; diagnostics go to stderr and only
 * the command's real output goes to stdout.
 */
#ifndef VLM_TOOLS_COMMANDS_H
#define VLM_TOOLS_COMMANDS_H

int cmd_inspect(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_preprocess(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int bench_kernels_main(int argc, char **argv); /* `vlm bench kernels` */

/* Print "vlm <cmd>: <message>" to stderr, with vlm_last_error() when
 * message is NULL; returns 1 so callers can `return cli_fail(...)`. */
int cli_fail(const char *cmd, const char *fmt, ...);

#endif
