/*
 * tokenizer.c — the public tokenizer API: encode (added tokens ->
 * normalizer -> pre-tokenizer -> BPE -> post-processor), decode, and the
 * token/id/special-token queries.
 *
 * Invalid UTF-8 input: the Hugging Face library only accepts valid
 * strings (Rust &str; Python and JS strings are converted before they
 * reach it), so bytes that are not UTF-8 are first replaced by U+FFFD per
 * maximal invalid subpart — what Rust's String::from_utf8_lossy, Python's
 * bytes.decode(errors="replace") and JS TextDecoder do — and the result is
 * encoded like any text.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"
#include "text/tokenizer_utf8.h"

/* Everything one encode call needs; nothing is shared between calls, so
 * a tokenizer can encode on many threads at once. */
typedef struct encoder {
    const vlm_tokenizer *tok;
    tok_matcher m;
    bpe_scratch *bpe;
    tok_buf normalized;
    tok_pieces pieces, tmp;
    tok_segment *segs;
    size_t n_segs, cap_segs;
    int32_t *ids;
    size_t n_ids, cap_ids;
} encoder;

static vlm_status push_id(encoder *e, int32_t id) {
    return tok_ids_append(&e->ids, &e->n_ids, &e->cap_ids, &id, 1);
}

/* Pre-tokenize normalized text and run the model on each word. */
static vlm_status encode_words(encoder *e, const char *s, size_t len, size_t start_span) {
    const vlm_tokenizer *t = e->tok;
    tok_pieces_clear(&e->pieces);
    vlm_status st = tok_pieces_push(&e->pieces, s, len, start_span);
    if (!st && t->has_pretokenizer) st = tok_pretokenize(&t->pretokenizer, &e->m, &e->pieces, &e->tmp);
    for (size_t i = 0; !st && i < e->pieces.n; i++)
        st = bpe_tokenize(&t->bpe, e->bpe, tok_piece_str(&e->pieces, i), e->pieces.items[i].len, &e->ids, &e->n_ids,
                          &e->cap_ids);
    return st;
}

/* A stretch of input without raw-matched added tokens: normalize, split
 * out the normalized added tokens, encode the rest. */
static vlm_status encode_text(encoder *e, const char *s, size_t len, size_t span) {
    const vlm_tokenizer *t = e->tok;
    if (t->has_normalizer) {
        vlm_status st = tok_normalize(&t->normalizer, &e->m, s, len, &e->normalized, &span);
        if (st) return st;
        s = e->normalized.data ? e->normalized.data : "";
        len = e->normalized.len;
    }
    if (!t->added.norm_trie.n_nodes) return len ? encode_words(e, s, len, span) : VLM_OK;
    size_t first = e->n_segs; /* sub-segments go after the raw segments */
    vlm_status st = tok_added_split(&t->added, true, s, len, &e->segs, &e->n_segs, &e->cap_segs);
    size_t last = e->n_segs;
    for (size_t i = first; !st && i < last; i++) {
        tok_segment seg = e->segs[i];
        if (seg.id >= 0) st = push_id(e, seg.id);
        else st = encode_words(e, s + seg.start, seg.end - seg.start, seg.start < span ? span - seg.start : 0);
    }
    e->n_segs = first;
    return st;
}

static vlm_status encode_all(encoder *e, const char *text, size_t len) {
    vlm_status st = tok_added_split(&e->tok->added, false, text, len, &e->segs, &e->n_segs, &e->cap_segs);
    size_t n = e->n_segs;
    for (size_t i = 0; !st && i < n; i++) {
        tok_segment seg = e->segs[i];
        if (seg.id >= 0) st = push_id(e, seg.id);
        else st = encode_text(e, text + seg.start, seg.end - seg.start,
                              seg.start == 0 ? utf8_len((unsigned char)text[0]) : 0);
    }
    return st;
}

static void encoder_free(encoder *e) {
    tok_matcher_free(&e->m);
    bpe_scratch_free(e->bpe);
    tok_buf_free(&e->normalized);
    tok_pieces_free(&e->pieces);
    tok_pieces_free(&e->tmp);
    free(e->segs);
    free(e->ids);
}

vlm_status vlm_tokenizer_encode(const vlm_tokenizer *tok, const char *text, size_t len, bool add_special,
                                int32_t **ids, size_t *n_ids) {
    if (!tok || !ids || !n_ids || (!text && len))
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_tokenizer_encode: NULL argument");
    *ids = NULL;
    *n_ids = 0;
    encoder e = {.tok = tok};
    char *repaired = NULL;
    vlm_status st = tok_matcher_init(&e.m);
    if (!st && !(e.bpe = bpe_scratch_new())) st = VLM_ERR_OUT_OF_MEMORY;
    if (!st && !utf8_is_valid(text, len)) {
        if (!(repaired = vlm_malloc(len * 3 + 1))) st = VLM_ERR_OUT_OF_MEMORY;
        else len = utf8_repair(text, len, repaired), text = repaired;
    }
    if (!st) st = encode_all(&e, text ? text : "", len);
    if (!st && add_special) st = tok_postprocess(&tok->post, &e.ids, &e.n_ids);
    free(repaired);
    if (!st) {
        *ids = e.ids ? e.ids : vlm_malloc(sizeof(int32_t));
        *n_ids = e.n_ids;
        e.ids = NULL;
        if (!*ids) st = VLM_ERR_OUT_OF_MEMORY;
    }
    encoder_free(&e);
    return st;
}

