/*
 * resample.c — Pillow 9.4's Image.resize, reproduced operation for
 * operation so 8-bit results are bit-identical:
 *   - precompute_coeffs: filter support scaled by the downscale factor,
 *     taps centred at (i + 0.5) * scale, bounds rounded with (int)(v + 0.5),
 *     weights normalised to sum 1, then rounded to 22-bit fixed point;
 *   - horizontal pass first (only over the rows the vertical pass reads),
 *     each sum started at 0.5 in fixed point, shifted and clipped to 0..255;
 *   - NEAREST is PIL's affine scaling with an accumulated source position.
 * The portable passes here are the reference; resample_avx2.c computes the
 * same integers faster.
 */
#include "image/resample.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/kernels.h"
#include "image/image.h"

/* ---- PIL's filters -------------------------------------------------------- */

static double box_filter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

static double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double hamming_filter(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * M_PI;
    return sin(x) / x * (0.54f + 0.46f * cos(x));
}

static double bicubic_filter(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

static double lanczos_filter(double x) {
    return -3.0 <= x && x < 3.0 ? sinc_filter(x) * sinc_filter(x / 3) : 0.0;
}

typedef struct resample_kernel {
    const char *name;
    double (*fn)(double);
    double support;
} resample_kernel;

static const resample_kernel kernels[] = {
    [RESAMPLE_NEAREST] = {"NEAREST", NULL, 0},
    [RESAMPLE_LANCZOS] = {"LANCZOS", lanczos_filter, 3.0},
    [RESAMPLE_BILINEAR] = {"BILINEAR", bilinear_filter, 1.0},
    [RESAMPLE_BICUBIC] = {"BICUBIC", bicubic_filter, 2.0},
    [RESAMPLE_BOX] = {"BOX", box_filter, 0.5},
    [RESAMPLE_HAMMING] = {"HAMMING", hamming_filter, 1.0},
};

const char *resample_filter_name(int filter) {
    return filter >= 0 && filter <= RESAMPLE_HAMMING ? kernels[filter].name : NULL;
}

/* ---- coefficients --------------------------------------------------------- */

static void axis_free(resample_axis *ax) {
    free(ax->first);
    free(ax->count);
    free(ax->weight);
    free(ax->fixed);
    memset(ax, 0, sizeof *ax);
}

/* PIL's precompute_coeffs for the box [0, in_size) and, when fixed is
 * wanted, normalize_coeffs_8bpc. */
static vlm_status axis_build(int in_size, int out_size, const resample_kernel *k, int want_fixed,
                             resample_axis *ax) {
    memset(ax, 0, sizeof *ax);
    double scale = (double)(float)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = k->support * filterscale;
    ax->out_size = out_size;
    ax->ksize = (int)ceil(support) * 2 + 1;
    size_t taps = (size_t)out_size * ax->ksize;
    ax->first = vlm_malloc(sizeof(int) * out_size);
    ax->count = vlm_malloc(sizeof(int) * out_size);
    ax->weight = vlm_calloc(taps, sizeof(double));
    if (want_fixed) ax->fixed = vlm_malloc(taps * sizeof(int32_t));
    if (!ax->first || !ax->count || !ax->weight || (want_fixed && !ax->fixed)) {
        axis_free(ax);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < out_size; i++) {
        double center = (i + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double *w = ax->weight + (size_t)i * ax->ksize;
        for (int x = 0; x < xmax; x++) {
            w[x] = k->fn((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        for (int x = 0; x < xmax; x++)
            if (ww != 0.0) w[x] /= ww;
        ax->first[i] = xmin;
        ax->count[i] = xmax;
    }
    for (size_t t = 0; want_fixed && t < taps; t++) {
        double v = ax->weight[t] * (1 << RESAMPLE_PRECISION_BITS);
        ax->fixed[t] = (int32_t)(ax->weight[t] < 0 ? -0.5 + v : 0.5 + v);
    }
    return VLM_OK;
}

/* ---- 8-bit passes (portable reference) ------------------------------------ */

static inline uint8_t clip8(int32_t ss) {
    int32_t v = ss >> RESAMPLE_PRECISION_BITS;
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

static vlm_status horizontal_ref_begin(const resample_axis *ax, int in_w, void **ws) {
    (void)ax;
    (void)in_w;
    *ws = NULL;
    return VLM_OK;
}

static void horizontal_ref_rows(void *ws, const resample_axis *ax, uint8_t *out,
                                const uint8_t *const *rows, int n) {
    (void)ws;
    for (int y = 0; y < n; y++) {
        uint8_t *dst = out + (size_t)y * ax->out_size * 3;
        for (int i = 0; i < ax->out_size; i++) {
            const int32_t *k = ax->fixed + (size_t)i * ax->ksize;
            const uint8_t *p = rows[y] + (size_t)ax->first[i] * 3;
            int32_t s0 = 1 << (RESAMPLE_PRECISION_BITS - 1), s1 = s0, s2 = s0;
            for (int t = 0; t < ax->count[i]; t++, p += 3) {
                s0 += p[0] * k[t];
                s1 += p[1] * k[t];
                s2 += p[2] * k[t];
            }
            dst[i * 3 + 0] = clip8(s0);
            dst[i * 3 + 1] = clip8(s1);
            dst[i * 3 + 2] = clip8(s2);
        }
    }
}

static void horizontal_ref_end(void *ws) { (void)ws; }

static vlm_status vertical_ref_begin(const resample_axis *ax, void **ws) {
    (void)ax;
    *ws = NULL;
    return VLM_OK;
}

static void vertical_ref_row(void *ws, const resample_axis *ax, int i, uint8_t *out,
                             const uint8_t *const *rows, int row_bytes) {
    (void)ws;
    const int32_t *k = ax->fixed + (size_t)i * ax->ksize;
    for (int b = 0; b < row_bytes; b++) {
        int32_t ss = 1 << (RESAMPLE_PRECISION_BITS - 1);
        for (int t = 0; t < ax->count[i]; t++) ss += rows[t][b] * k[t];
        out[b] = clip8(ss);
    }
}

static void vertical_ref_end(void *ws) { (void)ws; }

/* One implementation of the two passes, each with a workspace kept across
 * calls: the horizontal pass runs on batches of source rows, the vertical
 * pass makes one output row from the rows of its window. */
typedef struct rgb_passes {
    vlm_status (*h_begin)(const resample_axis *ax, int in_w, void **ws);
    void (*h_rows)(void *ws, const resample_axis *ax, uint8_t *out, const uint8_t *const *rows, int n);
    void (*h_end)(void *ws);
    vlm_status (*v_begin)(const resample_axis *ax, void **ws);
    void (*v_row)(void *ws, const resample_axis *ax, int i, uint8_t *out, const uint8_t *const *rows,
                  int row_bytes);
    void (*v_end)(void *ws);
} rgb_passes;

static const rgb_passes passes_ref = {horizontal_ref_begin, horizontal_ref_rows, horizontal_ref_end,
                                      vertical_ref_begin,   vertical_ref_row,    vertical_ref_end};

static const rgb_passes *passes_best(void) {
#if defined(__x86_64__)
    static const rgb_passes passes_avx2 = {resample_h_avx2_begin, resample_h_avx2_rows,
                                           resample_h_avx2_end,   resample_v_avx2_begin,
                                           resample_v_avx2_row,   resample_v_avx2_end};
    if (vlm_cpu()->avx2 && strcmp(vlm_kernels_isa(), "scalar")) return &passes_avx2;
#endif
    return &passes_ref;
}

/* ---- streaming separable resize (ImagingResampleInner) ---------------------- */

/* PIL runs the horizontal pass over the source rows the vertical pass
 * reads, then the vertical pass; a pass whose size is unchanged is
 * skipped. Here both run as rows arrive: each batch of source rows goes
 * through the horizontal pass into a small ring, and every output row
 * whose window is complete is made at once. Neither the full-size source
 * nor the horizontally resampled image is ever held. */
enum { STREAM_BATCH = 8 };

struct resize_stream {
    const rgb_passes *hp, *vp;   /* the set running each pass */
    resample_axis hx, vy;
    void *h_ws, *v_ws;
    int in_w, in_h, out_w, out_h, need_h, need_v;
    int next_y;          /* source rows received */
    int next_out;        /* output rows made by the vertical pass */
    size_t row_bytes;    /* a source row after the horizontal pass */
    int ring_rows;       /* source row y lives in slot y % ring_rows */
    uint8_t *ring;
    const uint8_t **window;   /* the rows of one output's vertical taps */
    vlm_image *out;
};

void resize_stream_free(resize_stream *s) {
    if (!s) return;
    if (s->h_ws) s->hp->h_end(s->h_ws);
    if (s->v_ws) s->vp->v_end(s->v_ws);
    axis_free(&s->hx);
    axis_free(&s->vy);
    free(s->ring);
    free(s->window);
    vlm_image_free(s->out);
    free(s);
}

static vlm_status stream_new_with(int in_w, int in_h, int out_w, int out_h, resample_filter filter,
                                  const rgb_passes *p, resize_stream **out) {
    *out = NULL;
    if (!resample_filter_name(filter) || filter == RESAMPLE_NEAREST)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "no streaming resize for filter %d", (int)filter);
    resize_stream *s = vlm_calloc(1, sizeof *s);
    if (!s) return VLM_ERR_OUT_OF_MEMORY;
    *s = (resize_stream){.hp = p, .vp = p, .in_w = in_w, .in_h = in_h, .out_w = out_w, .out_h = out_h,
                         .need_h = out_w != in_w, .need_v = out_h != in_h};
    s->row_bytes = (size_t)(s->need_h ? out_w : in_w) * 3;
    const resample_kernel *k = &kernels[filter];
    vlm_status st = image_new(out_w, out_h, &s->out);
    if (!st) st = axis_build(in_w, out_w, k, 1, &s->hx);
    if (!st) st = axis_build(in_h, out_h, k, 1, &s->vy);
    /* a pass the fast set refuses for these coefficients runs portably */
    if (!st && s->need_h && (st = p->h_begin(&s->hx, in_w, &s->h_ws)) == VLM_ERR_UNSUPPORTED)
        st = (s->hp = &passes_ref)->h_begin(&s->hx, in_w, &s->h_ws);
    if (!st && s->need_v && (st = p->v_begin(&s->vy, &s->v_ws)) == VLM_ERR_UNSUPPORTED)
        st = (s->vp = &passes_ref)->v_begin(&s->vy, &s->v_ws);
    if (!st && s->need_v) {
        s->ring_rows = s->vy.ksize + STREAM_BATCH;
        s->ring = vlm_malloc(s->row_bytes * (size_t)s->ring_rows);
        s->window = vlm_malloc(sizeof *s->window * (size_t)s->vy.ksize);
        if (!s->ring || !s->window) st = VLM_ERR_OUT_OF_MEMORY;
    }
    if (st) {
        resize_stream_free(s);
        return st;
    }
    *out = s;
    return VLM_OK;
}

vlm_status resize_stream_new(int in_w, int in_h, int out_w, int out_h, resample_filter filter,
                             resize_stream **out) {
    return stream_new_with(in_w, in_h, out_w, out_h, filter, passes_best(), out);
}

/* Where the horizontal pass puts source row y: the output image itself
 * when there is no vertical pass, else its ring slot. */
static uint8_t *stream_row(const resize_stream *s, int y) {
    if (!s->need_v) return s->out->rgb + (size_t)y * s->row_bytes;
    return s->ring + (size_t)(y % s->ring_rows) * s->row_bytes;
}

/* Source rows [y, y + n) (n <= STREAM_BATCH, one ring stretch) through the
 * horizontal pass, or copied when the width is kept. */
static void stream_horizontal(resize_stream *s, int y, const uint8_t *const *rows, int n) {
    if (s->need_h) {
        s->hp->h_rows(s->h_ws, &s->hx, stream_row(s, y), rows, n);
        return;
    }
    for (int r = 0; r < n; r++) memcpy(stream_row(s, y + r), rows[r], s->row_bytes);
}

/* Every output row whose window of source rows has fully arrived. */
static void stream_vertical(resize_stream *s) {
    while (s->need_v && s->next_out < s->out_h) {
        int i = s->next_out, first = s->vy.first[i], n = s->vy.count[i];
        if (first + n > s->next_y) return;
        for (int t = 0; t < n; t++) s->window[t] = stream_row(s, first + t);
        s->vp->v_row(s->v_ws, &s->vy, i, s->out->rgb + (size_t)i * s->out_w * 3, s->window,
                    s->out_w * 3);
        s->next_out++;
    }
}

vlm_status resize_stream_push(resize_stream *s, const uint8_t *const *rows, int n) {
    if (n < 0 || n > s->in_h - s->next_y)
        return vlm_error(VLM_ERR_INTERNAL, "resize_stream: too many rows");
    while (n > 0) {
        int y = s->next_y, m = n < STREAM_BATCH ? n : STREAM_BATCH;
        if (s->need_v && y % s->ring_rows + m > s->ring_rows) m = s->ring_rows - y % s->ring_rows;
        stream_horizontal(s, y, rows, m);
        s->next_y += m;
        rows += m;
        n -= m;
        stream_vertical(s);
    }
    return VLM_OK;
}

vlm_status resize_stream_finish(resize_stream *s, vlm_image **out) {
    *out = NULL;
    if (s->next_y != s->in_h || (s->need_v && s->next_out != s->out_h))
        return vlm_error(VLM_ERR_INTERNAL, "resize_stream: rows missing");
    *out = s->out;
    s->out = NULL;
    return VLM_OK;
}

/* ---- nearest neighbour (PIL's ImagingScaleAffine) -------------------------- */

/* Source index of each output position: the position accumulates by
 * in/out per step, starting half a step in, as PIL does; -1 = outside. */
static void nearest_sources(int *src, int out_size, int in_size) {
    double step = (double)(float)in_size / out_size, pos = step * 0.5;
    for (int i = 0; i < out_size; i++, pos += step) {
        int v = pos < 0.0 ? -1 : (int)pos;
        src[i] = v < in_size ? v : -1;
    }
}

static vlm_status resize_nearest(const vlm_image *in, vlm_image *out) {
    int *sx = vlm_malloc(sizeof(int) * out->width), *sy = vlm_malloc(sizeof(int) * out->height);
    if (!sx || !sy) {
        free(sx);
        free(sy);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    nearest_sources(sx, out->width, in->width);
    nearest_sources(sy, out->height, in->height);
    for (int y = 0; y < out->height; y++) {
        uint8_t *dst = out->rgb + (size_t)y * out->width * 3;
        memset(dst, 0, (size_t)out->width * 3);
        if (sy[y] < 0) continue;
        const uint8_t *row = in->rgb + (size_t)sy[y] * in->width * 3;
        for (int x = 0; x < out->width; x++)
            if (sx[x] >= 0) memcpy(dst + x * 3, row + (size_t)sx[x] * 3, 3);
    }
    free(sx);
    free(sy);
    return VLM_OK;
}

/* ---- Image.resize ---------------------------------------------------------- */

/* The whole image through a resize stream in one push. */
static vlm_status resize_separable(const vlm_image *in, int width, int height,
                                   resample_filter filter, const rgb_passes *p, vlm_image **out) {
    resize_stream *s;
    vlm_status st = stream_new_with(in->width, in->height, width, height, filter, p, &s);
    if (st) return st;
    const uint8_t **rows = vlm_malloc(sizeof *rows * in->height);
    if (!rows) st = VLM_ERR_OUT_OF_MEMORY;
    for (int y = 0; !st && y < in->height; y++) rows[y] = in->rgb + (size_t)y * in->width * 3;
    if (!st) st = resize_stream_push(s, rows, in->height);
    if (!st) st = resize_stream_finish(s, out);
    free(rows);
    resize_stream_free(s);
    return st;
}

static vlm_status resize_with(const vlm_image *in, int width, int height, resample_filter filter,
                              const rgb_passes *p, vlm_image **out) {
    *out = NULL;
    if (!resample_filter_name(filter))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "unknown resample filter %d", (int)filter);
    if (width <= 0 || height <= 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "resize to invalid size %dx%d", width, height);
    if (filter != RESAMPLE_NEAREST && (width != in->width || height != in->height))
        return resize_separable(in, width, height, filter, p, out);
    vlm_status st = image_new(width, height, out);
    if (st) return st;
    if (width == in->width && height == in->height)
        memcpy((*out)->rgb, in->rgb, (size_t)width * height * 3);
    else if ((st = resize_nearest(in, *out))) {
        vlm_image_free(*out);
        *out = NULL;
    }
    return st;
}

vlm_status image_resize(const vlm_image *in, int width, int height, resample_filter filter,
                        vlm_image **out) {
    return resize_with(in, width, height, filter, passes_best(), out);
}

vlm_status image_resize_ref(const vlm_image *in, int width, int height, resample_filter filter,
                            vlm_image **out) {
    return resize_with(in, width, height, filter, &passes_ref, out);
}

/* ---- mode "F" (float planes) ----------------------------------------------- */

/* One pass over n_lines lines (rows or columns, by the strides given). */
static void resample_f32_axis(float *out, const float *in, int n_lines, ptrdiff_t in_step,
                              ptrdiff_t in_line, ptrdiff_t out_step, ptrdiff_t out_line,
                              const resample_axis *ax) {
    for (int l = 0; l < n_lines; l++) {
        for (int i = 0; i < ax->out_size; i++) {
            const double *k = ax->weight + (size_t)i * ax->ksize;
            const float *p = in + l * in_line + ax->first[i] * in_step;
            double ss = 0.0;
            for (int t = 0; t < ax->count[i]; t++) ss += p[t * in_step] * k[t];
            out[l * out_line + i * out_step] = (float)ss;
        }
    }
}

vlm_status resample_plane_f32(const float *in, int in_w, int in_h, float *out, int out_w,
                              int out_h, resample_filter filter) {
    if (!resample_filter_name(filter))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "unknown resample filter %d", (int)filter);
    if (in_w <= 0 || in_h <= 0 || out_w <= 0 || out_h <= 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "resize %dx%d -> %dx%d: invalid size", in_w,
                         in_h, out_w, out_h);
    if (in_w == out_w && in_h == out_h) {
        memcpy(out, in, sizeof(float) * in_w * in_h);
        return VLM_OK;
    }
    if (filter == RESAMPLE_NEAREST) {
        int *sx = vlm_malloc(sizeof(int) * out_w), *sy = vlm_malloc(sizeof(int) * out_h);
        if (!sx || !sy) {
            free(sx);
            free(sy);
            return VLM_ERR_OUT_OF_MEMORY;
        }
        nearest_sources(sx, out_w, in_w);
        nearest_sources(sy, out_h, in_h);
        for (int y = 0; y < out_h; y++)
            for (int x = 0; x < out_w; x++)
                out[(size_t)y * out_w + x] =
                    sx[x] < 0 || sy[y] < 0 ? 0.0f : in[(size_t)sy[y] * in_w + sx[x]];
        free(sx);
        free(sy);
        return VLM_OK;
    }
    const resample_kernel *k = &kernels[filter];
    resample_axis hx, vy;
    vlm_status st = axis_build(in_w, out_w, k, 0, &hx);
    if (st) return st;
    if ((st = axis_build(in_h, out_h, k, 0, &vy))) {
        axis_free(&hx);
        return st;
    }
    float *temp = vlm_malloc(sizeof(float) * out_w * in_h);
    if (!temp) st = VLM_ERR_OUT_OF_MEMORY;
    if (!st) {
        /* Like PIL, a pass whose size is unchanged is skipped. */
        if (out_w != in_w) resample_f32_axis(temp, in, in_h, 1, in_w, 1, out_w, &hx);
        else memcpy(temp, in, sizeof(float) * in_w * in_h);
        if (out_h != in_h) resample_f32_axis(out, temp, out_w, out_w, 1, out_w, 1, &vy);
        else memcpy(out, temp, sizeof(float) * out_w * out_h);
    }
    free(temp);
    axis_free(&hx);
    axis_free(&vy);
    return st;
}
