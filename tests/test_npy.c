/* test_npy.c — .npy round trip and reading a golden fixture. */
#include "io/npy.h"
#include "test.h"

static void test_roundtrip(void) {
    float v[6] = {1, -2, 3.5f, 0, 1e-7f, 42};
    int64_t shape[2] = {2, 3};
    CHECK_OK(npy_save("npy_roundtrip.tmp.npy", "<f4", shape, 2, v));
    npy_array a;
    CHECK_OK(npy_load("npy_roundtrip.tmp.npy", &a));
    CHECK(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6);
    CHECK(!memcmp(a.data, v, sizeof v));
    npy_free(&a);
    remove("npy_roundtrip.tmp.npy");
}

static void test_missing(void) {
    npy_array a;
    CHECK(npy_load("fixtures/does-not-exist.npy", &a) == VLM_ERR_IO);
    CHECK(strstr(vlm_last_error(), "does-not-exist") != NULL);
}

void run_tests(void) {
    RUN(test_roundtrip);
    RUN(test_missing);
}
