/*
 * threadpool.c — the persistent worker pool behind vlm_parallel_for.
 *
 * Decode runs hundreds of small parallel loops per token, so the pool is
 * built for fork/join latency: workers are created once (lazily, and again
 * only when the thread count grows), and between jobs they spin briefly on
 * a job word before sleeping on a condition variable. The calling thread
 * takes part in every job.
 *
 * A job's items are cut into steps, and each runner (the caller and every
 * worker asked) gets a contiguous range of them. It claims its own steps
 * front to back, so a matmul's rows stream through each core in order and
 * the kernel's prefetch of the next rows runs on across steps; a runner
 * whose range is empty takes the back half of another's. The job ends
 * when its items are done, so the last wait is at most one step of one
 * runner. (One shared counter handing out chunks in turn, as before,
 * broke every core's stream at each chunk and left a longer tail: 4-bit
 * decode of Qwen2-VL-2B ran 3-4 % slower, four alternating runs.)
 *
 * The caller never waits for a worker that has not shown up (on a busy
 * machine a sleeping worker may take milliseconds to get a core): its
 * range is taken from it half by half. Ranges carry the job's generation,
 * so a worker that wakes late can claim nothing of a later job, and the
 * job's fields are only used after a successful claim.
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
    STEPS_PER_THREAD = 8,      /* claims per thread's range: the tail another thread waits for */
    SPIN_NS = 100000,           /* how long an idle worker spins before sleeping */
};
#define MAX_ITEMS INT32_MAX     /* items per pooled job */
_Static_assert(MAX_THREADS * STEPS_PER_THREAD <= 0xffff, "a job's steps must fit a range word's 16 bits");

/* A runner's range of a job's steps, on its own cache line: its owner
 * claims steps from the front, a runner whose range is empty takes the
 * back half. The word holds the job's generation (low 32 bits) << 32 |
 * next << 16 | end: a runner still looking for work of a finished job
 * finds no range of its generation, so refilling the ranges for the next
 * job needs no lock. A job has at most MAX_THREADS x STEPS_PER_THREAD
 * steps, so 16 bits hold them. */
typedef struct range_word {
    _Alignas(64) atomic_uint_fast64_t word;
} range_word;

static struct {
    pthread_mutex_t busy;       /* held by the thread running a job */
    pthread_mutex_t sleep_mu;
    pthread_cond_t sleep_cv;
    atomic_int sleepers;
    /* job word: generation << 16 | number of workers asked to help */
    atomic_uint_fast64_t job_word;
    int created;                /* workers started (guarded by busy) */
    atomic_int requested;       /* vlm_set_num_threads value, 0 = all cores */
    /* the current job; valid for a runner that claimed a step of it */
    _Atomic(vlm_task_fn) fn;
    _Atomic(void *) ctx;
    atomic_int_fast64_t n, step;
    atomic_int_fast64_t done;   /* items finished */
    range_word range[MAX_THREADS];
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

static uint64_t range_of(uint64_t gen, uint64_t next, uint64_t end) {
    return (gen & 0xffffffffu) << 32 | next << 16 | end;
}

/* Run step s of the current job (the caller claimed it, so the job's
 * fields are the ones it was claimed for). */
static void run_step(int64_t s) {
    vlm_task_fn fn = atomic_load_explicit(&pool.fn, memory_order_acquire);
    void *ctx = atomic_load_explicit(&pool.ctx, memory_order_acquire);
    int64_t n = atomic_load_explicit(&pool.n, memory_order_acquire);
    int64_t step = atomic_load_explicit(&pool.step, memory_order_acquire);
    int64_t begin = s * step, end = begin + step < n ? begin + step : n;
    fn(ctx, begin, end);
    atomic_fetch_add(&pool.done, end - begin);
}

/* Claim the first step of runner r's range of job gen into *step. */
static int claim_front(int r, uint64_t gen, int64_t *step) {
    uint64_t w = atomic_load(&pool.range[r].word);
    for (;;) {
        uint64_t next = w >> 16 & 0xffff, end = w & 0xffff;
        if (w >> 32 != (gen & 0xffffffffu) || next >= end) return 0;
        if (atomic_compare_exchange_weak(&pool.range[r].word, &w, range_of(gen, next + 1, end))) {
            *step = (int64_t)next;
            return 1;
        }
    }
}

/* Move the back half of runner victim's steps of job gen into runner r's
 * range, which is empty (so no one else writes it until the job is done,
 * and the job is not done before these steps are). */
static int steal_back(int r, int victim, uint64_t gen) {
    uint64_t w = atomic_load(&pool.range[victim].word);
    for (;;) {
        uint64_t next = w >> 16 & 0xffff, end = w & 0xffff, mid = next + (end - next) / 2;
        if (w >> 32 != (gen & 0xffffffffu) || next >= end) return 0;
        if (atomic_compare_exchange_weak(&pool.range[victim].word, &w, range_of(gen, next, mid))) {
            atomic_store(&pool.range[r].word, range_of(gen, mid, end));
            return 1;
        }
    }
}

/* Run job gen's steps as runner r of runners: its own range front to
 * back, then halves taken from the others, until every range is empty. */
static void run_steps(int r, int runners, uint64_t gen) {
    for (;;) {
        int64_t s;
        while (claim_front(r, gen, &s)) run_step(s);
        int stolen = 0;
        for (int k = 1; k < runners && !stolen; k++) stolen = steal_back(r, (r + k) % runners, gen);
        if (!stolen) return;
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
        int workers = (int)(word & 0xffff);
        if (index < workers) run_steps(index + 1, workers + 1, gen);
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
    int64_t runners = workers + 1, per_step = (n + runners * STEPS_PER_THREAD - 1) / (runners * STEPS_PER_THREAD);
    int64_t step = per_step < min_chunk ? min_chunk : per_step, steps = (n + step - 1) / step;
    uint64_t gen = (atomic_load(&pool.job_word) >> 16) + 1;
    atomic_store_explicit(&pool.fn, fn, memory_order_release);
    atomic_store_explicit(&pool.ctx, ctx, memory_order_release);
    atomic_store_explicit(&pool.n, n, memory_order_release);
    atomic_store_explicit(&pool.step, step, memory_order_release);
    atomic_store(&pool.done, 0);
    for (int r = 0; r < runners; r++) {
        uint64_t first = (uint64_t)(steps * r / runners), end = (uint64_t)(steps * (r + 1) / runners);
        atomic_store(&pool.range[r].word, range_of(gen, first, end));
    }
    atomic_store(&pool.job_word, gen << 16 | (uint64_t)workers);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.sleep_mu);
        pthread_cond_broadcast(&pool.sleep_cv);
        pthread_mutex_unlock(&pool.sleep_mu);
    }
    run_steps(0, (int)runners, gen);
    for (unsigned spins = 0; atomic_load(&pool.done) < n; spins++) {
        if (spins < 4096) cpu_relax();
        else sched_yield();
    }
    pthread_mutex_unlock(&pool.busy);
}
