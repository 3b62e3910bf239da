/*
 * source.c — vlm_image_load: turn a source string into image bytes and
 * decode them. The source kinds are tried in mlx-vlm's load_image order:
 * http(s) URL, data: URL, existing file; then bare base64 whose first
 * characters encode a known image signature (so a mistyped path reports
 * "cannot open", not a base64 error).
 */
#include "image/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"

static int has_prefix(const char *s, const char *prefix) {
    return !strncmp(s, prefix, strlen(prefix));
}

static int is_url(const char *s) {
    return has_prefix(s, "http://") || has_prefix(s, "https://") || has_prefix(s, "HTTP://") ||
           has_prefix(s, "HTTPS://");
}

/* "data:[<mediatype>][;base64],<data>"; only base64 payloads carry images. */
static vlm_status read_data_url(const char *url, uint8_t **data, size_t *size) {
    const char *comma = strchr(url, ',');
    if (!comma) return vlm_error(VLM_ERR_FORMAT, "data: URL has no ',' before its payload");
    const char *b64 = strstr(url, ";base64");
    if (!b64 || b64 > comma)
        return vlm_error(VLM_ERR_UNSUPPORTED, "data: URL is not base64-encoded (;base64, missing)");
    vlm_status st = base64_decode(comma + 1, strlen(comma + 1), data, size);
    return st ? vlm_error_prefix(st, "data: URL") : VLM_OK;
}

/* Base64 of the first bytes of JPEG, PNG, GIF, RIFF (WebP) and BMP files. */
static int looks_like_base64_image(const char *s) {
    static const char *const signatures[] = {"/9j/", "iVBORw0KGgo", "R0lGOD", "UklGR", "Qk"};
    for (size_t i = 0; i < sizeof signatures / sizeof *signatures; i++)
        if (has_prefix(s, signatures[i])) return strlen(s) >= 16;
    return 0;
}

static vlm_status read_file(const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return vlm_error(VLM_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return vlm_error(VLM_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > IMAGE_MAX_SOURCE_BYTES) {
        fclose(f);
        return vlm_error(VLM_ERR_LIMIT, "%s: file of %lld bytes exceeds the %zu-byte limit", path,
                         (long long)sb.st_size, IMAGE_MAX_SOURCE_BYTES);
    }
    size_t n = (size_t)sb.st_size;
    uint8_t *buf = vlm_malloc(n);
    if (!buf) {
        fclose(f);
        return VLM_ERR_OUT_OF_MEMORY;
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        return vlm_error(VLM_ERR_IO, "%s: read failed", path);
    }
    *data = buf;
    *size = n;
    return VLM_OK;
}

vlm_status image_source_read(const char *source, uint8_t **data, size_t *size) {
    *data = NULL;
    *size = 0;
    if (is_url(source)) return image_fetch_url(source, data, size);
    if (has_prefix(source, "data:")) return read_data_url(source, data, size);
    struct stat sb;
    if (stat(source, &sb) == 0 || !looks_like_base64_image(source))
        return read_file(source, data, size);
    vlm_status st = base64_decode(source, strlen(source), data, size);
    return st ? vlm_error_prefix(st, "base64 image") : VLM_OK;
}

void image_source_label(const char *source, char *label, size_t cap) {
    size_t n = strlen(source);
    if (n < cap) {
        memcpy(label, source, n + 1);
    } else {
        snprintf(label, cap, "%.*s...", (int)(cap - 4), source);
    }
}

vlm_status image_source_decode(const char *source, image_bytes_decoder decode, void *ctx,
                               vlm_image **out) {
    uint8_t *data;
    size_t size;
    vlm_status st = image_source_read(source, &data, &size);
    if (st) return st;
    st = decode(data, size, ctx, out);
    free(data);
    if (st) {
        char label[96];
        image_source_label(source, label, sizeof label);
        return vlm_error_prefix(st, "%s", label);
    }
    return VLM_OK;
}

static vlm_status decode_whole(const uint8_t *data, size_t size, void *ctx, vlm_image **out) {
    (void)ctx;
    return vlm_image_decode_memory(data, size, out);
}

vlm_status vlm_image_load(const char *source, vlm_image **out) {
    if (!out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_image_load: out is NULL");
    *out = NULL;
    if (!source || !*source) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_image_load: empty source");
    return image_source_decode(source, decode_whole, NULL, out);
}
