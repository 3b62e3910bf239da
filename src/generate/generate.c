/*
 * generate.c — vlm_generate: the text-generation loop mlx-vlm's
 * stream_generate runs, over the model interface of src/models/model.h.
 *
 *   prompt text --tokenize--> ids --expand image tokens--> prompt ids
 *   images --model_preprocess_images--> pixel values
 *   prefill (chunks of prefill_step_size, vision features scattered in)
 *   loop: logits -> processors -> sampler -> token
 *         EOS? stop : detokenize -> stop strings -> callback
 *         decode(token) -> logits
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "generate/memory_stats.h"
#include "generate/sampling.h"
#include "generate/stop.h"
#include "models/model.h"

vlm_generate_params vlm_generate_defaults(void) {
    vlm_generate_params p;
    memset(&p, 0, sizeof p);
    p.max_tokens = 256;
    p.temperature = 0.0f;
    p.top_p = 1.0f;
    p.top_k = 0;
    p.min_p = 0.0f;
    p.repetition_penalty = 1.0f;
    p.repetition_context_size = 20;
    p.prefill_step_size = 2048;
    return p;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the prompt --------------------------------------------------------- */

/* mlx-vlm's should_add_special_tokens: the tokenizer's post-processor
 * (BOS etc.) runs, except for families whose chat template writes the
 * markers itself. */
static bool adds_special_tokens(const vlm_model *m) {
    static const char *const template_owns_markers[] = {"gemma3", "gemma3n", "gemma4", "gemma4_unified",
                                                        "laguna"};
    for (size_t i = 0; i < sizeof template_owns_markers / sizeof *template_owns_markers; i++)
        if (m->model_type && !strcmp(m->model_type, template_owns_markers[i])) return m->chat_template == NULL;
    return true;
}

/* Tokenize the rendered prompt, preprocess the images and expand each
 * image placeholder into the tokens its features fill. */
static vlm_status prepare_prompt(vlm_model *m, const char *prompt, const char *const *image_sources,
                                 size_t n_images, model_images *images, int32_t **ids, int64_t *n_ids) {
    int32_t *text_ids = NULL;
    size_t n_text = 0;
    vlm_status st = vlm_tokenizer_encode(m->tokenizer, prompt, strlen(prompt), adds_special_tokens(m),
                                         &text_ids, &n_text);
    if (st) return vlm_error_prefix(st, "tokenizing the prompt");
    if (n_images) {
        if (!image_sources) st = vlm_error(VLM_ERR_INVALID_ARGUMENT, "%zu images announced but none given", n_images);
        else st = model_preprocess_images(m, image_sources, n_images, images);
    }
    if (!st && m->arch->expand_image_tokens)
        st = m->arch->expand_image_tokens(m, text_ids, (int64_t)n_text, images, ids, n_ids);
    else if (!st) {
        *ids = text_ids;
        *n_ids = (int64_t)n_text;
        text_ids = NULL;
    }
    vlm_free(text_ids);
    return st;
}

/* The prompt must leave room for at least one new token in the context. */
static vlm_status fit_context(const vlm_model *m, int64_t n_prompt, int max_tokens, int64_t *n_new) {
    if (n_prompt <= 0) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "the prompt is empty");
    if (m->max_context > 0 && n_prompt >= m->max_context)
        return vlm_error(VLM_ERR_LIMIT, "the prompt is %lld tokens but the model's context holds %lld",
                         (long long)n_prompt, (long long)m->max_context);
    *n_new = max_tokens;
    if (m->max_context > 0 && n_prompt + *n_new > m->max_context) *n_new = m->max_context - n_prompt;
    return VLM_OK;
}

/* ---- the decode loop ---------------------------------------------------- */

