/*
 * mrope.c — Qwen-VL rotary positions: get_rope_index, the multimodal
 * rotary table of the language model and the 2-D table of the vision tower.
 * See mrope.h for what each computes and why.
 */
#include "models/mrope.h"

#include <math.h>

#include "core/error.h"

/* Count <|vision_start|><|image_pad|> pairs: the images the prompt names. */
static int count_image_groups(const mrope_tokens *tk, const int32_t *ids, int64_t n) {
    int groups = 0;
    for (int64_t i = 0; i + 1 < n; i++)
        if (ids[i] == tk->vision_start_token && ids[i + 1] == tk->image_token) groups++;
    return groups;
}

static int64_t find_token(const int32_t *ids, int64_t n, int64_t from, int32_t token) {
    for (int64_t i = from; i < n; i++)
        if (ids[i] == token) return i;
    return -1;
}

/* Text tokens [from, from+len) advance all three axes together. */
static void text_positions(int64_t *pos, int64_t n, int64_t from, int64_t len, int64_t start) {
    for (int64_t i = 0; i < len; i++)
        for (int a = 0; a < 3; a++) pos[a * n + from + i] = start + i;
}

vlm_status mrope_position_ids(const mrope_tokens *tk, const int32_t *ids, int64_t n,
                              const int64_t (*grids)[3], int n_images, int64_t *pos,
                              int64_t *rope_delta) {
    int groups = count_image_groups(tk, ids, n);
    if (groups != n_images)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                         "the prompt has %d image placeholder(s) but %d image(s) were given",
                         groups, n_images);
    int64_t m = tk->spatial_merge_size, st = 0, next = 0; /* next: first free position */
    for (int img = 0; img < n_images; img++) {
        int64_t ed = find_token(ids, n, st, tk->image_token);
        int64_t gt = grids[img][0], gh = grids[img][1] / m, gw = grids[img][2] / m;
        int64_t count = gt * gh * gw;
        if (ed < 0 || ed + count > n)
            return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                             "image %d needs %lld image tokens but the prompt ends first", img,
                             (long long)count);
        for (int64_t i = 0; i < count; i++)
            if (ids[ed + i] != tk->image_token)
                return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                                 "image %d needs %lld consecutive image tokens, found %lld", img,
                                 (long long)count, (long long)i);
        text_positions(pos, n, st, ed - st, next);
        int64_t base = next + (ed - st), max_pos = base;
        for (int64_t t = 0; t < gt; t++)
            for (int64_t h = 0; h < gh; h++)
                for (int64_t w = 0; w < gw; w++) {
                    int64_t i = ed + (t * gh + h) * gw + w;
                    pos[0 * n + i] = base + t;
                    pos[1 * n + i] = base + h;
                    pos[2 * n + i] = base + w;
                    int64_t hi = base + (t > h ? (t > w ? t : w) : (h > w ? h : w));
                    if (hi > max_pos) max_pos = hi;
                }
        next = max_pos + 1;
        st = ed + count;
    }
    text_positions(pos, n, st, n - st, next);
    if (n > st) next += n - st;
    *rope_delta = next - n;
    return VLM_OK;
}

/* inv_freq[j] = theta^(-2j/dim), rounded to f32 as MLX computes it. */
static float inv_freq(int j, int dim, double theta) {
    return (float)(1.0 / pow(theta, (double)(float)(2.0 * j / dim)));
}

void mrope_cos_sin(const int64_t *pos, int64_t stride, int64_t n, const int section[3],
                   int head_dim, double theta, float *cos_out, float *sin_out) {
    int half = head_dim / 2;
    for (int j = 0; j < half; j++) {
        int axis = j < section[0] ? 0 : j < section[0] + section[1] ? 1 : 2;
        float f = inv_freq(j, head_dim, theta);
        for (int64_t r = 0; r < n; r++) {
            float angle = (float)pos[axis * stride + r] * f;
            cos_out[r * half + j] = cosf(angle);
            sin_out[r * half + j] = sinf(angle);
        }
    }
}

int64_t vision_patch_count(const int64_t (*grids)[3], int n_images) {
    int64_t total = 0;
    for (int i = 0; i < n_images; i++) total += grids[i][0] * grids[i][1] * grids[i][2];
    return total;
}

/* One patch at (row, col): row frequencies then column frequencies. */
static void vision_patch_angles(int64_t row, int64_t col, int quarter, float *cos_out,
                                float *sin_out) {
    for (int k = 0; k < quarter; k++) {
        float f = inv_freq(k, 2 * quarter, 10000.0);
        float ah = (float)row * f, aw = (float)col * f;
        cos_out[k] = cosf(ah), sin_out[k] = sinf(ah);
        cos_out[quarter + k] = cosf(aw), sin_out[quarter + k] = sinf(aw);
    }
}

void vision_rotary_cos_sin(const int64_t (*grids)[3], int n_images, int merge, int head_dim,
                           float *cos_out, float *sin_out) {
    int half = head_dim / 2, quarter = head_dim / 4;
    int64_t p = 0;
    for (int img = 0; img < n_images; img++) {
        int64_t gt = grids[img][0], gh = grids[img][1], gw = grids[img][2];
        for (int64_t t = 0; t < gt; t++)
            for (int64_t hb = 0; hb < gh / merge; hb++)
                for (int64_t wb = 0; wb < gw / merge; wb++)
                    for (int i = 0; i < merge; i++)
                        for (int j = 0; j < merge; j++, p++)
                            vision_patch_angles(hb * merge + i, wb * merge + j, quarter,
                                                cos_out + p * half, sin_out + p * half);
    }
}
