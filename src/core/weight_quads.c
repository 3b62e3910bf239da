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
 * (weights_pack_quads).
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/kernel_table.h"

vlm_status vlm_weight_pack_quads(vlm_weight *w) {
    if (!vlm_weight_is_quantized(w) || w->quad_params) return VLM_OK;
    size_t esize = vlm_dtype_size(w->scale_dtype);
    int64_t groups = w->cols / w->group_size, quads = (w->rows + LINEAR_QUAD - 1) / LINEAR_QUAD;
    uint8_t *out = vlm_malloc((size_t)quads * linear_quad_bytes(w));
    if (!out) return VLM_ERR_OUT_OF_MEMORY; /* vlm_malloc said so */
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
    w->quad_params = NULL;
}
