/*
 * cpu.c — CPU feature detection and the choice of kernel table.
 *
 * The one place that knows which instruction sets exist: it asks CPUID
 * (and the OS, via XGETBV, whether the wide registers are saved), then
 * picks the best compiled kernel table the CPU can run. The choice is the
 * only global mutable state of the kernels, with the fast-matmul switch:
 * an atomic pointer, changed by vlm_kernels_select / vlm_kernels_force_scalar
 * (tests, benchmarks) and initialised from the VLM_KERNELS environment
 * variable when set; and an atomic flag, changed by vlm_set_fast_matmul /
 * vlm_set_precise and initialised from VLM_PRECISE.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/kernel_table.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define VLM_X86 1
#endif

static vlm_cpu_features detect_features(void) {
    vlm_cpu_features f = {0};
#ifdef VLM_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    int osxsave = (c >> 27) & 1;
    f.fma = (c >> 12) & 1;
    f.f16c = (c >> 29) & 1;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    int ymm_ok = (xcr0 & 0x6) == 0x6, zmm_ok = (xcr0 & 0xe6) == 0xe6;
    if (!ymm_ok) f.fma = f.f16c = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f.avx2 = ymm_ok && ((b >> 5) & 1);
        f.avx512f = zmm_ok && ((b >> 16) & 1);
        f.avx512bw = f.avx512f && ((b >> 30) & 1);
        f.avx512vl = f.avx512f && ((b >> 31) & 1);
        f.avx512vnni = f.avx512f && ((c >> 11) & 1);
    }
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
        f.avxvnni = f.avx2 && ((a >> 4) & 1); /* VEX-encoded vpdpbusd (Alder Lake, Zen 5) */
        f.avx512bf16 = f.avx512f && ((a >> 5) & 1);
    }
#elif defined(__aarch64__)
    f.neon = 1;
#endif
    return f;
}

const vlm_cpu_features *vlm_cpu(void) {
    static vlm_cpu_features features;
    static atomic_int ready;
    if (!atomic_load_explicit(&ready, memory_order_acquire)) {
        features = detect_features(); /* idempotent: racing threads write the same */
        atomic_store_explicit(&ready, 1, memory_order_release);
    }
    return &features;
}

/* The table for an ISA name if compiled in and runnable here, else NULL. */
static const vlm_kernel_table *table_named(const char *isa) {
    if (!strcmp(isa, "scalar")) return &vlm_kernels_scalar;
#ifdef VLM_X86
    const vlm_cpu_features *f = vlm_cpu();
    if (!strcmp(isa, "avx2") && f->avx2 && f->fma && f->f16c) return &vlm_kernels_avx2;
    if (!strcmp(isa, "avx512") && f->avx512f && f->avx512bw && f->avx512vl && f->fma && f->f16c)
        return &vlm_kernels_avx512;
#elif defined(__aarch64__)
    if (!strcmp(isa, "neon") && vlm_cpu()->neon) return &vlm_kernels_neon;
#endif
    return NULL;
}

static const vlm_kernel_table *best_table(void) {
    static const char *const order[] = {"avx512", "avx2", "neon", "scalar"};
    const char *env = getenv("VLM_KERNELS");
    if (env && table_named(env)) return table_named(env);
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (table_named(order[i])) return table_named(order[i]);
    return &vlm_kernels_scalar;
}

static _Atomic(const vlm_kernel_table *) active;

const vlm_kernel_table *vlm_kernels_active(void) {
    const vlm_kernel_table *t = atomic_load_explicit(&active, memory_order_acquire);
    if (!t) {
        t = best_table();
        atomic_store_explicit(&active, t, memory_order_release);
    }
    return t;
}

void vlm_kernels_use(const vlm_kernel_table *t) { atomic_store_explicit(&active, t, memory_order_release); }

int vlm_kernels_select(const char *isa) {
    const vlm_kernel_table *t = table_named(isa);
    if (!t) return 0;
    vlm_kernels_use(t);
    return 1;
}

void vlm_kernels_force_scalar(int on) {
    atomic_store_explicit(&active, on ? &vlm_kernels_scalar : best_table(), memory_order_release);
}

const char *vlm_kernels_isa(void) { return vlm_kernels_active()->isa; }

/* -1 until first use, then 1 (fast) or 0 (precise). */
static atomic_int fast_matmul = -1;

int vlm_fast_matmul(void) {
    int on = atomic_load_explicit(&fast_matmul, memory_order_relaxed);
    if (on < 0) {
        const char *env = getenv("VLM_PRECISE");
        on = !(env && env[0] && strcmp(env, "0"));
        atomic_store_explicit(&fast_matmul, on, memory_order_relaxed);
    }
    return on;
}

void vlm_set_fast_matmul(int on) { atomic_store_explicit(&fast_matmul, on ? 1 : 0, memory_order_relaxed); }

void vlm_set_precise(bool precise) { vlm_set_fast_matmul(!precise); }
