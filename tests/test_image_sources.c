/*
 * test_image_sources.c — where images come from and what happens with bad
 * input: EXIF orientations 1..8 in JPEG, PNG (eXIf) and WebP against
 * Pillow 9.4 (fixtures/images/orientation/, made by its script), data:
 * URLs and bare base64, raw pixel buffers, http(s) through a local test
 * server (success, HTTP errors, redirect loops, unreachable hosts), and
 * truncated, corrupt, empty, unknown and oversized files: always a clean
 * error, never a crash.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "image_golden.h"

#define ORIENT_DIR IMAGE_FIXTURES "orientation/"

static void test_exif_orientations(void) {
    cJSON *g = golden_json(ORIENT_DIR "orientation_goldens.json");
    int n = 0;
    for (const cJSON *f = g ? cJSON_GetObjectItemCaseSensitive(g, "files")->child : NULL; f; f = f->next, n++) {
        char path[512];
        snprintf(path, sizeof path, ORIENT_DIR "%s", f->string);
        vlm_image *img = NULL;
        CHECK_OK(vlm_image_load(path, &img));
        if (!img) continue;
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(f, "shape");
        CHECKF(img->height == cJSON_GetArrayItem(shape, 0)->valueint &&
                   img->width == cJSON_GetArrayItem(shape, 1)->valueint,
               "%s: %dx%d", f->string, img->width, img->height);
        const char *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256")->valuestring;
        CHECKF(golden_hash_matches(img->rgb, (size_t)img->width * img->height * 3, sha, f->string),
               "%s", f->string);
        vlm_image_free(img);
    }
    CHECK(n == 12);
    cJSON_Delete(g);
}

static char *base64_encode(const uint8_t *p, size_t n) {
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *o++ = abc[v >> 18 & 63];
        *o++ = abc[v >> 12 & 63];
        *o++ = i + 1 < n ? abc[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? abc[v & 63] : '=';
    }
    *o = 0;
    return out;
}

static int same_pixels(const vlm_image *a, const vlm_image *b) {
    return a && b && a->width == b->width && a->height == b->height &&
           !memcmp(a->rgb, b->rgb, (size_t)a->width * a->height * 3);
}

static void test_data_url_and_base64(void) {
    size_t n;
    char *bytes = test_read_file(IMAGE_FIXTURES "pillow_hopper.webp", &n);
    char *b64 = base64_encode((const uint8_t *)bytes, n);
    char *url = malloc(strlen(b64) + 64);
    sprintf(url, "data:image/webp;base64,%s", b64);
    vlm_image *file = NULL, *from_url = NULL, *from_b64 = NULL;
    CHECK_OK(vlm_image_load(IMAGE_FIXTURES "pillow_hopper.webp", &file));
    CHECK_OK(vlm_image_load(url, &from_url));
    CHECK_OK(vlm_image_load(b64, &from_b64));
    CHECK(same_pixels(file, from_url) && same_pixels(file, from_b64));
    vlm_image *bad = NULL;
    CHECK(vlm_image_load("data:image/png;base64,iVBOR!!!w0KGgo", &bad) == VLM_ERR_FORMAT && !bad);
    CHECK(vlm_image_load("data:image/png,plain", &bad) == VLM_ERR_UNSUPPORTED && !bad);
    CHECK(vlm_image_load("data:image/png;base64", &bad) == VLM_ERR_FORMAT && !bad);
    vlm_image_free(file);
    vlm_image_free(from_url);
    vlm_image_free(from_b64);
    free(url);
    free(b64);
    free(bytes);
}

static void test_raw_pixels(void) {
    const uint8_t rgba[8] = {1, 2, 3, 255, 4, 5, 6, 0};
    vlm_image *img = NULL;
    CHECK_OK(vlm_image_from_pixels(rgba, 2, 1, 4, &img));
    CHECK(img && img->width == 2 && img->height == 1 && !memcmp(img->rgb, "\1\2\3\4\5\6", 6));
    vlm_image_free(img);
    img = NULL;
    CHECK(vlm_image_from_pixels(rgba, 2, 1, 2, &img) == VLM_ERR_INVALID_ARGUMENT && !img);
    CHECK(vlm_image_from_pixels(rgba, 0, 1, 3, &img) == VLM_ERR_INVALID_ARGUMENT && !img);
    CHECK(vlm_image_from_pixels(NULL, 1, 1, 3, &img) == VLM_ERR_INVALID_ARGUMENT && !img);
}

/* Every prefix-truncation and a sprinkle of corrupted bytes of real files
 * must come back as an image or a clean error. */
