/*
 * source_url.c — download an image over http(s) with libcurl, bounded so a
 * slow, huge or looping server cannot hang or exhaust the process:
 * connect and total timeouts, a stall detector, a byte cap, at most a few
 * redirects (http/https only), and HTTP errors reported with their code.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "image/source.h"

enum {
    URL_CONNECT_TIMEOUT_S = 10,
    URL_TOTAL_TIMEOUT_S = 60,
    URL_STALL_SECONDS = 15,
    URL_MAX_REDIRECTS = 5,
};

typedef struct download {
    uint8_t *data;
    size_t size, cap;
    int too_big, no_memory;
} download;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user) {
    download *d = user;
    size_t n = size * nmemb;
    if (n > IMAGE_MAX_SOURCE_BYTES - d->size) {
        d->too_big = 1;
        return 0;
    }
    if (d->size + n > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 65536;
        while (cap < d->size + n) cap *= 2;
        uint8_t *p = realloc(d->data, cap);
        if (!p) {
            d->no_memory = 1;
            return 0;
        }
        d->data = p;
        d->cap = cap;
    }
    memcpy(d->data + d->size, ptr, n);
    d->size += n;
    return n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void configure(CURL *curl, const char *url, download *d, char *errbuf) {
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)URL_MAX_REDIRECTS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)URL_CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)URL_TOTAL_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)URL_STALL_SECONDS);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)IMAGE_MAX_SOURCE_BYTES);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "vlm/" VLM_VERSION_STRING);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

static vlm_status transfer_status(CURL *curl, CURLcode rc, const download *d, const char *url,
                                  const char *errbuf) {
    if (d->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return vlm_error(VLM_ERR_LIMIT, "%s: download exceeds the %zu-byte limit", url,
                         IMAGE_MAX_SOURCE_BYTES);
    if (d->no_memory) return vlm_error(VLM_ERR_OUT_OF_MEMORY, "%s: out of memory", url);
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return vlm_error(VLM_ERR_LIMIT, "%s: timed out (%s)", url, errbuf[0] ? errbuf : "timeout");
    if (rc == CURLE_TOO_MANY_REDIRECTS)
        return vlm_error(VLM_ERR_LIMIT, "%s: more than %d redirects", url, URL_MAX_REDIRECTS);
    if (rc != CURLE_OK)
        return vlm_error(VLM_ERR_IO, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 400) return vlm_error(VLM_ERR_IO, "%s: HTTP status %ld", url, code);
    return VLM_OK;
}

vlm_status image_fetch_url(const char *url, uint8_t **data, size_t *size) {
    pthread_once(&curl_once, curl_init_once);
    CURL *curl = curl_easy_init();
    if (!curl) return vlm_error(VLM_ERR_INTERNAL, "%s: cannot initialise libcurl", url);
    download d = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    configure(curl, url, &d, errbuf);
    CURLcode rc = curl_easy_perform(curl);
    vlm_status st = transfer_status(curl, rc, &d, url, errbuf);
    curl_easy_cleanup(curl);
    if (st) {
        free(d.data);
        return st;
    }
    *data = d.data;
    *size = d.size;
    return VLM_OK;
}
