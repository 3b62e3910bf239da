/*
 * vlm.h — the public C API of vlm, a vision-language model runtime.
 *
 * The one header an application needs. Every object is an opaque handle;
 * every fallible call returns a vlm_status and, on failure, leaves a human
 * readable message in vlm_last_error() (per thread). Memory that vlm hands
 * to the caller (strings, id arrays) is released with vlm_free().
 *
 * Typical use mirrors mlx-vlm's load -> apply_chat_template -> generate:
 *
 *   vlm_model *m;  vlm_model_load("path/or/org/name", NULL, &m);
 *   char *prompt;  vlm_apply_chat_template(m, "Describe this image.", NULL, 1, &prompt);
 *   vlm_generate_params p = vlm_generate_defaults();
 *   const char *images[] = {"cat.jpg"};
 *   vlm_generate(m, prompt, images, 1, &p, on_text, user, &stats);
 */
#ifndef VLM_H
#define VLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VLM_VERSION_MAJOR 0
#define VLM_VERSION_MINOR 1
#define VLM_VERSION_PATCH 0
#define VLM_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define VLM_API __attribute__((visibility("default")))
#else
#define VLM_API
#endif

/* ---- status and errors ------------------------------------------------ */

typedef enum vlm_status {
    VLM_OK = 0,
    VLM_ERR_INVALID_ARGUMENT, /* a caller passed something unusable        */
    VLM_ERR_IO,               /* a file or URL could not be read/written   */
    VLM_ERR_FORMAT,           /* a file's contents are malformed/corrupt    */
    VLM_ERR_UNSUPPORTED,      /* valid, but not supported (yet)             */
    VLM_ERR_OUT_OF_MEMORY,
    VLM_ERR_LIMIT,            /* a safety limit was hit (size, time, depth) */
    VLM_ERR_TEMPLATE,         /* a chat template failed or raised           */
    VLM_ERR_NOT_FOUND,        /* a named thing (tensor, token, file) absent */
    VLM_ERR_CANCELLED,        /* a callback asked to stop                   */
    VLM_ERR_INTERNAL
} vlm_status;

/* Message describing the last failure on this thread ("" if none). */
VLM_API const char *vlm_last_error(void);
/* Short constant name of a status code, e.g. "VLM_ERR_FORMAT". */
VLM_API const char *vlm_status_name(vlm_status status);
VLM_API const char *vlm_version(void);
/* Release memory returned by vlm (strings, id arrays). NULL is fine. */
VLM_API void vlm_free(void *ptr);
/* Threads used by compute kernels; 0 = all cores (the default). */
VLM_API void vlm_set_num_threads(int n);
VLM_API int vlm_get_num_threads(void);
/* Matmul precision, process-wide. Default (false): the language model's
 * 4/8-bit quantized weights are multiplied with int8-quantized activations
 * in decode and prefill (8-bit: prefill steps under 40 tokens); fast, with
 * ~1e-3 relative difference in the logits; the vision tower stays float32.
 * true: exact float32 activations, as the reference implementation
 * computes (golden tests, `vlm logits`). The environment variable
 * VLM_PRECISE=1 makes true the initial value. Set it before loading a
 * model: on x86-64 a model loaded in fast mode holds its 4-bit codes
 * regrouped for the integer kernels, and precise mode then reads the
 * original codes again (more memory); in one loaded in precise mode, its
 * 4-bit weights keep the float32 path if fast mode is turned on later. */
VLM_API void vlm_set_precise(bool precise);

/* ---- tokenizer (tokenizer.json) ------------------------------------- */

typedef struct vlm_tokenizer vlm_tokenizer;

/* Load tokenizer.json (+ tokenizer_config.json, special_tokens_map.json,
 * added_tokens.json when present) from a folder. */
VLM_API vlm_status vlm_tokenizer_load(const char *dir, vlm_tokenizer **out);
VLM_API void vlm_tokenizer_free(vlm_tokenizer *tok);
/* Encode UTF-8 text. add_special applies the post-processor (BOS etc.).
 * *ids is allocated (vlm_free). */
VLM_API vlm_status vlm_tokenizer_encode(const vlm_tokenizer *tok, const char *text, size_t len,
                                        bool add_special, int32_t **ids, size_t *n_ids);
/* Decode ids to UTF-8 text (allocated, vlm_free), as transformers'
 * tokenizer.decode(ids, skip_special_tokens=...) does (unknown ids are
 * dropped; a decoded U+0000 ends the C string). Invalid UTF-8 given to
 * encode is first replaced by U+FFFD per maximal invalid subpart, as
 * Rust's from_utf8_lossy / Python's errors="replace" would before the
 * Hugging Face library sees it. */
