/*
 * bench_model.h — the model benchmark behind `vlm bench --model DIR` and
 * the random-weight checkpoint maker behind `vlm bench --make-random`.
 */
#ifndef VLM_TOOLS_BENCH_MODEL_H
#define VLM_TOOLS_BENCH_MODEL_H

/* `vlm bench [model] --model DIR ...` or `vlm bench --make-random ...`;
 * argv[0] is the command name. Returns the exit code. */
int bench_model_main(int argc, char **argv);

/* Write a random-weight checkpoint of a named architecture (e.g.
 * "qwen2-vl-2b") with bits 4 or 8 (MLX affine, group 64) or 16 (bf16) into
 * out_dir, in the layout mlx-community ships; quantize_vision = 0 keeps
 * the vision tower bf16. Returns the exit code. */
int bench_make_random(const char *arch, int bits, int quantize_vision, const char *out_dir);

#endif
