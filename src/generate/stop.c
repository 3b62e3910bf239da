/*
 * stop.c — EOS ids and the stop-string filter for streamed text (see
 * stop.h).
 */
#include "generate/stop.h"

#include <string.h>

#include "core/error.h"

bool stop_is_eos(const int32_t *eos_ids, size_t n_eos, int32_t token) {
    for (size_t i = 0; i < n_eos; i++)
        if (eos_ids[i] == token) return true;
    return false;
}

vlm_status stop_filter_init(stop_filter *f, const char *const *stops, size_t n_stops) {
    memset(f, 0, sizeof *f);
    if (n_stops && !stops) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "stop strings are NULL");
    f->stops = vlm_calloc(n_stops ? n_stops : 1, sizeof *f->stops);
    if (!f->stops) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n_stops; i++) {
        if (!stops[i]) {
            stop_filter_free(f);
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "stop string %zu is NULL", i);
        }
        if (!stops[i][0]) continue;  /* an empty stop string would stop at once: ignore it */
        if (!(f->stops[f->n_stops++] = vlm_strdup(stops[i]))) {
            stop_filter_free(f);
            return VLM_ERR_OUT_OF_MEMORY;
        }
    }
    return VLM_OK;
}

void stop_filter_free(stop_filter *f) {
    for (size_t i = 0; i < f->n_stops; i++) vlm_free(f->stops[i]);
    vlm_free(f->stops);
    vlm_free(f->buf);
    vlm_free(f->out);
    memset(f, 0, sizeof *f);
}

static vlm_status reserve(char **p, size_t *cap, size_t need) {
    if (need <= *cap) return VLM_OK;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    char *q = vlm_realloc(*p, c);
    if (!q) return VLM_ERR_OUT_OF_MEMORY;
    *p = q;
    *cap = c;
    return VLM_OK;
}

/* Copy n bytes of s into the NUL-terminated output buffer. */
static vlm_status release(stop_filter *f, const char *s, size_t n, const char **released) {
    vlm_status st = reserve(&f->out, &f->out_cap, n + 1);
    if (st) return st;
    memcpy(f->out, s, n);
    f->out[n] = '\0';
    *released = f->out;
    return VLM_OK;
}

/* Earliest position of any stop string in buf[0..n), or n. */
static size_t first_stop(const stop_filter *f, const char *buf, size_t n) {
    size_t best = n;
    for (size_t i = 0; i < f->n_stops; i++) {
        const char *hit = memmem(buf, n, f->stops[i], strlen(f->stops[i]));
        if (hit && (size_t)(hit - buf) < best) best = (size_t)(hit - buf);
    }
    return best;
}

/* Length of the longest suffix of buf[0..n) that is a proper prefix of a
 * stop string: the text that must wait for more. */
static size_t undecided_tail(const stop_filter *f, const char *buf, size_t n) {
    size_t longest = 0;
    for (size_t i = 0; i < f->n_stops; i++) {
        size_t len = strlen(f->stops[i]);
        for (size_t k = len - 1 < n ? len - 1 : n; k > longest; k--)
            if (!memcmp(buf + n - k, f->stops[i], k)) {
                longest = k;
                break;
            }
    }
    return longest;
}

vlm_status stop_filter_push(stop_filter *f, const char *text, const char **released, bool *stopped) {
    *released = "";
    *stopped = f->stopped;
    if (f->stopped || !text || !*text) return VLM_OK;
    size_t add = strlen(text), n = f->held + add;
    vlm_status st = reserve(&f->buf, &f->cap, n);
    if (st) return st;
    memcpy(f->buf + f->held, text, add);
    size_t cut = first_stop(f, f->buf, n);
    if (cut < n) {
        f->stopped = *stopped = true;
        f->held = 0;
        return release(f, f->buf, cut, released);
    }
    size_t keep = undecided_tail(f, f->buf, n);
    if ((st = release(f, f->buf, n - keep, released))) return st;
    memmove(f->buf, f->buf + n - keep, keep);
    f->held = keep;
    return VLM_OK;
}

vlm_status stop_filter_finish(stop_filter *f, const char **released) {
    size_t n = f->held;
    f->held = 0;
    return release(f, f->buf ? f->buf : "", f->stopped ? 0 : n, released);
}
