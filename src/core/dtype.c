/* dtype.c — the dtype traits table. */
#include "core/dtype.h"

const vlm_dtype_traits vlm_dtype_table[VLM_DTYPE_COUNT] = {
    [VLM_DTYPE_F32] = {"F32", 4, 1},  [VLM_DTYPE_F16] = {"F16", 2, 1},
    [VLM_DTYPE_BF16] = {"BF16", 2, 1}, [VLM_DTYPE_F64] = {"F64", 8, 1},
    [VLM_DTYPE_U32] = {"U32", 4, 0},  [VLM_DTYPE_I32] = {"I32", 4, 0},
    [VLM_DTYPE_I64] = {"I64", 8, 0},  [VLM_DTYPE_U8] = {"U8", 1, 0},
    [VLM_DTYPE_I8] = {"I8", 1, 0},    [VLM_DTYPE_BOOL] = {"BOOL", 1, 0},
    [VLM_DTYPE_U16] = {"U16", 2, 0},  [VLM_DTYPE_I16] = {"I16", 2, 0},
    [VLM_DTYPE_U64] = {"U64", 8, 0},
};

int vlm_dtype_from_name(const char *name) {
    for (int i = 0; i < VLM_DTYPE_COUNT; i++)
        if (!strcmp(vlm_dtype_table[i].name, name)) return i;
    return -1;
}
