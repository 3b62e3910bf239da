/*
 * image_golden.h — helpers the image tests share (header-only, each test
 * is its own executable): the golden manifest from ../shared/images
 * (copied to fixtures/images/MANIFEST.json, made with PIL 9.4 and the
 * transformers processors' arithmetic) and comparisons of decoded or
 * resized images against its hashes and .npy goldens.
 */
#ifndef VLM_TESTS_IMAGE_GOLDEN_H
#define VLM_TESTS_IMAGE_GOLDEN_H

#include <cjson/cJSON.h>

#include "image_sha256.h"
#include "io/npy.h"
#include "test.h"

#define IMAGE_FIXTURES "fixtures/images/"

/* A JSON fixture file, parsed; NULL (and a recorded failure) when it
 * cannot be read or parsed. */
static inline cJSON *golden_json(const char *path) {
    char *text = test_read_file(path, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECKF(j != NULL, "cannot read %s", path);
    return j;
}

static inline cJSON *golden_manifest(void) { return golden_json(IMAGE_FIXTURES "MANIFEST.json"); }

/* manifest[section][name][key] as a string, or NULL. */
static inline const char *golden_string(const cJSON *m, const char *section, const char *name,
                                        const char *key) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, section), name), key);
    return cJSON_IsString(e) ? e->valuestring : NULL;
}

/* Bytes must hash to the golden sha256 (hex). Returns 1 on match. */
static inline int golden_hash_matches(const void *data, size_t n, const char *sha, const char *what) {
    char hex[65];
    sha256_hex(data, n, hex);
    if (sha && !strcmp(hex, sha)) return 1;
    fprintf(stderr, "  %s: sha256 %s, golden %s\n", what, hex, sha ? sha : "(none)");
    return 0;
}

/* An 8-bit [H, W, 3] .npy golden versus img; prints where they differ. */
static inline int golden_npy_image_matches(const vlm_image *img, const char *path) {
    npy_array a;
    if (npy_load(path, &a) != VLM_OK) {
        fprintf(stderr, "  %s: %s\n", path, vlm_last_error());
        return 0;
    }
    int ok = a.ndim == 3 && a.shape[0] == img->height && a.shape[1] == img->width &&
             a.shape[2] == 3 && a.elem_size == 1;
    size_t diffs = 0, first = 0;
    for (size_t i = 0; ok && i < a.count; i++)
        if (((uint8_t *)a.data)[i] != img->rgb[i] && !diffs++) first = i;
    if (!ok) fprintf(stderr, "  %s: shape differs from %dx%d\n", path, img->width, img->height);
    else if (diffs)
        fprintf(stderr, "  %s: %zu samples differ, first at %zu (%d vs golden %d)\n", path, diffs,
                first, img->rgb[first], ((uint8_t *)a.data)[first]);
    npy_free(&a);
    return ok && !diffs;
}

#endif
