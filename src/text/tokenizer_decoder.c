/*
 * tokenizer_decoder.c — tokenizer.json "decoder": turning token strings
 * back into text (ByteLevel, ByteFallback, Fuse, Replace, Strip,
 * Metaspace, BPEDecoder, Sequence), each a transformation of the list of
 * token strings as tokenizers' Decoder::decode_chain, joined at the end;
 * plus transformers' clean_up_tokenization.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"
#include "text/tokenizer_utf8.h"

#define MAX_DEPTH 16

/* ---- loading ---- */

static vlm_status copy_string(const tj_node *n, char **out, const char *what) {
    if (!tj_str(n)) return vlm_error(VLM_ERR_FORMAT, "decoder %s: missing string field", what);
    *out = vlm_malloc(n->len + 1);
    if (!*out) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(*out, n->v.str, n->len + 1);
    return VLM_OK;
}

static vlm_status single_char(const tj_node *n, uint32_t dflt, uint32_t *out, const char *what) {
    const char *s = tj_str(n);
    if (!s) {
        *out = dflt;
        return VLM_OK;
    }
    size_t i = 0;
    if (n->len == 0 || (*out = utf8_next(s, &i), i != n->len))
        return vlm_error(VLM_ERR_FORMAT, "decoder %s: expected one character", what);
    return VLM_OK;
}

static vlm_status add_step(tok_decoder *d, const tj_node *node, int depth);

static vlm_status step_from_json(const tj_node *node, tok_decoder_step *s, tok_decoder *d) {
    const char *type = tj_str(tj_get(node, "type"));
    memset(s, 0, sizeof *s);
    if (!type) return vlm_error(VLM_ERR_FORMAT, "decoder without a \"type\"");
    if (strcmp(type, "ByteLevel") == 0) s->type = DEC_BYTE_LEVEL;
    else if (strcmp(type, "ByteFallback") == 0) s->type = DEC_BYTE_FALLBACK, d->has_byte_fallback = true;
    else if (strcmp(type, "Fuse") == 0) s->type = DEC_FUSE;
    else if (strcmp(type, "Replace") == 0) {
        s->type = DEC_REPLACE;
        vlm_status st = copy_string(tj_get(node, "content"), &s->content, type);
        return st ? st : tok_pattern_from_json(tj_get(node, "pattern"), &s->pattern, "decoder Replace");
    } else if (strcmp(type, "Strip") == 0) {
        s->type = DEC_STRIP;
        const tj_node *start = tj_get(node, "start"), *stop = tj_get(node, "stop");
        if ((start && (!tj_is(start, TJ_NUMBER) || start->v.num < 0)) || (stop && (!tj_is(stop, TJ_NUMBER) || stop->v.num < 0)))
            return vlm_error(VLM_ERR_FORMAT, "decoder Strip: start/stop must be counts");
        s->strip_start = start ? (size_t)start->v.num : 0;
        s->strip_stop = stop ? (size_t)stop->v.num : 0;
        return single_char(tj_get(node, "content"), ' ', &s->strip_char, type);
    } else if (strcmp(type, "Metaspace") == 0) {
        s->type = DEC_METASPACE;
        vlm_status st = single_char(tj_get(node, "replacement"), 0x2581, &s->replacement, type);
        return st ? st : tok_parse_prepend_scheme(node, &s->prepend_scheme);
    } else if (strcmp(type, "BPEDecoder") == 0) {
        s->type = DEC_BPE_SUFFIX;
        const tj_node *suffix = tj_get(node, "suffix");
        if (!suffix) {
            s->content = vlm_strdup("</w>");
            return s->content ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
        }
        return copy_string(suffix, &s->content, type);
    } else {
        return vlm_error(VLM_ERR_UNSUPPORTED, "decoder type \"%s\" is not supported yet", type);
    }
    return VLM_OK;
}

static vlm_status add_step(tok_decoder *d, const tj_node *node, int depth) {
    if (depth > MAX_DEPTH) return vlm_error(VLM_ERR_LIMIT, "decoder nesting too deep");
    const char *type = tj_str(tj_get(node, "type"));
    if (type && strcmp(type, "Sequence") == 0) {
        const tj_node *list = tj_get(node, "decoders");
        if (!tj_is(list, TJ_ARRAY)) return vlm_error(VLM_ERR_FORMAT, "decoder Sequence needs \"decoders\"");
        for (const tj_node *c = list->v.child; c; c = c->next) {
            vlm_status st = add_step(d, c, depth + 1);
            if (st) return st;
        }
        return VLM_OK;
    }
    tok_decoder_step *steps = vlm_realloc(d->steps, (d->n_steps + 1) * sizeof *steps);
    if (!steps) return VLM_ERR_OUT_OF_MEMORY;
    d->steps = steps;
    vlm_status st = step_from_json(node, &steps[d->n_steps], d);
    d->n_steps++; /* counted even on failure so that free releases it */
    return st;
}

