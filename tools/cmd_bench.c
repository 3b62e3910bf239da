/*
 * cmd_bench.c — `vlm bench`: dispatches to the kernel benchmark
 * (`vlm bench kernels`, bench_kernels.c) or the model benchmark
 * (`vlm bench --model DIR`, `vlm bench --make-random ...`, bench_model.c).
 */
#include <string.h>

#include "bench_model.h"
#include "commands.h"

int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "kernels")) return bench_kernels_main(argc - 1, argv + 1);
    /* every other form (--model, --make-random, ...) is the model benchmark */
    return bench_model_main(argc, argv);
}