VLM_API vlm_status vlm_tokenizer_decode(const vlm_tokenizer *tok, const int32_t *ids, size_t n_ids,
                                        bool skip_special, char **text);
/* -1 when the token does not exist. */
VLM_API int32_t vlm_tokenizer_token_to_id(const vlm_tokenizer *tok, const char *token);
/* NULL when the id has no token. The string is owned by the tokenizer. */
VLM_API const char *vlm_tokenizer_id_to_token(const vlm_tokenizer *tok, int32_t id);
VLM_API size_t vlm_tokenizer_vocab_size(const vlm_tokenizer *tok);
VLM_API bool vlm_tokenizer_is_special(const vlm_tokenizer *tok, int32_t id);
/* Special ids from the tokenizer files; -1 when absent. */
VLM_API int32_t vlm_tokenizer_bos_id(const vlm_tokenizer *tok);
VLM_API int32_t vlm_tokenizer_eos_id(const vlm_tokenizer *tok);
VLM_API int32_t vlm_tokenizer_pad_id(const vlm_tokenizer *tok);
/* Token strings (owned by the tokenizer; NULL when absent). */
VLM_API const char *vlm_tokenizer_bos_token(const vlm_tokenizer *tok);
VLM_API const char *vlm_tokenizer_eos_token(const vlm_tokenizer *tok);
/* Every end-of-sequence id: the tokenizer's eos plus generation_config.json's
 * eos_token_id (number or list) when the folder has one. *ids is owned by
 * the tokenizer; returns the count. */
VLM_API size_t vlm_tokenizer_eos_ids(const vlm_tokenizer *tok, const int32_t **ids);
/* Id of a named special token from tokenizer_config.json ("image_token",
 * "video_token", "boi_token", "eoi_token", "pad_token", ...), -1 if absent. */
VLM_API int32_t vlm_tokenizer_special_id(const vlm_tokenizer *tok, const char *name);

/* Incremental detokenizer: fed one id at a time, emits only complete UTF-8
 * text; the concatenation of everything emitted (plus flush) equals
 * vlm_tokenizer_decode of all ids. */
typedef struct vlm_detokenizer vlm_detokenizer;
VLM_API vlm_status vlm_detokenizer_new(const vlm_tokenizer *tok, bool skip_special,
                                       vlm_detokenizer **out);
/* *text points to the newly completed text (may be ""), valid until the
 * next call on this detokenizer. */
VLM_API vlm_status vlm_detokenizer_push(vlm_detokenizer *d, int32_t id, const char **text);
VLM_API vlm_status vlm_detokenizer_flush(vlm_detokenizer *d, const char **text);
VLM_API void vlm_detokenizer_free(vlm_detokenizer *d);

/* ---- chat templates (Jinja) ------------------------------------------ */

typedef struct vlm_template vlm_template;

/* Compile template source. name is used in error messages. */
VLM_API vlm_status vlm_template_compile(const char *source, const char *name, vlm_template **out);
/* Find and compile a folder's template as transformers does:
 * chat_template.jinja, chat_template.json, tokenizer_config.json. */
VLM_API vlm_status vlm_template_load_dir(const char *dir, vlm_template **out);
VLM_API void vlm_template_free(vlm_template *t);
/* Render with variables given as one JSON object (messages, tools,
 * add_generation_prompt, bos_token, ... any key). Output allocated. */
VLM_API vlm_status vlm_template_render_json(const vlm_template *t, const char *vars_json,
                                            char **out);
/* Fix the clock strftime_now() sees (Unix seconds, UTC); 0 = real time. */
VLM_API void vlm_template_set_time(vlm_template *t, int64_t unix_seconds);

/* mlx-vlm's apply_chat_template message construction for a model_type:
 * from a prompt, an optional system prompt and an image count, build the
 * messages JSON the family expects (allocated). */
VLM_API vlm_status vlm_build_chat_messages(const char *model_type, const char *prompt,
                                           const char *system, int num_images, char **messages_json);

/* Safety limits for rendering hostile templates; exceeding one fails with
 * VLM_ERR_LIMIT. Zero fields keep the default. */
typedef struct vlm_template_limits {
    size_t max_output_bytes;  /* any rendered text (default 16 MiB) */
    size_t max_memory_bytes;  /* all values of one render (default 256 MiB) */
    uint64_t max_steps;       /* loop iterations + macro calls (default 10M) */
    int max_depth;            /* nested macro calls (default 100) */
    double max_seconds;       /* wall time of one render (default 10 s) */
} vlm_template_limits;
VLM_API void vlm_template_set_limits(vlm_template *t, const vlm_template_limits *limits);
/* bos_token / eos_token a render gets unless its variables set them
 * (vlm_template_load_dir takes them from tokenizer_config.json). NULL unsets. */