vlm_status tok_decoder_from_json(const tj_node *node, tok_decoder *out) {
    memset(out, 0, sizeof *out);
    if (!node || node->type == TJ_NULL) return VLM_OK;
    out->present = true;
    return add_step(out, node, 0);
}

void tok_decoder_free(tok_decoder *d) {
    for (size_t i = 0; i < d->n_steps; i++) {
        tok_pattern_free(&d->steps[i].pattern);
        free(d->steps[i].content);
    }
    free(d->steps);
    memset(d, 0, sizeof *d);
}

/* ---- the steps: each reads tokens `in` and writes `out` ---- */

static vlm_status byte_level(const tok_pieces *in, tok_pieces *out) {
    tok_buf bytes = {0};
    vlm_status st = VLM_OK;
    for (size_t t = 0; !st && t < in->n; t++) {
        const char *s = tok_piece_str(in, t);
        size_t len = in->items[t].len, start = bytes.len;
        bool all_mapped = true;
        if ((st = tok_buf_reserve(&bytes, len))) break;
        for (size_t i = 0; i < len && all_mapped;) {
            int b = byte_level_byte(utf8_next(s, &i));
            if (b < 0) all_mapped = false;
            else bytes.data[bytes.len++] = (char)b;
        }
        if (!all_mapped) { /* a token outside the alphabet stays as it is */
            bytes.len = start;
            st = tok_buf_append(&bytes, s, len);
        }
    }
    if (!st && (st = tok_buf_reserve(&out->text, bytes.len * 3)) == VLM_OK) {
        size_t start = out->text.len;
        out->text.len += utf8_repair(bytes.data ? bytes.data : "", bytes.len, out->text.data + start);
        out->text.data[out->text.len] = 0;
        st = tok_pieces_close(out, start, false);
    }
    tok_buf_free(&bytes);
    return st;
}