/* ---- decoding ---- */

const char *tok_id_to_token(const vlm_tokenizer *t, int32_t id, size_t *len) {
    const tok_added_token *a = tok_added_by_id(&t->added, id);
    if (a) {
        *len = a->len;
        return a->content;
    }
    return tok_vocab_token(&t->bpe.vocab, id, len);
}

bool tok_decode_drops(const vlm_tokenizer *t, int32_t id, bool skip_special) {
    size_t len;
    const char *s = tok_id_to_token(t, id, &len);
    if (!s) return true;
    if (!skip_special) return false;
    const tok_added_token *a = tok_added_by_content(&t->added, s, len);
    return a && a->special;
}

vlm_status tok_decode_ids(const vlm_tokenizer *t, const int32_t *ids, size_t n, bool skip_special, bool clean_up,
                          tok_buf *out) {
    tok_pieces tokens = {0}, tmp = {0};
    tok_matcher m = {0};
    vlm_status st = tok_matcher_init(&m);
    for (size_t i = 0; !st && i < n; i++) {
        size_t len;
        const char *s = tok_id_to_token(t, ids[i], &len);
        if (!tok_decode_drops(t, ids[i], skip_special)) st = tok_pieces_push(&tokens, s, len, false);
    }
    size_t start = out->len;
    if (!st) st = tok_decode_tokens(&t->decoder, &m, &tokens, &tmp, out);
    if (!st && clean_up && t->clean_up_spaces) out->len = start + tok_clean_up_spaces(out->data + start, out->len - start);
    tok_pieces_free(&tokens);
    tok_pieces_free(&tmp);
    tok_matcher_free(&m);
    return st;
}

vlm_status vlm_tokenizer_decode(const vlm_tokenizer *tok, const int32_t *ids, size_t n_ids, bool skip_special,
                                char **text) {
    if (!tok || !text || (!ids && n_ids)) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_tokenizer_decode: NULL argument");
    *text = NULL;
    tok_buf out = {0};
    vlm_status st = tok_decode_ids(tok, ids, n_ids, skip_special, true, &out);
    if (!st && !out.data) st = tok_buf_append(&out, "", 0);
    if (st) {
        tok_buf_free(&out);
        return st;
    }
    *text = out.data;
    return VLM_OK;
}

/* ---- queries ---- */

int32_t vlm_tokenizer_token_to_id(const vlm_tokenizer *tok, const char *token) {
    if (!tok || !token) return -1;
    size_t len = strlen(token);
    const tok_added_token *a = tok_added_by_content(&tok->added, token, len);
    return a ? a->id : tok_vocab_find(&tok->bpe.vocab, token, len);
}

const char *vlm_tokenizer_id_to_token(const vlm_tokenizer *tok, int32_t id) {
    size_t len;
    return tok ? tok_id_to_token(tok, id, &len) : NULL;
}

size_t vlm_tokenizer_vocab_size(const vlm_tokenizer *tok) { return tok ? tok->vocab_size : 0; }

bool vlm_tokenizer_is_special(const vlm_tokenizer *tok, int32_t id) {
    const tok_added_token *a = tok ? tok_added_by_id(&tok->added, id) : NULL;
    return a && a->special;
}

int32_t vlm_tokenizer_bos_id(const vlm_tokenizer *tok) { return tok ? tok->bos_id : -1; }
int32_t vlm_tokenizer_eos_id(const vlm_tokenizer *tok) { return tok ? tok->eos_id : -1; }
int32_t vlm_tokenizer_pad_id(const vlm_tokenizer *tok) { return tok ? tok->pad_id : -1; }
const char *vlm_tokenizer_bos_token(const vlm_tokenizer *tok) { return tok ? tok->bos_token : NULL; }
const char *vlm_tokenizer_eos_token(const vlm_tokenizer *tok) { return tok ? tok->eos_token : NULL; }

size_t vlm_tokenizer_eos_ids(const vlm_tokenizer *tok, const int32_t **ids) {
    if (ids) *ids = tok ? tok->eos_ids : NULL;
    return tok ? tok->n_eos_ids : 0;
}

int32_t vlm_tokenizer_special_id(const vlm_tokenizer *tok, const char *name) {
    for (size_t i = 0; tok && name && i < tok->n_named; i++)
        if (strcmp(tok->named[i].name, name) == 0) return tok->named[i].id;
    return -1;
}

void vlm_tokenizer_free(vlm_tokenizer *tok) {
    if (!tok) return;
    tok_normalizer_free(&tok->normalizer);
    tok_pretokenizer_free(&tok->pretokenizer);
    bpe_free(&tok->bpe);
    tok_added_free(&tok->added);
    tok_postprocessor_free(&tok->post);
    tok_decoder_free(&tok->decoder);
    free(tok->bos_token);
    free(tok->eos_token);
    free(tok->eos_ids);
    for (size_t i = 0; i < tok->n_named; i++) free(tok->named[i].name);
    free(tok->named);
    free(tok);
}