VLM_API vlm_status vlm_template_set_special_tokens(vlm_template *t, const char *bos_token,
                                                   const char *eos_token);
/* mlx-vlm's apply_chat_template for one prompt: vlm_build_chat_messages,
 * then render with add_generation_prompt=true and enable_thinking=false
 * (plus extra_vars_json, an object, may be NULL). Families mlx-vlm feeds
 * raw text (paligemma, florence2) get that text; t == NULL gives mlx-vlm's
 * plain-prompt fallback for folders without a template. Output allocated. */
VLM_API vlm_status vlm_template_apply(const vlm_template *t, const char *model_type,
                                      const char *prompt, const char *system, int num_images,
                                      const char *extra_vars_json, char **out);

/* ---- images ----------------------------------------------------------- */

/* A decoded 8-bit RGB image, row-major [height][width][3]. */
typedef struct vlm_image {
    int width, height;
    uint8_t *rgb;
} vlm_image;

/* Load from a file path, http(s) URL, data: URL or bare base64, decode,
 * apply EXIF orientation, convert to RGB as PIL does. */
VLM_API vlm_status vlm_image_load(const char *source, vlm_image **out);
VLM_API vlm_status vlm_image_decode_memory(const void *data, size_t size, vlm_image **out);
/* Wrap raw pixels (channels 3 = RGB, 4 = RGBA, alpha dropped). Copies. */
VLM_API vlm_status vlm_image_from_pixels(const uint8_t *pixels, int width, int height,
                                         int channels, vlm_image **out);
VLM_API void vlm_image_free(vlm_image *img);
/* Refuse images with more pixels than this (PIL's 2 * 89478485 default). */
VLM_API void vlm_image_set_max_pixels(uint64_t max_pixels);

/* ---- models ----------------------------------------------------------- */

typedef struct vlm_model vlm_model;

typedef struct vlm_load_options {
    int num_threads; /* 0 = all cores */
} vlm_load_options;

/* path: a model folder, or an "org/name" repo id found in the local
 * Hugging Face cache. opts may be NULL. */
VLM_API vlm_status vlm_model_load(const char *path, const vlm_load_options *opts, vlm_model **out);
VLM_API void vlm_model_free(vlm_model *m);
VLM_API const char *vlm_model_type(const vlm_model *m);
VLM_API const vlm_tokenizer *vlm_model_tokenizer(const vlm_model *m);

/* Render the model's chat template for a user prompt with num_images
 * images (mlx-vlm apply_chat_template, add_generation_prompt=true).
 * system may be NULL. Output allocated. */
VLM_API vlm_status vlm_apply_chat_template(const vlm_model *m, const char *prompt,
                                           const char *system, int num_images, char **out);

typedef struct vlm_logit_bias {
    int32_t token;
    float bias;
} vlm_logit_bias;

typedef struct vlm_generate_params {
    int max_tokens;               /* default 256 */
    float temperature;            /* 0 = greedy (default 0) */
    float top_p;                  /* 1 = off */
    int top_k;                    /* 0 = off */
    float min_p;                  /* 0 = off */
    float repetition_penalty;     /* 1 = off */
    int repetition_context_size;  /* default 20 */
    float presence_penalty;       /* 0 = off */
    float frequency_penalty;      /* 0 = off */
    const vlm_logit_bias *logit_bias;
    size_t n_logit_bias;
    uint64_t seed;                /* 0 = from time */
    int prefill_step_size;        /* tokens per prefill chunk, default 2048 */
    const char *const *stop;      /* stop strings */
    size_t n_stop;
} vlm_generate_params;

VLM_API vlm_generate_params vlm_generate_defaults(void);

typedef struct vlm_generate_stats {
    size_t prompt_tokens;
    double prompt_tps;       /* prefill tokens per second */
    size_t generation_tokens;
    double generation_tps;   /* decode tokens per second */
    double image_encode_ms;
    double ttft_ms;
    double peak_memory_mb;   /* peak resident set size, MB (10^6 bytes) */
    const char *finish_reason; /* "stop" (EOS or stop string), "length", "cancelled" (callback) */
} vlm_generate_stats;

/* Called with each newly completed piece of text; return false to stop. */
typedef bool (*vlm_text_callback)(const char *text, void *user);

/* Generate from an already rendered prompt (see vlm_apply_chat_template)
 * and images (paths/URLs/data URLs). stats may be NULL. The streamed text
 * leaves out special tokens; an EOS id (config.json + generation_config.json)
 * or a stop string ends generation and is not part of the text. */
VLM_API vlm_status vlm_generate(vlm_model *m, const char *prompt, const char *const *images,
                                size_t n_images, const vlm_generate_params *params,
                                vlm_text_callback on_text, void *user, vlm_generate_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* VLM_H */
