/*
 * bench_model.c — `vlm bench --model DIR [--threads N] [--json]`: what a
 * user of a model feels, measured on one checkpoint in one run:
 *
 *   load_s           vlm_model_load (mmap, tokenizer, template, binding)
 *   image_encode_ms  vision tower on a 448x448 image (1024 patches)
 *   prefill_tok_s    a 512-token text prompt, one prefill
 *   ttft_ms          that prefill plus picking the first token
 *   decode_tok_s     128 greedy tokens after the prefill (KV cache 512..640)
 *   peak_rss_mb      peak resident set size of the whole run
 *
 * plus the decode roofline: the language model's weight bytes read per
 * token (every decoder weight once, the tied embedding once as lm_head)
 * divided by the read bandwidth measured in the same run, with the same
 * thread count, by streaming those very weight bytes. `--make-random`
 * (bench_make_random.c) makes a checkpoint to run this on.
 */
#include <cjson/cJSON.h>
#include <png.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_model.h"
#include "commands.h"
#include "core/kernels.h"
#include "generate/memory_stats.h"
#include "io/safetensors.h"
#include "models/model.h"

#define PREFILL_TOKENS 512
#define DECODE_TOKENS 128
#define IMAGE_SIDE 448

typedef struct bench_result {
    double load_s, image_encode_ms, prefill_tok_s, decode_tok_s, ttft_ms, peak_rss_mb;
    int threads;
    double weights_mb, kv_cache_mb, decode_bytes_per_token_mb, read_gb_s, decode_roofline_pct;
} bench_result;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- inputs ------------------------------------------------------------- */