/* "<0xNN>" -> NN, or -1. */
static int fallback_byte(const char *s, size_t len) {
    if (len != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* A run of byte tokens becomes its UTF-8 text, or one U+FFFD per byte
 * when the run is not valid UTF-8 (tokenizers' ByteFallback). */
static vlm_status flush_bytes(tok_buf *run, tok_pieces *out) {
    vlm_status st = VLM_OK;
    if (!run->len) return VLM_OK;
    if (utf8_is_valid(run->data, run->len)) st = tok_pieces_push(out, run->data, run->len, false);
    else
        for (size_t i = 0; !st && i < run->len; i++) st = tok_pieces_push(out, "\xEF\xBF\xBD", 3, false);
    run->len = 0;
    return st;
}

static vlm_status byte_fallback(const tok_pieces *in, tok_pieces *out) {
    tok_buf run = {0};
    vlm_status st = VLM_OK;
    for (size_t t = 0; !st && t < in->n; t++) {
        const char *s = tok_piece_str(in, t);
        int b = fallback_byte(s, in->items[t].len);
        if (b >= 0) {
            char c = (char)b;
            st = tok_buf_append(&run, &c, 1);
            continue;
        }
        if (!(st = flush_bytes(&run, out))) st = tok_pieces_push(out, s, in->items[t].len, false);
    }
    if (!st) st = flush_bytes(&run, out);
    tok_buf_free(&run);
    return st;
}

static vlm_status fuse(const tok_pieces *in, tok_pieces *out) {
    size_t start = out->text.len;
    vlm_status st = tok_buf_append(&out->text, "", 0);
    for (size_t t = 0; !st && t < in->n; t++) st = tok_buf_append(&out->text, tok_piece_str(in, t), in->items[t].len);
    return st ? st : tok_pieces_close(out, start, false);
}

static vlm_status replace(const tok_decoder_step *d, tok_matcher *m, const tok_pieces *in, tok_pieces *out) {
    size_t clen = strlen(d->content);
    for (size_t t = 0; t < in->n; t++) {
        const char *s = tok_piece_str(in, t);
        size_t len = in->items[t].len, pos = 0, ms, me, start = out->text.len;
        vlm_status st = tok_buf_append(&out->text, "", 0);
        while (!st && tok_pattern_find(&d->pattern, m, s, len, pos, &ms, &me)) {
            if (!(st = tok_buf_append(&out->text, s + pos, ms - pos))) st = tok_buf_append(&out->text, d->content, clen);
            pos = me;
        }
        if (st || (st = tok_buf_append(&out->text, s + pos, len - pos)) || (st = tok_pieces_close(out, start, false)))
            return st;
    }
    return VLM_OK;
}

static vlm_status strip(const tok_decoder_step *d, const tok_pieces *in, tok_pieces *out) {
    char c[4];
    size_t clen = utf8_encode(d->strip_char, c);
    for (size_t t = 0; t < in->n; t++) {
        const char *s = tok_piece_str(in, t);
        size_t b = 0, e = in->items[t].len;
        for (size_t k = 0; k < d->strip_start && e - b >= clen && memcmp(s + b, c, clen) == 0; k++) b += clen;
        for (size_t k = 0; k < d->strip_stop && e - b >= clen && memcmp(s + e - clen, c, clen) == 0; k++) e -= clen;
        vlm_status st = tok_pieces_push(out, s + b, e - b, false);
        if (st) return st;
    }
    return VLM_OK;
}

static vlm_status metaspace(const tok_decoder_step *d, const tok_pieces *in, tok_pieces *out) {
    char rep[4];
    size_t rlen = utf8_encode(d->replacement, rep);
    for (size_t t = 0; t < in->n; t++) {
        const char *s = tok_piece_str(in, t);
        size_t len = in->items[t].len, start = out->text.len;
        bool drop = t == 0 && d->prepend_scheme != PREPEND_NEVER;
        vlm_status st = tok_buf_append(&out->text, "", 0);
        for (size_t i = 0; !st && i < len;) {
            if (len - i >= rlen && memcmp(s + i, rep, rlen) == 0) {
                if (!drop) st = tok_buf_append(&out->text, " ", 1);
                i += rlen;
            } else {
                size_t n = utf8_len((unsigned char)s[i]);
                st = tok_buf_append(&out->text, s + i, n);
                i += n;
            }
        }
        if (st || (st = tok_pieces_close(out, start, false))) return st;
    }
    return VLM_OK;
}

/* BPEDecoder: the word-end suffix becomes a space (nothing on the last token). */
static vlm_status bpe_suffix(const tok_decoder_step *d, const tok_pieces *in, tok_pieces *out) {
    size_t slen = strlen(d->content);
    for (size_t t = 0; t < in->n; t++) {
        const char *s = tok_piece_str(in, t);
        size_t len = in->items[t].len, pos = 0, start = out->text.len;
        vlm_status st = tok_buf_append(&out->text, "", 0);
        const char *hit;
        while (!st && slen && pos < len && (hit = memmem(s + pos, len - pos, d->content, slen))) {
            if (!(st = tok_buf_append(&out->text, s + pos, (size_t)(hit - s) - pos)) && t + 1 < in->n)
                st = tok_buf_append(&out->text, " ", 1);
            pos = (size_t)(hit - s) + slen;
        }
        if (st || (st = tok_buf_append(&out->text, s + pos, len - pos)) || (st = tok_pieces_close(out, start, false)))
            return st;
    }
    return VLM_OK;
}

static vlm_status run_step(const tok_decoder_step *d, tok_matcher *m, const tok_pieces *in, tok_pieces *out) {
    switch (d->type) {
    case DEC_BYTE_LEVEL: return byte_level(in, out);
    case DEC_BYTE_FALLBACK: return byte_fallback(in, out);
    case DEC_FUSE: return fuse(in, out);
    case DEC_REPLACE: return replace(d, m, in, out);
    case DEC_STRIP: return strip(d, in, out);
    case DEC_METASPACE: return metaspace(d, in, out);
    case DEC_BPE_SUFFIX: return bpe_suffix(d, in, out);
    }
    return vlm_error(VLM_ERR_INTERNAL, "bad decoder step");
}

vlm_status tok_decode_tokens(const tok_decoder *d, tok_matcher *m, tok_pieces *tokens, tok_pieces *tmp, tok_buf *out) {
    vlm_status st;
    for (size_t i = 0; d->present && i < d->n_steps; i++) {
        tok_pieces_clear(tmp);
        if ((st = run_step(&d->steps[i], m, tokens, tmp))) return st;
        tok_pieces swap = *tokens;
        *tokens = *tmp;
        *tmp = swap;
    }
    for (size_t t = 0; t < tokens->n; t++) {
        if (!d->present && t > 0 && (st = tok_buf_append(out, " ", 1))) return st;
        if ((st = tok_buf_append(out, tok_piece_str(tokens, t), tokens->items[t].len))) return st;
    }
    return tok_buf_append(out, "", 0);
}

/* transformers' clean_up_tokenization: these replacements, in this order,
 * each over the whole text. */
static const char *const CLEANUPS[][2] = {
    {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
    {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};

size_t tok_clean_up_spaces(char *s, size_t len) {
    for (size_t r = 0; r < sizeof CLEANUPS / sizeof *CLEANUPS; r++) {
        const char *from = CLEANUPS[r][0], *to = CLEANUPS[r][1];
        size_t flen = strlen(from), tlen = strlen(to), w = 0;
        for (size_t i = 0; i < len;) {
            if (len - i >= flen && memcmp(s + i, from, flen) == 0) {
                memmove(s + w, to, tlen);
                w += tlen;
                i += flen;
            } else {
                s[w++] = s[i++];
            }
        }
        len = w;
    }
    if (s) s[len] = 0;
    return len;
}
