/*
 * vlm.c — entry point of the `vlm` command-line tool: dispatches to the
 * subcommand named by argv[1].
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vlm.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"generate", cmd_generate, "generate text from a prompt and images"},
    {"inspect", cmd_inspect, "describe a model folder (config, tensors, quantization)"},
    {"tokenize", cmd_tokenize, "JSON strings on stdin -> id arrays"},
    {"detokenize", cmd_detokenize, "id arrays on stdin -> JSON strings"},
    {"template", cmd_template, "render a chat template"},
    {"preprocess", cmd_preprocess, "decode and preprocess images to .npy"},
    {"logits", cmd_logits, "prompt logits and greedy tokens (parity checks)"},
    {"bench", cmd_bench, "benchmarks: kernels, models"},
};

int cli_fail(const char *cmd, const char *fmt, ...) {
    fprintf(stderr, "vlm %s: ", cmd);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    } else {
        fputs(vlm_last_error(), stderr);
    }
    fputc('\n', stderr);
    return 1;
}

static void usage(FILE *out) {
    fprintf(out, "vlm %s — vision-language models in C\n\nusage: vlm <command> [options]\n\n",
            vlm_version());
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nRun `vlm <command> --help` for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vlm %s\n", vlm_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vlm: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
