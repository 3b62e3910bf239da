/*
 * model.h — what a loaded model is inside vlm, and the interface every
 * architecture implements (one file per family in src/models/, listed in
 * the registry by config.json's model_type).
 *
 * The generation loop (src/generate/) only talks to this interface:
 * it creates a session (KV cache + position state), prefills the prompt
 * together with the preprocessed images, then decodes one token at a time.
 */
#ifndef VLM_MODELS_MODEL_H
#define VLM_MODELS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "vlm.h"

struct cJSON;
struct st_archive;
struct model_arch;

/* Images after the model's preprocessor: exactly what the vision tower
 * consumes. For Qwen2-VL: pixel_values [sum(t*h*w), C*T*P*P] and one
 * (t, h, w) grid per image. */
typedef struct model_images {
    int n_images;
    float *pixel_values;
    int64_t shape[4];
    int ndim;
    int64_t (*grid_thw)[3];   /* n_images rows, NULL for fixed-size models */
} model_images;

struct vlm_model {
    char *dir;                    /* resolved model folder */
    char *model_type;             /* config.json model_type */
    struct cJSON *config;         /* config.json merged with generation_config.json */
    struct st_archive *weights;   /* mmapped safetensors */
    vlm_tokenizer *tokenizer;
    vlm_template *chat_template;  /* NULL when the folder has none */
    struct image_processor *image_processor; /* NULL for text-only */
    const struct model_arch *arch;
    void *arch_state;             /* the architecture's weights and dims */
    int32_t *eos_ids;             /* from config + generation_config */
    size_t n_eos;
    int64_t vocab_size;
    int64_t max_context;          /* max_position_embeddings or similar */
    int num_threads;
};

typedef struct model_session model_session;  /* defined by each arch */

typedef struct model_arch {
    const char *model_type;
    /* Read dims from m->config and bind weights from m->weights into
     * m->arch_state (no copies of large weights). Errors name the tensor. */
    vlm_status (*load)(vlm_model *m);
    void (*unload)(vlm_model *m);
    /* A fresh KV cache able to hold max_tokens positions. */
    vlm_status (*session_new)(vlm_model *m, int64_t max_tokens, model_session **out);
    void (*session_free)(model_session *s);
    /* Feed the prompt ids (image tokens already expanded) and images; the
     * vision features are scattered into the image-token positions.
     * Processes chunk tokens at a time (chunk <= 0: all at once).
     * logits: n*vocab floats when all_logits, else vocab floats for the
     * last position. image_encode_ms (may be NULL) receives vision time. */
    vlm_status (*prefill)(model_session *s, const int32_t *ids, int64_t n, const model_images *images,
                          int64_t chunk, float *logits, int all_logits, double *image_encode_ms);
    /* Append one token and write the next-token logits (vocab floats). */
    vlm_status (*decode)(model_session *s, int32_t id, float *logits);
    /* Replace each image placeholder token in the rendered prompt ids with
     * the number of image tokens the preprocessed image needs; writes a new
     * id array (allocated). */
    vlm_status (*expand_image_tokens)(const vlm_model *m, const int32_t *ids, int64_t n,
                                      const model_images *images, int32_t **out, int64_t *n_out);
} model_arch;

/* The registry: NULL when model_type is unknown. */
const model_arch *model_arch_find(const char *model_type);
/* Comma-separated list of supported model types (for error messages). */
const char *model_arch_supported(void);

/* Preprocess images (paths/URLs/data URLs) with the model's processor. */
vlm_status model_preprocess_images(const vlm_model *m, const char *const *sources, size_t n,
                                   model_images *out);
void model_images_free(model_images *im);

#endif
