/*
 * source.h — where image bytes come from: a file path, an http(s) URL, a
 * data: URL (as OpenAI's image_url sends them) or bare base64.
 */
#ifndef VLM_IMAGE_SOURCE_H
#define VLM_IMAGE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "vlm.h"

/* Refuse files and downloads larger than this. */
#define IMAGE_MAX_SOURCE_BYTES ((size_t)256 << 20)

/* The raw bytes of source (allocated, free()). */
vlm_status image_source_read(const char *source, uint8_t **data, size_t *size);

/* Read source and decode its bytes with decode(data, size, ctx, out);
 * failures are prefixed with the source's label. */
typedef vlm_status (*image_bytes_decoder)(const uint8_t *data, size_t size, void *ctx,
                                          vlm_image **out);
vlm_status image_source_decode(const char *source, image_bytes_decoder decode, void *ctx,
                               vlm_image **out);

/* A short, printable name of a source for error messages (data: URLs and
 * base64 can be megabytes): the source itself, or its start and "...". */
void image_source_label(const char *source, char *label, size_t cap);

/* GET an http(s) URL with libcurl: bounded time, size and redirects. */
vlm_status image_fetch_url(const char *url, uint8_t **data, size_t *size);

/* Decode base64 (standard or URL-safe alphabet; whitespace skipped;
 * padding optional). */
vlm_status base64_decode(const char *text, size_t len, uint8_t **out, size_t *out_len);

#endif
