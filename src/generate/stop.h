/*
 * stop.h — when generation ends: EOS token ids and stop strings.
 *
 * EOS ids come as lists (config.json and generation_config.json may each
 * give an int or a list); an EOS token ends generation and its text is not
 * emitted, as in mlx-vlm.
 *
 * Stop strings may straddle token boundaries, so streamed text passes
 * through a stop_filter: text that could still be the beginning of a stop
 * string is held back until the next piece decides it. When a stop string
 * appears, the text before it is released and everything from the match on
 * is dropped. The concatenation of everything released equals the full text
 * cut at the first stop string.
 */
#ifndef VLM_GENERATE_STOP_H
#define VLM_GENERATE_STOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vlm.h"

bool stop_is_eos(const int32_t *eos_ids, size_t n_eos, int32_t token);

typedef struct stop_filter {
    char **stops;      /* copies of the non-empty stop strings */
    size_t n_stops;
    char *buf;         /* held-back text followed by the newest piece */
    size_t held, cap;
    char *out;         /* released text, NUL-terminated */
    size_t out_cap;
    bool stopped;
} stop_filter;

vlm_status stop_filter_init(stop_filter *f, const char *const *stops, size_t n_stops);
void stop_filter_free(stop_filter *f);

/* Feed the next piece of text. *released points to the text that is now
 * safe to emit (NUL-terminated, possibly ""), valid until the next call.
 * *stopped becomes true once a stop string has matched; later pushes
 * release nothing. */
vlm_status stop_filter_push(stop_filter *f, const char *text, const char **released, bool *stopped);
/* End of generation: release whatever is still held back. */
vlm_status stop_filter_finish(stop_filter *f, const char **released);

#endif
