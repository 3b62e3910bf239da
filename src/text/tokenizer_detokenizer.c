/*
 * tokenizer_detokenizer.c — streaming decode for generation: fed one id at
 * a time, emit only text that can no longer change, so that everything
 * emitted (plus the flush) equals vlm_tokenizer_decode of all the ids.
 *
 * Like tokenizers' DecodeStream, it decodes a small window — context ids
 * already emitted, then the new ones — and emits what the window's text
 * adds beyond the context's text. The context is the last emitted ids,
 * extended back until its text is long enough that decoders acting on the
 * first token or first characters (Metaspace, Strip after Fuse) cannot
 * reach the new text. It holds back while:
 *   - the text ends in an incomplete character (U+FFFD at the end);
 *   - the last token is a "<0xNN>" byte and the decoder has ByteFallback:
 *     a byte run decodes as a whole (invalid runs give one U+FFFD per
 *     byte), so it is final only once a non-byte token follows;
 *   - with clean_up_tokenization_spaces, the tail could still be rewritten
 *     by the clean-up (" ." -> ".", " 's" -> "'s", ...): from the first
 *     space of the trailing run of characters that occur in those patterns.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

struct vlm_detokenizer {
    const vlm_tokenizer *tok;
    bool skip_special;
    int32_t *ids;        /* window: context ids, then not yet emitted ones */
    size_t n_ids, cap_ids;
    size_t n_context;    /* ids at the start of the window already emitted */
    tok_buf context;     /* decode of those context ids */
    tok_buf window;      /* decode of the whole window */
    tok_buf held;        /* raw text waiting for the clean-up to settle */
    tok_buf out;         /* returned to the caller */
    size_t min_context;  /* bytes of context text to keep */
};

vlm_status vlm_detokenizer_new(const vlm_tokenizer *tok, bool skip_special, vlm_detokenizer **out) {
    if (!tok || !out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_detokenizer_new: NULL argument");
    *out = vlm_calloc(1, sizeof **out);
    if (!*out) return VLM_ERR_OUT_OF_MEMORY;
    (*out)->tok = tok;
    (*out)->skip_special = skip_special;
    (*out)->min_context = 16;
    for (size_t i = 0; i < tok->decoder.n_steps; i++)
        if (tok->decoder.steps[i].type == DEC_STRIP) (*out)->min_context += 4 * tok->decoder.steps[i].strip_start;
    return VLM_OK;
}

void vlm_detokenizer_free(vlm_detokenizer *d) {
    if (!d) return;
    free(d->ids);
    tok_buf_free(&d->context);
    tok_buf_free(&d->window);
    tok_buf_free(&d->held);
    tok_buf_free(&d->out);
    free(d);
}

static bool is_byte_token(const vlm_tokenizer *t, int32_t id) {
    size_t len;
    const char *s = tok_id_to_token(t, id, &len);
    return s && len == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>';
}

static bool ends_incomplete(const tok_buf *b) {
    return b->len >= 3 && memcmp(b->data + b->len - 3, "\xEF\xBF\xBD", 3) == 0;
}

/* Characters that occur in transformers' clean-up patterns. */
static bool in_cleanup_pattern(char c) { return c && strchr(" '.?!,ntmsver", c) != NULL; }

/* Length of held text that no later token can change under clean-up. */
static size_t settled_length(const tok_buf *held) {
    size_t run = held->len;
    while (run > 0 && in_cleanup_pattern(held->data[run - 1])) run--;
    for (size_t i = run; i < held->len; i++)
        if (held->data[i] == ' ') return i;
    return held->len;
}

/* Move settled held text to the output (cleaned up when configured). */
static vlm_status release(vlm_detokenizer *d, bool all) {
    size_t n = d->tok->clean_up_spaces && !all ? settled_length(&d->held) : d->held.len;
    size_t start = d->out.len;
    vlm_status st = tok_buf_append(&d->out, d->held.data ? d->held.data : "", n);
    if (st) return st;
    if (d->tok->clean_up_spaces) d->out.len = start + tok_clean_up_spaces(d->out.data + start, n);
    if (!d->held.data) return VLM_OK;
    memmove(d->held.data, d->held.data + n, d->held.len - n);
    d->held.len -= n;
    d->held.data[d->held.len] = 0;
    return VLM_OK;
}

/* Decode the window; if it extends the context text, hold the new text
 * and make the window's ids the next context. */
static vlm_status advance(vlm_detokenizer *d, bool final) {
    d->window.len = 0;
    vlm_status st = tok_decode_ids(d->tok, d->ids, d->n_ids, false, false, &d->window);
    if (st) return st;
    bool extends = d->window.len > d->context.len &&
                   memcmp(d->window.data, d->context.data ? d->context.data : "", d->context.len) == 0;
    if (!extends || (!final && ends_incomplete(&d->window))) return VLM_OK;
    st = tok_buf_append(&d->held, d->window.data + d->context.len, d->window.len - d->context.len);
    if (st) return st;
    /* the ids just emitted become the context, with earlier ones while
     * its text is short */
    size_t keep = d->n_context;
    for (;;) {
        d->context.len = 0;
        st = tok_decode_ids(d->tok, d->ids + keep, d->n_ids - keep, false, false, &d->context);
        if (st || keep == 0 || d->context.len >= d->min_context) break;
        keep--;
    }
    memmove(d->ids, d->ids + keep, (d->n_ids - keep) * sizeof *d->ids);
    d->n_ids -= keep;
    d->n_context = d->n_ids;
    return st;
}

vlm_status vlm_detokenizer_push(vlm_detokenizer *d, int32_t id, const char **text) {
    if (!d || !text) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_detokenizer_push: NULL argument");
    d->out.len = 0;
    vlm_status st = tok_buf_append(&d->out, "", 0);
    *text = d->out.data;
    if (st || tok_decode_drops(d->tok, id, d->skip_special)) return st;
    if ((st = tok_ids_append(&d->ids, &d->n_ids, &d->cap_ids, &id, 1))) return st;
    if (d->tok->decoder.has_byte_fallback && is_byte_token(d->tok, id)) return VLM_OK;
    if ((st = advance(d, false)) || (st = release(d, false))) return st;
    *text = d->out.data;
    return VLM_OK;
}

vlm_status vlm_detokenizer_flush(vlm_detokenizer *d, const char **text) {
    if (!d || !text) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_detokenizer_flush: NULL argument");
    d->out.len = 0;
    vlm_status st = tok_buf_append(&d->out, "", 0);
    if (!st && d->n_ids > d->n_context) st = advance(d, true);
    if (!st) st = release(d, true);
    *text = d->out.data;
    return st;
}
