/*
 * cmd_preprocess.c — `vlm preprocess`: run a model folder's image
 * processor on images and write the exact tensor the vision tower gets,
 * or (--decode-only) the decoded RGB image, as .npy; one JSON line with
 * the shape (and Qwen2-VL grids) goes to stdout.
 *
 *   vlm preprocess DIR --image PATH [--image PATH ...] --out FILE.npy
 *   vlm preprocess --decode-only --image PATH --out FILE.npy
 * --repeat N times the work N times and adds the best wall time and the
 * best CPU time in ms ("best_ms", "best_cpu_ms": decode + preprocess, one
 * thread) for benchmarks; CPU time is the steadier on a loaded machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "image/processor.h"
#include "io/npy.h"

#define MAX_IMAGES 64

typedef struct preprocess_args {
    const char *dir, *out;
    const char *images[MAX_IMAGES];
    int n_images, decode_only, repeat;
} preprocess_args;

static void usage(FILE *f) {
    fputs("usage: vlm preprocess DIR --image PATH [--image PATH ...] --out FILE.npy [--repeat N]\n"
          "       vlm preprocess --decode-only --image PATH --out FILE.npy\n"
          "DIR is a model folder or any folder with preprocessor_config.json.\n"
          "Images: file paths, http(s) URLs, data: URLs or base64.\n",
          f);
}

static int parse_args(int argc, char **argv, preprocess_args *a) {
    memset(a, 0, sizeof *a);
    a->repeat = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(arg, "--image") && has_value) {
            if (a->n_images == MAX_IMAGES) return cli_fail("preprocess", "at most %d images", MAX_IMAGES);
            a->images[a->n_images++] = argv[++i];
        } else if (!strcmp(arg, "--out") && has_value) {
            a->out = argv[++i];
        } else if (!strcmp(arg, "--repeat") && has_value) {
            a->repeat = atoi(argv[++i]);
            if (a->repeat < 1) return cli_fail("preprocess", "--repeat must be >= 1");
        } else if (!strcmp(arg, "--decode-only")) {
            a->decode_only = 1;
        } else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            exit(0);
        } else if (arg[0] != '-' && !a->dir) {
            a->dir = arg;
        } else {
            usage(stderr);
            return cli_fail("preprocess", "unexpected argument '%s'", arg);
        }
    }
    if (!a->n_images || !a->out || (!a->dir && !a->decode_only)) {
        usage(stderr);
        return cli_fail("preprocess", "need %s--image and --out", a->decode_only ? "" : "DIR, ");
    }
    if (a->decode_only && a->n_images != 1)
        return cli_fail("preprocess", "--decode-only takes exactly one --image");
    return 0;
}

typedef struct timing {
    double wall_ms, cpu_ms;
} timing;

static timing now(void) {
    struct timespec wall, cpu;
    clock_gettime(CLOCK_MONOTONIC, &wall);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    return (timing){wall.tv_sec * 1e3 + wall.tv_nsec / 1e6, cpu.tv_sec * 1e3 + cpu.tv_nsec / 1e6};
}

/* Keep the best (smallest) of each clock over the repeats. */
static void keep_best(timing *best, timing start) {
    timing end = now();
    if (end.wall_ms - start.wall_ms < best->wall_ms) best->wall_ms = end.wall_ms - start.wall_ms;
    if (end.cpu_ms - start.cpu_ms < best->cpu_ms) best->cpu_ms = end.cpu_ms - start.cpu_ms;
}

static void print_timing(const preprocess_args *a, timing best) {
    if (a->repeat > 1) printf(",\"best_ms\":%.3f,\"best_cpu_ms\":%.3f", best.wall_ms, best.cpu_ms);
    printf("}\n");
}

static int decode_only(const preprocess_args *a) {
    vlm_image *img = NULL;
    timing best = {1e300, 1e300};
    for (int r = 0; r < a->repeat; r++) {
        vlm_image_free(img);
        timing start = now();
        if (vlm_image_load(a->images[0], &img)) return cli_fail("preprocess", NULL);
        keep_best(&best, start);
    }
    int64_t shape[3] = {img->height, img->width, 3};
    vlm_status st = npy_save(a->out, "|u1", shape, 3, img->rgb);
    vlm_image_free(img);
    if (st) return cli_fail("preprocess", NULL);
    printf("{\"shape\":[%lld,%lld,3]", (long long)shape[0], (long long)shape[1]);
    print_timing(a, best);
    return 0;
}

static void print_shape(const model_images *im) {
    printf("{\"shape\":[");
    for (int d = 0; d < im->ndim; d++) printf("%s%lld", d ? "," : "", (long long)im->shape[d]);
    printf("]");
    if (im->grid_thw) {
        printf(",\"image_grid_thw\":[");
        for (int i = 0; i < im->n_images; i++)
            printf("%s[%lld,%lld,%lld]", i ? "," : "", (long long)im->grid_thw[i][0],
                   (long long)im->grid_thw[i][1], (long long)im->grid_thw[i][2]);
        printf("]");
    }
}

int cmd_preprocess(int argc, char **argv) {
    preprocess_args a;
    if (parse_args(argc, argv, &a)) return 1;
    if (a.decode_only) return decode_only(&a);
    image_processor *p;
    if (image_processor_load(a.dir, &p)) return cli_fail("preprocess", NULL);
    model_images im = {0};
    timing best = {1e300, 1e300};
    vlm_status st = VLM_OK;
    for (int r = 0; r < a.repeat && !st; r++) {
        model_images_free(&im);
        timing start = now();
        st = image_processor_run_sources(p, a.images, a.n_images, &im);
        keep_best(&best, start);
    }
    image_processor_free(p);
    if (!st) st = npy_save(a.out, "<f4", im.shape, im.ndim, im.pixel_values);
    if (st) {
        model_images_free(&im);
        return cli_fail("preprocess", NULL);
    }
    print_shape(&im);
    print_timing(&a, best);
    model_images_free(&im);
    return 0;
}