typedef struct generation {
    vlm_model *m;
    model_session *session;
    sampler sampler;
    stop_filter stop;
    vlm_detokenizer *detok;
    float *logits;           /* [vocab] next-token logits */
    int32_t *history;        /* prompt ids then generated ids */
    size_t n_history;
    const int32_t *eos;
    size_t n_eos;
    int32_t tokenizer_eos;
    vlm_text_callback on_text;
    void *user;
    bool stopped, cancelled;
} generation;

/* Pass finished text through the stop-string filter to the callback. */
static vlm_status emit(generation *g, const char *text) {
    const char *released = "";
    bool stopped = false;
    vlm_status st = stop_filter_push(&g->stop, text, &released, &stopped);
    if (st) return st;
    if (*released && g->on_text && !g->on_text(released, g->user)) g->cancelled = true;
    g->stopped |= stopped;
    return VLM_OK;
}

static bool is_eos(const generation *g, int32_t token) {
    if (g->n_eos) return stop_is_eos(g->eos, g->n_eos, token);
    return token == g->tokenizer_eos;
}

/* NaN or infinite logits (weights that hold NaN or inf, or activations
 * that overflowed) would sample noise: an error instead. */
static vlm_status check_logits(const generation *g) {
    for (int64_t i = 0; i < g->m->vocab_size; i++)
        if (!isfinite(g->logits[i]))
            return vlm_error(VLM_ERR_FORMAT,
                             "the model's logits after %zu tokens (prompt included) are not finite (token %lld is %f): its weights "
                             "hold NaN or inf values, or its activations overflowed",
                             g->n_history, (long long)i, (double)g->logits[i]);
    return VLM_OK;
}

/* Sample one token from g->logits; record it and stream its text. Sets
 * *done when it is an EOS token or the text hit a stop string. */
static vlm_status take_token(generation *g, int32_t *token, bool *done) {
    vlm_status st = check_logits(g);
    if (st) return st;
    sampler_process_logits(&g->sampler, g->logits, g->history, g->n_history);
    *token = sampler_pick(&g->sampler, g->logits);
    g->history[g->n_history++] = *token;
    if (is_eos(g, *token)) {
        *done = true;
        return VLM_OK;
    }
    const char *text = "";
    st = vlm_detokenizer_push(g->detok, *token, &text);
    if (!st) st = emit(g, text);
    *done = g->stopped || g->cancelled;
    return st;
}

/* End of stream: the detokenizer's and the stop filter's remainders. */
static vlm_status finish_text(generation *g) {
    const char *text = "";
    vlm_status st = vlm_detokenizer_flush(g->detok, &text);
    if (!st && !g->cancelled) st = emit(g, text);
    if (!st && !g->cancelled) st = stop_filter_finish(&g->stop, &text);
    if (!st && !g->cancelled && *text && g->on_text) g->on_text(text, g->user);
    return st;
}

static void generation_free(generation *g) {
    if (g->session) g->m->arch->session_free(g->session);
    sampler_free(&g->sampler);
    stop_filter_free(&g->stop);
    vlm_detokenizer_free(g->detok);
    vlm_free(g->logits);
    vlm_free(g->history);
}

static vlm_status generation_init(generation *g, vlm_model *m, const vlm_generate_params *p, int64_t n_prompt,
                                  int64_t n_new) {
    memset(g, 0, sizeof *g);
    g->m = m;
    g->eos = m->eos_ids;
    g->n_eos = m->n_eos;
    g->tokenizer_eos = vlm_tokenizer_eos_id(m->tokenizer);
    vlm_status st = sampler_init(&g->sampler, p, m->vocab_size);
    if (!st) st = stop_filter_init(&g->stop, p->stop, p->n_stop);
    /* Special tokens are left out of the text, as the e2e manifest's generated_text. */
    if (!st) st = vlm_detokenizer_new(m->tokenizer, true, &g->detok);
    if (!st && !(g->logits = vlm_malloc((size_t)m->vocab_size * sizeof *g->logits))) st = VLM_ERR_OUT_OF_MEMORY;
    if (!st && !(g->history = vlm_malloc((size_t)(n_prompt + n_new) * sizeof *g->history)))
        st = VLM_ERR_OUT_OF_MEMORY;
    if (!st) st = m->arch->session_new(m, n_prompt + n_new, &g->session);
    return st;
}

