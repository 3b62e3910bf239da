/*
 * dtype.h — the element types vlm stores tensors in, one table of their
 * traits (name, byte size), and scalar conversions between bf16/f16/f32.
 */
#ifndef VLM_CORE_DTYPE_H
#define VLM_CORE_DTYPE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum vlm_dtype {
    VLM_DTYPE_F32,
    VLM_DTYPE_F16,
    VLM_DTYPE_BF16,
    VLM_DTYPE_F64,
    VLM_DTYPE_U32,
    VLM_DTYPE_I32,
    VLM_DTYPE_I64,
    VLM_DTYPE_U8,
    VLM_DTYPE_I8,
    VLM_DTYPE_BOOL,
    VLM_DTYPE_U16,
    VLM_DTYPE_I16,
    VLM_DTYPE_U64,
    VLM_DTYPE_COUNT
} vlm_dtype;

typedef struct vlm_dtype_traits {
    const char *name;  /* safetensors spelling: "F32", "BF16", ... */
    size_t size;       /* bytes per element */
    int is_float;
} vlm_dtype_traits;

extern const vlm_dtype_traits vlm_dtype_table[VLM_DTYPE_COUNT];

static inline size_t vlm_dtype_size(vlm_dtype t) { return vlm_dtype_table[t].size; }
static inline const char *vlm_dtype_name(vlm_dtype t) { return vlm_dtype_table[t].name; }
/* Parse a safetensors dtype name; returns -1 if unknown. */
int vlm_dtype_from_name(const char *name);

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Round-to-nearest-even, NaN preserved (as MLX and PyTorch do). */
static inline uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0) u = sign;
        else { /* subnormal */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            u = sign | (exp << 23) | ((man & 0x3ff) << 13);
        }
    } else if (exp == 31) u = sign | 0x7f800000u | (man << 13);
    else u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    int32_t exp = (int32_t)((u >> 23) & 0xff) - 127 + 15;
    uint32_t man = u & 0x7fffff;
    if (((u >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = 1u << (shift - 1);
        uint32_t r = man >> shift, rem = man & ((1u << shift) - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = (uint32_t)exp << 10 | man >> 13, rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

#endif
