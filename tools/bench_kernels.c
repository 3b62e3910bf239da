/*
 * bench_kernels.c — `vlm bench kernels`: how close the linear kernels get
 * to this machine's limits.
 *
 * GEMV (decode) is memory-bound, so it is reported as GB/s of weight bytes
 * read and as a share of the read bandwidth measured by a STREAM-like read
 * loop in turn with its repetitions (both over buffers much larger than
 * the caches: the weights are replicated like the layers of a model).
 * GEMM (prefill, 512 rows) is reported in GFLOP/s. Each figure is the best of several
 * repetitions, for 1 thread and for the full thread count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "core/kernel_table.h"

enum { STREAM_BYTES = 256 << 20, MIN_GEMV_BYTES = 96 << 20, GEMM_ROWS = 512 };

typedef struct bench_opts {
    int threads; /* 0 = all cores */
    int reps;
} bench_opts;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint32_t next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 20);
}

/* ---- read bandwidth ------------------------------------------------------ */

/* Each item reads one chunk from each quarter of the buffer at once: four
 * streams per thread, as the GEMV reads four weight rows at once (a single
 * stream understates what a core can pull). */
enum { STREAMS = 4, STREAM_CHUNK = 1 << 14 /* floats */ };

typedef struct stream_ctx {
    const float *buf, *ones;
    int64_t quarter; /* floats per stream */
    float sink[256];
} stream_ctx;

static void stream_task(void *ctx, int64_t begin, int64_t end) {
    stream_ctx *s = ctx;
    const vlm_kernel_table *t = vlm_kernels_active();
    float dots[STREAMS], acc = 0;
    for (int64_t i = begin; i < end; i++) {
        t->attn_scores(s->ones, s->buf + i * STREAM_CHUNK, s->quarter, STREAMS, STREAM_CHUNK, 1.0f, dots);
        acc += dots[0] + dots[3];
    }
    s->sink[begin % 256] = acc; /* keep the reads alive */
}

/* Best-of-reps GB/s of reading a buffer far larger than the caches. */
static double read_bandwidth(const float *buf, const float *ones, int reps) {
    stream_ctx s = {buf, ones, (int64_t)(STREAM_BYTES / sizeof(float)) / STREAMS, {0}};
    int64_t items = s.quarter / STREAM_CHUNK;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        vlm_parallel_for(items, 1, stream_task, &s);
        double dt = now_seconds() - t0;
        best = dt < best ? dt : best;
    }
    return (double)STREAM_BYTES / best / 1e9;
}

/* ---- weights ------------------------------------------------------------- */

typedef struct bench_format {
    const char *name;
    vlm_dtype dtype;
    int bits;
} bench_format;

static const bench_format formats[] = {
    {"q4", VLM_DTYPE_U32, 4},
    {"q8", VLM_DTYPE_U32, 8},
    {"bf16", VLM_DTYPE_BF16, 0},
    {"f32", VLM_DTYPE_F32, 0},
};

typedef struct bench_weights {
    vlm_weight *copies;
    int n_copies;
    size_t bytes_each;
    void *block;
} bench_weights;

static size_t weight_bytes(const bench_format *f, int64_t rows, int64_t cols) {
    if (!f->bits) return (size_t)(rows * cols) * vlm_dtype_size(f->dtype);
    return (size_t)(rows * cols * f->bits / 8) + 2 * (size_t)(rows * cols / 64) * 2;
}

/* Enough random copies of one weight to overflow the caches. */
static int make_weights(const bench_format *f, int64_t rows, int64_t cols, bench_weights *bw) {
    size_t data = f->bits ? (size_t)(rows * cols * f->bits / 8) : weight_bytes(f, rows, cols);
    size_t groups = (size_t)(rows * cols / 64), each = data + 4 * groups;
    bw->bytes_each = weight_bytes(f, rows, cols);
    bw->n_copies = (int)((MIN_GEMV_BYTES + each - 1) / each);
    bw->block = malloc(each * (size_t)bw->n_copies);
    bw->copies = calloc((size_t)bw->n_copies, sizeof(vlm_weight));
    if (!bw->block || !bw->copies) return 0;
    uint64_t seed = 0x1234567ull;
    uint16_t *half = bw->block;
    for (size_t i = 0; i < each * (size_t)bw->n_copies / 2; i++) /* small finite values as any dtype */
        half[i] = f->dtype == VLM_DTYPE_F32 && i % 2 ? 0x3c00 : (uint16_t)(0x3c00 | (next_random(&seed) & 0x3ff));
    for (int c = 0; c < bw->n_copies; c++) {
        uint8_t *base = (uint8_t *)bw->block + (size_t)c * each;
        bw->copies[c] = (vlm_weight){.dtype = f->dtype, .rows = rows, .cols = cols, .data = base,
                                     .bits = f->bits, .group_size = 64, .scale_dtype = VLM_DTYPE_BF16,
                                     .scales = base + data, .biases = base + data + 2 * groups};
        if (vlm_weight_pack_quads(&bw->copies[c])) return 0; /* as a loaded model's are */
    }
    return vlm_weight_validate(&bw->copies[0]) == VLM_OK;
}

static void free_weights(bench_weights *bw) {
    for (int c = 0; bw->copies && c < bw->n_copies; c++) vlm_weight_free_quads(&bw->copies[c]);
    free(bw->block);
    free(bw->copies);
}