static vlm_status check_request(const vlm_model *m, const char *prompt, const vlm_generate_params *p) {
    if (!m || !prompt || !p) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_generate: model, prompt and params are required");
    if (!m->arch || !m->tokenizer || m->vocab_size <= 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_generate: the model is not fully loaded");
    if (p->max_tokens < 0) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "max_tokens must be >= 0, got %d", p->max_tokens);
    if (p->prefill_step_size < 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "prefill_step_size must be >= 0, got %d", p->prefill_step_size);
    return VLM_OK;
}

/* Prefill the prompt, then sample and decode until EOS, a stop string, the
 * callback, or n_new tokens; fills the timing fields of out. */
static vlm_status run(generation *g, const int32_t *ids, int64_t n_prompt, const model_images *pixels,
                      int64_t n_new, int64_t chunk, double t_start, vlm_generate_stats *out) {
    const model_arch *arch = g->m->arch;
    /* prefill: the whole prompt (with the images) -> first token's logits */
    double t_prefill = now_seconds(), t_first = t_prefill;
    vlm_status st = arch->prefill(g->session, ids, n_prompt, pixels, chunk, g->logits, 0, &out->image_encode_ms);
    bool ended = false;
    size_t decode_steps = 0;
    for (int64_t i = 0; i < n_new && !ended && !st; i++) {
        int32_t token;
        if (i > 0) {
            st = arch->decode(g->session, g->history[g->n_history - 1], g->logits);
            decode_steps++;
        }
        if (!st) st = take_token(g, &token, &ended);
        if (st) break;
        out->generation_tokens++;
        if (i == 0) {
            t_first = now_seconds();
            out->ttft_ms = (t_first - t_start) * 1e3;
            out->prompt_tps = (double)n_prompt / (t_first - t_prefill);
        }
    }
    double t_end = now_seconds();
    if (decode_steps && t_end > t_first) out->generation_tps = (double)decode_steps / (t_end - t_first);
    if (ended) out->finish_reason = g->cancelled ? "cancelled" : "stop";
    return st ? st : finish_text(g);
}

vlm_status vlm_generate(vlm_model *m, const char *prompt, const char *const *images, size_t n_images,
                        const vlm_generate_params *params, vlm_text_callback on_text, void *user,
                        vlm_generate_stats *stats) {
    double t_start = now_seconds();
    vlm_generate_stats local = {0};
    vlm_generate_stats *out = stats ? stats : &local;
    memset(out, 0, sizeof *out);
    out->finish_reason = "length";
    vlm_status st = check_request(m, prompt, params);
    if (st) return st;

    model_images pixels = {0};
    int32_t *ids = NULL;
    int64_t n_prompt = 0, n_new = 0;
    generation g;
    memset(&g, 0, sizeof g);
    st = prepare_prompt(m, prompt, images, n_images, &pixels, &ids, &n_prompt);
    if (!st) st = fit_context(m, n_prompt, params->max_tokens, &n_new);
    if (!st) st = generation_init(&g, m, params, n_prompt, n_new);
    if (!st) {
        g.on_text = on_text;
        g.user = user;
        memcpy(g.history, ids, (size_t)n_prompt * sizeof *ids);
        g.n_history = (size_t)n_prompt;
        out->prompt_tokens = (size_t)n_prompt;
        if (n_new > 0) st = run(&g, ids, n_prompt, &pixels, n_new, params->prefill_step_size, t_start, out);
    }
    out->peak_memory_mb = peak_rss_mb();
    generation_free(&g);
    model_images_free(&pixels);
    vlm_free(ids);
    return st;
}
