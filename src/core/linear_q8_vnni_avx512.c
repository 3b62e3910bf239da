/*
 * linear_q8_vnni_avx512.c — the integer matmul with AVX-512 VNNI dot
 * products (vpdpbusd on 256-bit vectors: AVX512_VNNI + AVX512VL, e.g. Ice
 * Lake and later Xeons, AMD Zen 4 and later): linear_q8_x86.h with
 * Q8_DPBUSD, chosen by linear_q8_gemv_x86 where the CPU has them. Only
 * this file is built with -mavx512vnni, so no other code can pick up VNNI
 * instructions.
 */
#include <immintrin.h>

#define Q8_DPBUSD(acc, u8, s8) _mm256_dpbusd_epi32((acc), (u8), (s8))
#define Q8_GEMV linear_q8_gemv_vnni
#include "core/linear_q8_x86.h"