static void test_truncated_and_corrupt(void) {
    static const char *const files[] = {"pillow_hopper_orientation_3.jpg", "derived_hopper_progressive.jpg",
                                        "pillow_hopper.png", "pngsuite_ibasn2c08.png",
                                        "pillow_hopper.webp", "pillow_transparent.webp",
                                        "pillow_hopper.gif", "pillow_pil_sample_cmyk.jpg", "bmp/rgb24.bmp"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char path[256];
        size_t n;
        snprintf(path, sizeof path, IMAGE_FIXTURES "%s", files[f]);
        uint8_t *data = (uint8_t *)test_read_file(path, &n);
        CHECK(data != NULL);
        if (!data) continue;
        for (size_t cut = 0; cut < n; cut += n / 40 + 1) {
            vlm_image *img = NULL;
            vlm_status st = vlm_image_decode_memory(data, cut, &img);
            CHECKF(st != VLM_OK && !img && vlm_last_error()[0], "%s cut at %zu", files[f], cut);
            vlm_image_free(img);
        }
        uint32_t seed = 7;
        for (int round = 0; round < 30; round++) {
            uint8_t *copy = malloc(n);
            memcpy(copy, data, n);
            for (int k = 0; k < 4; k++) {
                seed = seed * 1103515245u + 12345u;
                copy[seed % n] ^= (uint8_t)(seed >> 16 | 1);
            }
            vlm_image *img = NULL;
            vlm_status st = vlm_image_decode_memory(copy, n, &img);
            CHECK((st == VLM_OK) == (img != NULL));
            vlm_image_free(img);
            free(copy);
        }
        free(data);
    }
}

static void test_empty_unknown_missing(void) {
    vlm_image *img = NULL;
    FILE *f = fopen("image_empty.tmp", "wb");
    if (f) fclose(f);
    CHECK(vlm_image_load("image_empty.tmp", &img) == VLM_ERR_FORMAT && !img);
    CHECK(strstr(vlm_last_error(), "empty") != NULL);
    remove("image_empty.tmp");
    CHECK(vlm_image_decode_memory("GIF88a not really", 17, &img) == VLM_ERR_UNSUPPORTED && !img);
    CHECK(vlm_image_load(IMAGE_FIXTURES "no-such-image.png", &img) == VLM_ERR_IO && !img);
    CHECK(strstr(vlm_last_error(), "no-such-image.png") != NULL);
    CHECK(vlm_image_load(IMAGE_FIXTURES, &img) == VLM_ERR_IO && !img);
    CHECK(vlm_image_load("", &img) == VLM_ERR_INVALID_ARGUMENT && !img);
}