/* A smooth 448x448 RGB test card as a PNG file in /tmp; path in path_out. */
static int write_test_image(char *path_out, size_t cap) {
    snprintf(path_out, cap, "/tmp/vlm_bench_image_XXXXXX");
    int fd = mkstemp(path_out);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    png_structp png = f ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc(IMAGE_SIDE * 3);
    int ok = png && info && row && !setjmp(png_jmpbuf(png));
    if (ok) {
        png_init_io(png, f);
        png_set_IHDR(png, info, IMAGE_SIDE, IMAGE_SIDE, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (int y = 0; y < IMAGE_SIDE; y++) {
            for (int x = 0; x < IMAGE_SIDE; x++) {
                row[3 * x] = (uint8_t)(x * 255 / IMAGE_SIDE);
                row[3 * x + 1] = (uint8_t)(y * 255 / IMAGE_SIDE);
                row[3 * x + 2] = (uint8_t)((x ^ y) & 0xff);
            }
            png_write_row(png, row);
        }
        png_write_end(png, NULL);
    }
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    free(row);
    if (f) fclose(f);
    else if (fd >= 0) close(fd);
    return ok ? 0 : cli_fail("bench", "cannot write the test image %s", path_out);
}

static int config_token(const vlm_model *m, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m->config, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

static int32_t argmax(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return (int32_t)best;
}

/* ---- measurements ------------------------------------------------------- */

/* Vision tower time on one 448x448 image, through the normal prefill path. */
static int measure_image_encode(vlm_model *m, bench_result *r) {
    int start = config_token(m, "vision_start_token_id"), pad = config_token(m, "image_token_id"),
        end = config_token(m, "vision_end_token_id");
    if (start < 0 || pad < 0 || end < 0) return cli_fail("bench", "config.json lacks the vision token ids");
    char path[64];
    if (write_test_image(path, sizeof path)) return 1;
    const char *sources[] = {path};
    model_images images = {0};
    int32_t prompt[] = {start, pad, end}, *ids = NULL;
    int64_t n = 0;
    model_session *s = NULL;
    float *logits = malloc((size_t)m->vocab_size * sizeof *logits);
    vlm_status st = logits ? model_preprocess_images(m, sources, 1, &images) : VLM_ERR_OUT_OF_MEMORY;
    if (!st) st = m->arch->expand_image_tokens(m, prompt, 3, &images, &ids, &n);
    if (!st) st = m->arch->session_new(m, n + 1, &s);
    if (!st) st = m->arch->prefill(s, ids, n, &images, 0, logits, 0, &r->image_encode_ms);
    if (s) m->arch->session_free(s);
    model_images_free(&images);
    vlm_free(ids);
    free(logits);
    unlink(path);
    return st ? cli_fail("bench", "image encode: %s", vlm_last_error()) : 0;
}

/* 512-token prefill, first token, then 128 greedy decode steps. */
static int measure_text(vlm_model *m, bench_result *r) {
    int32_t prompt[PREFILL_TOKENS];
    for (int i = 0; i < PREFILL_TOKENS; i++) prompt[i] = (int32_t)((i * 7919 + 13) % 256);  /* byte tokens */
    model_images none = {0};
    model_session *s = NULL;
    float *logits = malloc((size_t)m->vocab_size * sizeof *logits);
    vlm_status st = logits ? m->arch->session_new(m, PREFILL_TOKENS + DECODE_TOKENS + 1, &s) : VLM_ERR_OUT_OF_MEMORY;
    double t0 = now_seconds();
    if (!st) st = m->arch->prefill(s, prompt, PREFILL_TOKENS, &none, 2048, logits, 0, NULL);
    double t1 = now_seconds();
    int32_t token = st ? 0 : argmax(logits, m->vocab_size);
    double t2 = now_seconds();
    for (int i = 0; i < DECODE_TOKENS && !st; i++) {
        st = m->arch->decode(s, token, logits);
        token = argmax(logits, m->vocab_size);
    }
    double t3 = now_seconds();
    if (s) m->arch->session_free(s);
    free(logits);
    if (st) return cli_fail("bench", "text: %s", vlm_last_error());
    r->prefill_tok_s = PREFILL_TOKENS / (t1 - t0);
    r->ttft_ms = (t2 - t0) * 1e3;
    r->decode_tok_s = DECODE_TOKENS / (t3 - t2);
    return 0;
}

static int is_language_weight(const st_tensor *t) { return !strncmp(t->name, "language_model.", 15); }

/* Bytes one decode step reads: all language-model tensors; the embedding
 * counts once (as the tied lm_head) and not at all when lm_head exists. */
static size_t decode_weight_bytes(const st_archive *a) {
    int tied = !st_find(a, "language_model.lm_head.weight");
    size_t bytes = 0;
    for (size_t i = 0; i < st_count(a); i++) {
        const st_tensor *t = st_at(a, i);
        if (!is_language_weight(t)) continue;
        if (!tied && strstr(t->name, "embed_tokens.")) continue;
        bytes += t->nbytes;
    }
    return bytes;
}

/* The read probe walks the language weights as 256 KiB segments, four
 * segments (far apart) per task item: four streams per thread, as the GEMV
 * reads several weight rows at once (one stream understates a core). */
enum { SEGMENT_BYTES = 256 * 1024, STREAMS = 4 };

typedef struct segment {
    const uint8_t *p;
    size_t n;
} segment;

typedef struct read_probe {
    segment *seg;
    int64_t n_seg, quarter;   /* item i < quarter reads seg i + k*quarter, k < 4 */
    _Atomic uint64_t sink;    /* keeps the reads alive */
} read_probe;

/* 16 bytes as two 8-byte words (a GCC/Clang vector: SSE2 or NEON loads;
 * data may be unaligned, so it is read with memcpy). */
typedef uint64_t words2 __attribute__((vector_size(16)));

static inline words2 load_words2(const uint8_t *p) {
    words2 v;
    memcpy(&v, p, 16);
    return v;
}

/* Sum the words of up to four segments in lockstep, 32 bytes per segment
 * and step: vector loads, so the probe measures the memory and not its own
 * loop (scalar 8-byte loads understated a core by a third). */
static uint64_t read_streams(const segment *const *s, int n) {
    words2 acc[STREAMS] = {{0}};
    size_t common = s[0]->n;
    for (int k = 1; k < n; k++) common = s[k]->n < common ? s[k]->n : common;
    for (size_t off = 0; off + 32 <= common; off += 32)
        for (int k = 0; k < n; k++) acc[k] += load_words2(s[k]->p + off) + load_words2(s[k]->p + off + 16);
    uint64_t sum = 0;
    for (int k = 0; k < n; k++) { /* the rest of each segment */
        sum ^= acc[k][0] + acc[k][1];
        for (size_t off = common / 32 * 32; off + 8 <= s[k]->n; off += 8) {
            uint64_t w;
            memcpy(&w, s[k]->p + off, 8);
            sum += w;
        }
    }
    return sum;
}

static void read_task(void *ctx, int64_t begin, int64_t end) {
    read_probe *p = ctx;
    uint64_t acc = 0;
    for (int64_t i = begin; i < end; i++) {
        const segment *s[STREAMS];
        int n = 0;
        if (i < p->quarter)
            for (int k = 0; k < STREAMS; k++) s[n++] = &p->seg[i + k * p->quarter];
        else
            s[n++] = &p->seg[i - p->quarter + STREAMS * p->quarter];  /* the leftovers, one stream */
        acc += read_streams(s, n);
    }
    atomic_fetch_add(&p->sink, acc);
}

/* Best of 5 passes over the language weights with the kernel thread pool. */
static double measure_read_bandwidth(const st_archive *a) {
    size_t n_seg = 0, bytes = 0;
    for (size_t i = 0; i < st_count(a); i++)
        if (is_language_weight(st_at(a, i))) n_seg += (st_at(a, i)->nbytes + SEGMENT_BYTES - 1) / SEGMENT_BYTES;
    read_probe probe = {malloc((n_seg ? n_seg : 1) * sizeof(segment)), 0, 0, 0};
    if (!probe.seg) return 0;
    for (size_t i = 0; i < st_count(a); i++) {
        const st_tensor *t = st_at(a, i);
        if (!is_language_weight(t)) continue;
        for (size_t off = 0; off < t->nbytes; off += SEGMENT_BYTES) {
            size_t n = t->nbytes - off < SEGMENT_BYTES ? t->nbytes - off : SEGMENT_BYTES;
            probe.seg[probe.n_seg++] = (segment){(const uint8_t *)t->data + off, n};
            bytes += n / 8 * 8;
        }
    }
    probe.quarter = probe.n_seg / STREAMS;
    int64_t items = probe.quarter + (probe.n_seg - STREAMS * probe.quarter);
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_seconds();
        vlm_parallel_for(items, 1, read_task, &probe);
        double dt = now_seconds() - t0;
        if (dt < best) best = dt;
    }
    free(probe.seg);
    return (double)bytes / best / 1e9;
}

static void add_memory_figures(const vlm_model *m, bench_result *r) {
    size_t total = 0;
    for (size_t i = 0; i < st_count(m->weights); i++) total += st_at(m->weights, i)->nbytes;
    r->weights_mb = (double)total / 1e6;
    int layers = config_token(m, "num_hidden_layers"), kv_heads = config_token(m, "num_key_value_heads"),
        heads = config_token(m, "num_attention_heads"), hidden = config_token(m, "hidden_size");
    if (layers > 0 && kv_heads > 0 && heads > 0 && hidden > 0)  /* f32 keys + values, 641 positions */
        r->kv_cache_mb = 2.0 * layers * kv_heads * (hidden / heads) * (PREFILL_TOKENS + DECODE_TOKENS + 1) * 4 / 1e6;
}

/* ---- report ------------------------------------------------------------- */

static void print_json(const bench_result *r) {
    printf("{\"load_s\": %.3f, \"image_encode_ms\": %.1f, \"prefill_tok_s\": %.2f, \"decode_tok_s\": %.2f, "
           "\"ttft_ms\": %.1f, \"peak_rss_mb\": %.1f, \"threads\": %d, \"weights_mb\": %.1f, "
           "\"kv_cache_mb\": %.1f, \"decode_bytes_per_token_mb\": %.1f, \"read_gb_s\": %.2f, "
           "\"decode_roofline_pct\": %.1f, \"rss_over_weights_kv\": %.3f}\n",
           r->load_s, r->image_encode_ms, r->prefill_tok_s, r->decode_tok_s, r->ttft_ms, r->peak_rss_mb, r->threads,
           r->weights_mb, r->kv_cache_mb, r->decode_bytes_per_token_mb, r->read_gb_s, r->decode_roofline_pct,
           r->peak_rss_mb / (r->weights_mb + r->kv_cache_mb));
}

static void print_table(const char *dir, const bench_result *r) {
    printf("model            %s\n", dir);
    printf("threads          %d\n", r->threads);
    printf("matmul           %s\n", vlm_fast_matmul() ? "fast (int8 activations in the language model's quantized matmuls)" : "precise (f32)");
    printf("load             %.3f s\n", r->load_s);
    printf("image encode     %.1f ms (448x448, 1024 patches)\n", r->image_encode_ms);
    printf("prefill          %.2f tok/s (%d tokens)\n", r->prefill_tok_s, PREFILL_TOKENS);
    printf("time to 1st tok  %.1f ms\n", r->ttft_ms);
    printf("decode           %.2f tok/s (%d tokens)\n", r->decode_tok_s, DECODE_TOKENS);
    printf("roofline         %.1f MB read per token at %.2f GB/s -> %.1f tok/s; decode = %.1f %%\n",
           r->decode_bytes_per_token_mb, r->read_gb_s, r->read_gb_s * 1e3 / r->decode_bytes_per_token_mb,
           r->decode_roofline_pct);
    printf("peak RSS         %.1f MB = %.3f x (weights %.1f MB + KV cache %.1f MB)\n", r->peak_rss_mb,
           r->peak_rss_mb / (r->weights_mb + r->kv_cache_mb), r->weights_mb, r->kv_cache_mb);
}

static int run_benchmark(const char *dir, int threads, int json) {
    if (threads > 0) vlm_set_num_threads(threads);
    bench_result r = {0};
    double t0 = now_seconds();
    vlm_load_options opts = {threads};
    vlm_model *m = NULL;
    if (vlm_model_load(dir, &opts, &m)) return cli_fail("bench", NULL);
    r.load_s = now_seconds() - t0;
    r.threads = vlm_get_num_threads();
    fprintf(stderr, "vlm bench: loaded in %.3f s; encoding a %dx%d image...\n", r.load_s, IMAGE_SIDE, IMAGE_SIDE);
    int rc = measure_image_encode(m, &r);
    if (!rc) fprintf(stderr, "vlm bench: prefill %d tokens, decode %d...\n", PREFILL_TOKENS, DECODE_TOKENS);
    if (!rc) rc = measure_text(m, &r);
    if (!rc) {
        r.peak_rss_mb = peak_rss_mb();  /* before the bandwidth probe touches anything else */
        add_memory_figures(m, &r);
        size_t bytes = decode_weight_bytes(m->weights);
        r.decode_bytes_per_token_mb = (double)bytes / 1e6;
        r.read_gb_s = measure_read_bandwidth(m->weights);
        r.decode_roofline_pct = 100.0 * r.decode_tok_s * r.decode_bytes_per_token_mb / (r.read_gb_s * 1e3);
        if (json) print_json(&r);
        else print_table(dir, &r);
    }
    vlm_model_free(m);
    return rc;
}

static int parse_count(const char *flag, const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > 4096) return cli_fail("bench", "%s expects a small integer, got '%s'", flag, s);
    *out = (int)v;
    return 0;
}

