/*
 * config.h — a model folder's config.json, merged with generation_config.json
 * the way mlx-vlm's load_config does, and typed look-ups into it.
 *
 * Merge rule (mlx_vlm/utils.py load_config): when generation_config.json
 * exists, parses, and has a truthy "eos_token_id" (an int or a list), that
 * value replaces config.json's "eos_token_id". Nothing else is merged; an
 * unparsable generation_config.json is ignored, as mlx-vlm does.
 *
 * Look-ups take dotted paths ("vision_config.depth",
 * "rope_scaling.mrope_section"). The config_text_* variants read a text-model
 * key from "text_config" first and fall back to the top level (Qwen2-VL keeps
 * text dims at the top level, Gemma 3 / LLaVA under text_config).
 *
 * Quantization: MLX writes "quantization" (and a copy "quantization_config")
 * {"group_size", "bits", "mode"}; any other key is a module path whose value
 * is its own {"group_size", "bits"} dict or false (left unquantized).
 */
#ifndef VLM_IO_CONFIG_H
#define VLM_IO_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "vlm.h"

struct cJSON;

/* Parse dir/config.json (+ dir/generation_config.json). *out is freed with
 * cJSON_Delete. A missing or malformed config.json is an error naming it. */
vlm_status config_load(const char *dir, struct cJSON **out);
/* Parse one JSON file (size-capped). */
vlm_status config_parse_file(const char *path, struct cJSON **out);

/* The item at a dotted path, or NULL. */
const struct cJSON *config_get(const struct cJSON *root, const char *path);
/* Typed reads with a default when the key is absent or has another type.
 * Integers accept whole-valued JSON numbers; booleans read as 0/1. */
int64_t config_int(const struct cJSON *root, const char *path, int64_t def);
double config_float(const struct cJSON *root, const char *path, double def);
const char *config_string(const struct cJSON *root, const char *path, const char *def);
int config_bool(const struct cJSON *root, const char *path, int def);
/* Required integer: VLM_ERR_NOT_FOUND / VLM_ERR_FORMAT naming the key. */
vlm_status config_require_int(const struct cJSON *root, const char *path, int64_t *out);
/* An int or a list of ints at path, copied to an allocated array (vlm_free).
 * Absent: *n = 0, *out = NULL, VLM_OK. Non-integer entries: VLM_ERR_FORMAT. */
vlm_status config_int_list(const struct cJSON *root, const char *path, int64_t **out, size_t *n);

/* text_config.<key>, else top-level <key>, else def. */
const struct cJSON *config_text_get(const struct cJSON *root, const char *key);
int64_t config_text_int(const struct cJSON *root, const char *key, int64_t def);
double config_text_float(const struct cJSON *root, const char *key, double def);

/* EOS ids: top-level "eos_token_id" (after the generation_config merge),
 * else text_config.eos_token_id; an int or a list. Allocated (vlm_free);
 * none found: *n = 0, *ids = NULL. */
vlm_status config_eos_ids(const struct cJSON *root, int32_t **ids, size_t *n);

/* ---- MLX quantization --------------------------------------------------- */

typedef struct vlm_quant_config {
    int bits;          /* 0 when the config declares no quantization */
    int group_size;
    const struct cJSON *overrides; /* the quantization object (borrowed), or NULL */
} vlm_quant_config;

/* Read "quantization" (else "quantization_config"). No such key: bits = 0.
 * Unsupported mode (not "affine"), or bits/group_size out of range:
 * VLM_ERR_UNSUPPORTED / VLM_ERR_FORMAT. Borrowed from root: keep root alive. */
vlm_status config_quantization(const struct cJSON *root, vlm_quant_config *q);
/* Settings for one module path (e.g. "language_model.model.layers.0.mlp.up_proj"):
 * the per-module override when present (false => *bits = 0), else the
 * global ones. Returns VLM_ERR_FORMAT when the override is malformed. */
vlm_status quant_for_module(const vlm_quant_config *q, const char *module, int *bits, int *group_size);

#endif
