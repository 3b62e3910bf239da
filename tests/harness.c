/* harness.c — main() for every test executable: runs run_tests() and
 * prints the "N passed, N failed" closing line. */
#include "test.h"

int test_failures, tests_passed, tests_failed;

void test_run(const char *name, void (*fn)(void)) {
    test_failures = 0;
    fn();
    if (test_failures) {
        tests_failed++;
        fprintf(stderr, "[FAIL] %s\n", name);
    } else {
        tests_passed++;
        fprintf(stderr, "[ ok ] %s\n", name);
    }
}

char *test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) buf[n] = 0;
    if (buf && size) *size = (size_t)n;
    return buf;
}

double test_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

int main(void) {
    run_tests();
    printf("%d passed, %d failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}