static void usage(FILE *out) {
    fputs("usage: vlm bench --model DIR [--threads N] [--json]\n"
          "       vlm bench --make-random qwen2-vl-2b --bits 4|8|16 [--skip-vision] --out DIR\n",
          out);
}

int bench_model_main(int argc, char **argv) {
    const char *model = NULL, *make = NULL, *out = NULL;
    int threads = 0, bits = 4, json = 0, quantize_vision = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "model") && i == 1) continue;  /* `vlm bench model --model ...` */
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return usage(stdout), 0;
        if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--skip-vision")) quantize_vision = 0;
        else if (!v) return cli_fail("bench", "%s needs a value (or is unknown)", a);
        else if (!strcmp(a, "--model")) model = argv[++i];
        else if (!strcmp(a, "--make-random")) make = argv[++i];
        else if (!strcmp(a, "--out")) out = argv[++i];
        else if (!strcmp(a, "--threads")) {
            if (parse_count(a, argv[++i], &threads)) return 1;
        } else if (!strcmp(a, "--bits")) {
            if (parse_count(a, argv[++i], &bits)) return 1;
        } else return cli_fail("bench", "unknown option '%s'", a);
    }
    if (make) return bench_make_random(make, bits, quantize_vision, out);
    if (model) return run_benchmark(model, threads, json);
    usage(stderr);
    return 2;
}