/* Best-of-reps GB/s of one GEMV per copy (a decode step over "layers"),
 * and in *read_gb_s the best of read passes over stream taken in turn with
 * those reps: the host's bandwidth drifts from minute to minute, so each
 * GEMV is set against the bandwidth of the same seconds. */
static double gemv_gb_s(const bench_weights *bw, const float *x, float *y, int reps, const float *stream,
                        const float *ones, double *read_gb_s) {
    double best = 1e30;
    *read_gb_s = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        for (int c = 0; c < bw->n_copies; c++) vlm_linear(y, x, 1, &bw->copies[c], NULL);
        double dt = now_seconds() - t0, read = read_bandwidth(stream, ones, 1);
        best = dt < best ? dt : best;
        *read_gb_s = read > *read_gb_s ? read : *read_gb_s;
    }
    return (double)bw->bytes_each * bw->n_copies / best / 1e9;
}

static double gemm_gflop_s(const vlm_weight *w, const float *x, float *y, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        vlm_linear(y, x, GEMM_ROWS, w, NULL);
        double dt = now_seconds() - t0;
        best = dt < best ? dt : best;
    }
    return 2.0 * GEMM_ROWS * (double)w->rows * (double)w->cols / best / 1e9;
}

/* ---- report -------------------------------------------------------------- */

static int parse_opts(int argc, char **argv, bench_opts *o) {
    *o = (bench_opts){0, 5};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) o->threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) o->reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            if (!vlm_kernels_select(argv[++i]))
                return cli_fail("bench", "kernel set '%s' is not available on this CPU", argv[i]);
        } else {
            int help = !strcmp(argv[i], "--help");
            fprintf(help ? stdout : stderr,
                    "usage: vlm bench kernels [--threads N] [--reps N] [--isa avx512|avx2|neon|scalar]\n");
            return help ? -1 : 2;
        }
    }
    if (o->reps < 1) o->reps = 1;
    return 0;
}

int bench_kernels_main(int argc, char **argv) {
    bench_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    vlm_set_num_threads(o.threads);
    int all = vlm_get_num_threads(), counts[2] = {1, all};
    float *stream = malloc(STREAM_BYTES), *ones = malloc(STREAM_CHUNK * sizeof(float));
    float *x = malloc(GEMM_ROWS * 8960 * sizeof(float)), *y = malloc(GEMM_ROWS * 8960 * sizeof(float));
    if (!stream || !ones || !x || !y) {
        free(stream), free(ones), free(x), free(y);
        return cli_fail("bench", "out of memory");
    }
    for (size_t i = 0; i < STREAM_BYTES / sizeof(float); i++) stream[i] = 1.0f;
    for (size_t i = 0; i < STREAM_CHUNK; i++) ones[i] = 1.0f;
    uint64_t seed = 99;
    for (size_t i = 0; i < GEMM_ROWS * 8960; i++) x[i] = (float)(next_random(&seed) % 2001) / 1000.0f - 1.0f;

    printf("vlm bench kernels: isa %s, threads 1 and %d, best of %d\n", vlm_kernels_isa(), all, o.reps);
    double bw[2];
    for (int t = 0; t < 2; t++) {
        vlm_set_num_threads(counts[t]);
        bw[t] = read_bandwidth(stream, ones, o.reps);
    }
    printf("read bandwidth (%d MiB, %d streams per thread): %.1f GB/s (1 thread), %.1f GB/s (%d threads)\n",
           STREAM_BYTES >> 20, STREAMS, bw[0], bw[1], all);
    printf("GEMV: GB/s of weights read (%% of the read bandwidth measured in turn with it, GB/s)\n\n");
    printf("%-5s %-11s | %-23s | %-23s | %s\n", "fmt", "out x in", "GEMV GB/s 1 thread", "GEMV GB/s all threads",
           "GEMM m=512 GFLOP/s 1 / all");
    static const int64_t shapes[][2] = {{1536, 8960}, {8960, 1536}};
    for (size_t f = 0; f < sizeof formats / sizeof *formats; f++)
        for (int s = 0; s < 2; s++) {
            bench_weights w = {0};
            if (!make_weights(&formats[f], shapes[s][0], shapes[s][1], &w)) {
                free_weights(&w);
                rc = cli_fail("bench", "cannot allocate %s weights", formats[f].name);
                break;
            }
            double gemv[2], gemm[2], read[2];
            for (int t = 0; t < 2; t++) {
                vlm_set_num_threads(counts[t]);
                gemv[t] = gemv_gb_s(&w, x, y, o.reps, stream, ones, &read[t]);
                gemm[t] = gemm_gflop_s(&w.copies[0], x, y, o.reps > 2 ? 2 : o.reps);
            }
            printf("%-5s %5lldx%-5lld | %6.1f (%5.1f%% of %4.1f) | %6.1f (%5.1f%% of %4.1f) | %7.1f / %7.1f\n",
                   formats[f].name, (long long)shapes[s][0], (long long)shapes[s][1], gemv[0],
                   100 * gemv[0] / read[0], read[0], gemv[1], 100 * gemv[1] / read[1], read[1], gemm[0], gemm[1]);
            fflush(stdout);
            free_weights(&w);
        }
    vlm_set_num_threads(o.threads);
    free(stream);
    free(ones);
    free(x);
    free(y);
    return rc;
}
