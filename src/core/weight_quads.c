/*
 * weight_quads.c — a quantized weight's scales and biases regrouped by
 * quads of rows (vlm_weight.quad_params, layout in kernels.h).
 *
 * MLX stores a scale and a bias per row and group, row after row. The
 * integer kernels take W rows four at a time and want, at each group, the
 * four rows' scales side by side: regrouping them once at load time,
 * instead of transposing them on every call, made the 4-bit integer GEMV
 * 6-12 % faster on Zen 1 (`vlm bench kernels`). The copy has the same
 * size as the originals, which a loader can then release
 * (weights_pack_quads). On x86-64 a 4-bit weight's codes are regrouped
 * too (quad_codes, kernel_table.h), which made the 4-bit GEMV of rows of
 * 1536 columns 15 % faster on Zen 1 and 4-bit prefill 5 %.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/kernel_table.h"

typedef struct codes_job {
    const vlm_weight *w;
    uint8_t *out;
} codes_job;

/* Where row k's 4 bytes at offset 16h + 4v of the chunk at byte c of its
 * row go within its quad's codes (layout in kernel_table.h). */
static int64_t quad_code_offset(int64_t c, int v, int h, int k) { return 4 * c + 32 * v + 16 * h + 4 * k; }

/* Quads [q0, q1) of a 4-bit weight's codes into quad_codes order. */
static void pack_codes_task(void *ctx, int64_t q0, int64_t q1) {
    const codes_job *job = ctx;
    const vlm_weight *w = job->w;
    int64_t row_bytes = w->cols / 2;
    for (int64_t q = q0; q < q1; q++) {
        uint8_t *o = job->out + q * LINEAR_QUAD * row_bytes;
        const uint8_t *rows[LINEAR_QUAD];
        for (int k = 0; k < LINEAR_QUAD; k++) {
            int64_t r = q * LINEAR_QUAD + k < w->rows ? q * LINEAR_QUAD + k : w->rows - 1;
            rows[k] = (const uint8_t *)w->data + r * row_bytes;
        }
        for (int64_t c = 0; c < row_bytes; c += 32)
            for (int v = 0; v < 4; v++)
                for (int h = 0; h < 2; h++)
                    for (int k = 0; k < LINEAR_QUAD; k++)
                        memcpy(o + quad_code_offset(c, v, h, k), rows[k] + c + 16 * h + 4 * v, 4);
    }
}

void linear_quad_codes_row(const vlm_weight *w, int64_t r, uint8_t *row) {
    const uint8_t *q = linear_quad_codes(w, r);
    for (int64_t c = 0; c < w->cols / 2; c += 32)
        for (int v = 0; v < 4; v++)
            for (int h = 0; h < 2; h++)
                memcpy(row + c + 16 * h + 4 * v, q + quad_code_offset(c, v, h, (int)(r % LINEAR_QUAD)), 4);
}

/* w's codes as quad_codes (layout in kernel_table.h), on the thread pool:
 * a loaded model's codes are read here for the first time, page faults
 * and all. */
static vlm_status pack_quad_codes(vlm_weight *w) {
    int64_t quads = (w->rows + LINEAR_QUAD - 1) / LINEAR_QUAD;
    codes_job job = {w, vlm_malloc((size_t)(quads * LINEAR_QUAD * (w->cols / 2)))};
    if (!job.out) return VLM_ERR_OUT_OF_MEMORY; /* vlm_malloc said so */
    vlm_parallel_for(quads, 16, pack_codes_task, &job);
    w->quad_codes = job.out;
    return VLM_OK;
}

vlm_status vlm_weight_pack_quads(vlm_weight *w) {
    if (!vlm_weight_is_quantized(w) || w->quad_params) return VLM_OK;
    /* only the integer path reads them: a model loaded in precise mode
     * keeps its codes where they are */
    if (LINEAR_QUAD_CODES && vlm_fast_matmul() && w->bits == 4 && w->cols % LINEAR_Q8_CHUNK == 0) {
        vlm_status st = pack_quad_codes(w);
        if (st) return st;
    }
    size_t esize = vlm_dtype_size(w->scale_dtype);
    int64_t groups = w->cols / w->group_size, quads = (w->rows + LINEAR_QUAD - 1) / LINEAR_QUAD;
    uint8_t *out = vlm_malloc((size_t)quads * linear_quad_bytes(w));
    if (!out) {
        vlm_weight_free_quads(w);
        return VLM_ERR_OUT_OF_MEMORY; /* vlm_malloc said so */
    }
    const uint8_t *params[2] = {w->scales, w->biases};
    uint8_t *o = out;
    for (int64_t q = 0; q < quads; q++)
        for (int64_t g = 0; g < groups; g++)
            for (int p = 0; p < 2; p++)
                for (int k = 0; k < LINEAR_QUAD; k++, o += esize) {
                    int64_t r = q * LINEAR_QUAD + k < w->rows ? q * LINEAR_QUAD + k : w->rows - 1;
                    memcpy(o, params[p] + (size_t)(r * groups + g) * esize, esize);
                }
    w->quad_params = out;
    return VLM_OK;
}

void vlm_weight_free_quads(vlm_weight *w) {
    vlm_free((void *)w->quad_params);
    vlm_free((void *)w->quad_codes);
    w->quad_params = w->quad_codes = NULL;
}