/* Headers announcing huge images are refused before any allocation. */
static void test_pixel_limit(void) {
    /* PNG signature + IHDR 100000 x 100000 RGB8 (CRC of this IHDR). */
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                  0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 2, 0, 0, 0, 0x27, 0x30, 0x9c, 0x9f};
    /* GIF with a 65535 x 65535 logical screen and a 1x1 frame. */
    static const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a', 0xff, 0xff, 0xff, 0xff, 0, 0, 0,
                                  ',', 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, ';'};
    vlm_image *img = NULL;
    CHECKF(vlm_image_decode_memory(png, sizeof png, &img) == VLM_ERR_LIMIT && !img, "%s", vlm_last_error());
    CHECKF(vlm_image_decode_memory(gif, sizeof gif, &img) == VLM_ERR_LIMIT && !img, "%s", vlm_last_error());
    CHECK(strstr(vlm_last_error(), "decompression bomb") != NULL);
    vlm_image_set_max_pixels(128 * 128 - 1);
    CHECK(vlm_image_load(IMAGE_FIXTURES "pillow_hopper_orientation_3.jpg", &img) == VLM_ERR_LIMIT && !img);
    vlm_image_set_max_pixels(128 * 128);
    CHECK_OK(vlm_image_load(IMAGE_FIXTURES "pillow_hopper_orientation_3.jpg", &img));
    vlm_image_free(img);
    vlm_image_set_max_pixels(2ull * 89478485ull);
}

/* ---- a one-thread HTTP server on 127.0.0.1 for the URL tests ---------- */

typedef struct test_server {
    int fd, port, requests;
    const char *body;
    size_t body_len;
} test_server;

static void respond(int c, const test_server *s) {
    char req[2048] = {0}, head[256];
    ssize_t got = recv(c, req, sizeof req - 1, 0);
    if (got <= 0) return;
    if (!strncmp(req, "GET /ok ", 8)) {
        int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", s->body_len);
        send(c, head, (size_t)n, 0);
        send(c, s->body, s->body_len, 0);
    } else if (!strncmp(req, "GET /loop ", 10)) {
        int n = snprintf(head, sizeof head, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
        send(c, head, (size_t)n, 0);
    } else {
        const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send(c, nf, strlen(nf), 0);
    }
}

static void *serve(void *arg) {
    test_server *s = arg;
    for (int i = 0; i < s->requests; i++) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) break;
        respond(c, s);
        close(c);
    }
    return NULL;
}

static int start_server(test_server *s) {
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 16) ||
        getsockname(s->fd, (struct sockaddr *)&a, &len))
        return 0;
    s->port = ntohs(a.sin_port);
    return 1;
}

static void test_http_sources(void) {
    test_server s = {0};
    s.body = test_read_file(IMAGE_FIXTURES "pillow_hopper.png", &s.body_len);
    s.requests = 1 + 1 + 6;   /* ok, 404, loop: first request + 5 redirects */
    CHECK(start_server(&s));
    pthread_t th;
    pthread_create(&th, NULL, serve, &s);
    char url[128];
    vlm_image *img = NULL, *file = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", s.port);
    CHECK_OK(vlm_image_load(url, &img));
    CHECK_OK(vlm_image_load(IMAGE_FIXTURES "pillow_hopper.png", &file));
    CHECK(same_pixels(img, file));
    vlm_image_free(img);
    vlm_image_free(file);
    img = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing.png", s.port);
    CHECK(vlm_image_load(url, &img) == VLM_ERR_IO && !img);
    CHECKF(strstr(vlm_last_error(), "404") != NULL, "%s", vlm_last_error());
    snprintf(url, sizeof url, "http://127.0.0.1:%d/loop", s.port);
    CHECK(vlm_image_load(url, &img) == VLM_ERR_LIMIT && !img);
    CHECKF(strstr(vlm_last_error(), "redirects") != NULL, "%s", vlm_last_error());
    pthread_join(th, NULL);
    close(s.fd);
    free((void *)s.body);
    /* Nothing listens on the closed port any more. */
    CHECK(vlm_image_load(url, &img) == VLM_ERR_IO && !img);
    CHECK(strstr(vlm_last_error(), "127.0.0.1") != NULL);
}

void run_tests(void) {
    RUN(test_exif_orientations);
    RUN(test_data_url_and_base64);
    RUN(test_raw_pixels);
    RUN(test_truncated_and_corrupt);
    RUN(test_empty_unknown_missing);
    RUN(test_pixel_limit);
    RUN(test_http_sources);
}
