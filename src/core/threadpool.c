/*
 * threadpool.c — the persistent worker pool behind vlm_parallel_for.
 *
 * Decode runs hundreds of small parallel loops per token, so the pool is
 * built for fork/join latency: workers are created once (lazily, and again
 * only when the thread count grows), and between jobs they spin briefly on
 * a job word before sleeping on a condition variable. The calling thread
 * takes part in every job. Items are handed out in chunks through an
 * atomic counter, which balances load when other processes steal cores.
 *
 * The caller never waits for a worker that has not shown up (on a busy
 * machine a sleeping worker may take milliseconds to get a core): the job
 * is done when all its items are, whoever ran them. To make that safe,
 * the chunk counter carries the job's generation in its high half, so a
 * worker that wakes late can claim nothing from a later job, and the job's
 * fields are only used after a successful claim.
 *
 * One job runs at a time: a caller that finds the pool busy (a nested call
 * from inside a task, or a second application thread) runs its loop inline.
 * The pool is process-global state by design (one set of cores).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "core/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() ((void)0)
#endif

enum {
    MAX_THREADS = 256,
    CHUNKS_PER_THREAD = 4,      /* dynamic scheduling granularity */
    SPIN_NS = 100000,           /* how long an idle worker spins before sleeping */
};
#define MAX_ITEMS INT32_MAX     /* items per pooled job (position = low 32 bits) */

static struct {
    pthread_mutex_t busy;       /* held by the thread running a job */
    pthread_mutex_t sleep_mu;
    pthread_cond_t sleep_cv;
    atomic_int sleepers;
    /* job word: generation << 16 | number of workers asked to help */
    atomic_uint_fast64_t job_word;
    int created;                /* workers started (guarded by busy) */
    atomic_int requested;       /* vlm_set_num_threads value, 0 = all cores */
    /* the current job; valid for a runner that claimed a chunk of it */
    _Atomic(vlm_task_fn) fn;
    _Atomic(void *) ctx;
    atomic_int_fast64_t n, chunk;
    atomic_uint_fast64_t next;  /* (generation & 0xffffffff) << 32 | next item */
    atomic_int_fast64_t done;   /* items finished */
} pool = {
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .sleep_mu = PTHREAD_MUTEX_INITIALIZER,
    .sleep_cv = PTHREAD_COND_INITIALIZER,
};

static int cpu_count(void) {
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void vlm_set_num_threads(int n) { atomic_store(&pool.requested, n > 0 ? n : 0); }

int vlm_get_num_threads(void) { return vlm_threads(); }

int vlm_threads(void) {
    int n = atomic_load(&pool.requested);
    if (n <= 0) n = cpu_count();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

/* Claim and run chunks of job generation gen until none is left. */
static void run_chunks(uint64_t gen) {
    uint64_t tag = (gen & 0xffffffffu) << 32;
    for (;;) {
        uint64_t cur = atomic_load(&pool.next);
        if ((cur & ~(uint64_t)0xffffffffu) != tag) return; /* a later job: not ours */
        vlm_task_fn fn = atomic_load_explicit(&pool.fn, memory_order_acquire);
        void *ctx = atomic_load_explicit(&pool.ctx, memory_order_acquire);
        int64_t n = atomic_load_explicit(&pool.n, memory_order_acquire);
        int64_t chunk = atomic_load_explicit(&pool.chunk, memory_order_acquire);
        int64_t begin = (int64_t)(cur & 0xffffffffu);
        if (begin >= n) return;
        int64_t end = begin + chunk < n ? begin + chunk : n;
        if (!atomic_compare_exchange_weak(&pool.next, &cur, tag | (uint64_t)end)) continue;
        fn(ctx, begin, end); /* the claim succeeded: fn, ctx, n are this job's */
        atomic_fetch_add(&pool.done, end - begin);
    }
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wait until the job word's generation differs from seen; returns the word. */
static uint64_t wait_for_job(uint64_t seen_gen) {
    uint64_t start = now_ns();
    for (unsigned spins = 0;; spins++) {
        uint64_t word = atomic_load(&pool.job_word);
        if (word >> 16 != seen_gen) return word;
        if ((spins & 1023) == 1023 && now_ns() - start > SPIN_NS) break;
        cpu_relax();
    }
    pthread_mutex_lock(&pool.sleep_mu);
    atomic_fetch_add(&pool.sleepers, 1);
    uint64_t word;
    while ((word = atomic_load(&pool.job_word)) >> 16 == seen_gen)
        pthread_cond_wait(&pool.sleep_cv, &pool.sleep_mu);
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.sleep_mu);
    return word;
}

static void *worker_main(void *arg) {
    /* arg = generation current at creation << 16 | 0-based worker index:
     * the job that follows the creation must not be mistaken as seen. */
    uint64_t gen = (uint64_t)(uintptr_t)arg >> 16;
    int index = (int)((uintptr_t)arg & 0xffff);
    for (;;) {
        uint64_t word = wait_for_job(gen);
        gen = word >> 16;
        if (index < (int)(word & 0xffff)) run_chunks(gen);
    }
    return NULL;
}

/* Start workers up to want; returns how many exist. Called under busy. */
static int grow_workers(int want) {
    while (pool.created < want) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        uint64_t gen = atomic_load(&pool.job_word) >> 16;
        void *arg = (void *)(uintptr_t)(gen << 16 | (uint64_t)pool.created);
        int rc = pthread_create(&th, &attr, worker_main, arg);
        pthread_attr_destroy(&attr);
        if (rc) break; /* run with the workers we have */
        pool.created++;
    }
    return pool.created;
}

static void run_inline(int64_t n, vlm_task_fn fn, void *ctx) {
    if (n > 0) fn(ctx, 0, n);
}

void vlm_parallel_for(int64_t n, int64_t min_chunk, vlm_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (min_chunk < 1) min_chunk = 1;
    int threads = vlm_threads();
    int64_t max_parts = (n + min_chunk - 1) / min_chunk;
    if (threads <= 1 || max_parts <= 1 || n > MAX_ITEMS || pthread_mutex_trylock(&pool.busy) != 0) {
        run_inline(n, fn, ctx);
        return;
    }
    int workers = grow_workers(threads - 1);
    if (workers > threads - 1) workers = threads - 1;
    if ((int64_t)workers + 1 > max_parts) workers = (int)max_parts - 1;
    int64_t parts = (int64_t)(workers + 1) * CHUNKS_PER_THREAD;
    int64_t chunk = (n + parts - 1) / parts;
    uint64_t gen = (atomic_load(&pool.job_word) >> 16) + 1;
    /* retag the counter first: late workers of the previous job stop here */
    atomic_store(&pool.next, (gen & 0xffffffffu) << 32);
    atomic_store_explicit(&pool.fn, fn, memory_order_release);
    atomic_store_explicit(&pool.ctx, ctx, memory_order_release);
    atomic_store_explicit(&pool.n, n, memory_order_release);
    atomic_store_explicit(&pool.chunk, chunk < min_chunk ? min_chunk : chunk, memory_order_release);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.job_word, gen << 16 | (uint64_t)workers);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep_mu);
        pthread_cond_broadcast(&pool.sleep_cv);
        pthread_mutex_unlock(&pool.sleep_mu);
    }
    run_chunks(gen);
    for (unsigned spins = 0; atomic_load(&pool.done) < n; spins++) {
        if (spins < 4096) cpu_relax();
        else sched_yield();
    }
    pthread_mutex_unlock(&pool.busy);
}
