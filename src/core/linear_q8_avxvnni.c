/*
 * linear_q8_avxvnni.c — the integer matmul with AVX-VNNI dot products
 * (VEX-encoded vpdpbusd: Intel Alder Lake and later client CPUs, which lack
 * AVX-512, and AMD Zen 5): linear_q8_x86.h with Q8_DPBUSD, the same loops
 * as linear_q8_vnni_avx512.c. Only this file is built with -mavxvnni.
 */
#include <immintrin.h>

#define Q8_DPBUSD(acc, u8, s8) _mm256_dpbusd_avx_epi32((acc), (u8), (s8))
#define Q8_GEMV linear_q8_gemv_avxvnni
#include "core/linear_q8_x86.h"
