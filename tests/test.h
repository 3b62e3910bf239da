/*
 * test.h — the tiny harness every tests/test_*.c uses.
 *
 * A test file defines `void run_tests(void)` that calls RUN(fn) for each
 * test function; inside, CHECK* macros record failures without stopping.
 * Tests run with the working directory tests/, so fixtures are at
 * "fixtures/...". The vlm CLI path is in the VLM_BIN environment variable.
 */
#ifndef VLM_TEST_H
#define VLM_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlm.h"

extern int test_failures;      /* failures in the current test */
extern int tests_passed, tests_failed;
void run_tests(void);
void test_run(const char *name, void (*fn)(void));
/* Read a whole file (NUL-terminated); NULL on failure. */
char *test_read_file(const char *path, size_t *size);
/* Largest |a-b| over n floats. */
double test_max_abs_diff(const float *a, const float *b, size_t n);

#define RUN(fn) test_run(#fn, fn)

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

#define CHECKF(cond, ...)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

/* A call returning vlm_status must succeed; prints vlm_last_error if not. */
#define CHECK_OK(call)                                                           \
    do {                                                                         \
        vlm_status st_ = (call);                                                 \
        if (st_ != VLM_OK) {                                                     \
            fprintf(stderr, "  FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__,  \
                    #call, vlm_status_name(st_), vlm_last_error());              \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                    \
    do {                                                                         \
        double a_ = (a), b_ = (b);                                               \
        if (!(fabs(a_ - b_) <= (tol))) {                                         \
            fprintf(stderr, "  FAIL %s:%d: %s=%g vs %s=%g (tol %g)\n", __FILE__, \
                    __LINE__, #a, a_, #b, b_, (double)(tol));                    \
            test_failures++;                                                     \
        }                                                                        \
    } while (0)

#endif
