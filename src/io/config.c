/*
 * config.c — loading config.json (+ generation_config.json) and typed,
 * defaulted look-ups at dotted paths; MLX quantization settings.
 * See config.h for the merge rule and the quantization format.
 */
#include "io/config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

/* Config and index files are kilobytes; refuse anything absurd. */
#define CONFIG_MAX_BYTES (64L * 1024 * 1024)
#define CONFIG_MAX_PATH_SEGMENT 256

vlm_status config_parse_file(const char *path, cJSON **out) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return vlm_error(errno == ENOENT ? VLM_ERR_NOT_FOUND : VLM_ERR_IO, "%s: cannot open", path);
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || size > CONFIG_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return vlm_error(VLM_ERR_LIMIT, "%s: unreadable or larger than %ld bytes", path, CONFIG_MAX_BYTES);
    }
    char *text = vlm_malloc((size_t)size + 1);
    size_t got = text ? fread(text, 1, (size_t)size, f) : 0;
    fclose(f);
    if (!text) return VLM_ERR_OUT_OF_MEMORY;
    if (got != (size_t)size) {
        free(text);
        return vlm_error(VLM_ERR_IO, "%s: read failed", path);
    }
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(text, (size_t)size, &end, 0);
    vlm_status st = VLM_OK;
    if (!*out) st = vlm_error(VLM_ERR_FORMAT, "%s: invalid JSON near byte %td", path, (end ? end : text) - text);
    free(text);
    return st;
}

/* mlx-vlm: a truthy generation_config eos_token_id replaces config's. */
static vlm_status merge_generation_config(cJSON *config, const char *path) {
    if (access(path, F_OK) != 0) return VLM_OK;
    cJSON *gen;
    if (config_parse_file(path, &gen) != VLM_OK) {   /* ignored, as mlx-vlm does */
        vlm_error_clear();
        return VLM_OK;
    }
    cJSON *eos = cJSON_GetObjectItemCaseSensitive(gen, "eos_token_id");
    int truthy = (cJSON_IsNumber(eos) && eos->valuedouble != 0) ||
                 (cJSON_IsArray(eos) && cJSON_GetArraySize(eos) > 0);
    vlm_status st = VLM_OK;
    if (truthy) {
        cJSON *copy = cJSON_Duplicate(eos, 1);
        if (!copy || (cJSON_GetObjectItemCaseSensitive(config, "eos_token_id")
                          ? !cJSON_ReplaceItemInObjectCaseSensitive(config, "eos_token_id", copy)
                          : !cJSON_AddItemToObject(config, "eos_token_id", copy))) {
            cJSON_Delete(copy);
            st = vlm_error(VLM_ERR_OUT_OF_MEMORY, "%s: out of memory merging eos_token_id", path);
        }
    }
    cJSON_Delete(gen);
    return st;
}

vlm_status config_load(const char *dir, cJSON **out) {
    *out = NULL;
    size_t n = strlen(dir) + 32;
    char *path = vlm_malloc(n);
    if (!path) return VLM_ERR_OUT_OF_MEMORY;
    snprintf(path, n, "%s/config.json", dir);
    cJSON *config;
    vlm_status st = config_parse_file(path, &config);
    if (!st && !cJSON_IsObject(config)) st = vlm_error(VLM_ERR_FORMAT, "%s: not a JSON object", path);
    if (!st) {
        snprintf(path, n, "%s/generation_config.json", dir);
        st = merge_generation_config(config, path);
    }
    free(path);
    if (st) cJSON_Delete(config);
    else *out = config;
    return st;
}

/* ---- dotted-path look-ups ----------------------------------------------- */

const cJSON *config_get(const cJSON *root, const char *path) {
    const cJSON *node = root;
    while (node && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        char key[CONFIG_MAX_PATH_SEGMENT];
        if (len >= sizeof key) return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, key) : NULL;
        path += len + (dot != NULL);
    }
    return node;
}

/* A JSON number (or bool) that is a whole value representable as int64. */
static int json_int(const cJSON *v, int64_t *out) {
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return 1;
    }
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= -9.2e18 && d <= 9.2e18) || d != floor(d)) return 0;
    *out = (int64_t)d;
    return 1;
}

int64_t config_int(const cJSON *root, const char *path, int64_t def) {
    int64_t v;
    return json_int(config_get(root, path), &v) ? v : def;
}

double config_float(const cJSON *root, const char *path, double def) {
    const cJSON *v = config_get(root, path);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

const char *config_string(const cJSON *root, const char *path, const char *def) {
    const cJSON *v = config_get(root, path);
    return cJSON_IsString(v) ? v->valuestring : def;
}

int config_bool(const cJSON *root, const char *path, int def) {
    const cJSON *v = config_get(root, path);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

vlm_status config_require_int(const cJSON *root, const char *path, int64_t *out) {
    const cJSON *v = config_get(root, path);
    if (!v) return vlm_error(VLM_ERR_NOT_FOUND, "config: \"%s\" is missing", path);
    if (!json_int(v, out)) return vlm_error(VLM_ERR_FORMAT, "config: \"%s\" is not an integer", path);
    return VLM_OK;
}

/* An int or a list of ints -> allocated array. */
static vlm_status json_int_list(const cJSON *v, const char *what, int64_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v)) return VLM_OK;
    size_t count = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
    int64_t *ids = vlm_malloc(count * sizeof *ids);
    if (!ids) return VLM_ERR_OUT_OF_MEMORY;
    const cJSON *item = cJSON_IsArray(v) ? v->child : v;
    for (size_t i = 0; i < count; i++, item = item->next)
        if (cJSON_IsBool(item) || !json_int(item, &ids[i])) {
            free(ids);
            return vlm_error(VLM_ERR_FORMAT, "config: \"%s\" must be an integer or a list of integers",
                             what);
        }
    *out = ids;
    *n = count;
    return VLM_OK;
}

vlm_status config_int_list(const cJSON *root, const char *path, int64_t **out, size_t *n) {
    return json_int_list(config_get(root, path), path, out, n);
}

const cJSON *config_text_get(const cJSON *root, const char *key) {
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    const cJSON *v = cJSON_IsObject(text) ? config_get(text, key) : NULL;
    return v ? v : config_get(root, key);
}

int64_t config_text_int(const cJSON *root, const char *key, int64_t def) {
    int64_t v;
    return json_int(config_text_get(root, key), &v) ? v : def;
}

double config_text_float(const cJSON *root, const char *key, double def) {
    const cJSON *v = config_text_get(root, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

vlm_status config_eos_ids(const cJSON *root, int32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    int64_t *wide;
    size_t count;
    const cJSON *eos = config_get(root, "eos_token_id");
    if (!eos || cJSON_IsNull(eos)) eos = config_get(root, "text_config.eos_token_id");
    vlm_status st = json_int_list(eos, "eos_token_id", &wide, &count);
    if (st || !count) return st;
    int32_t *narrow = vlm_malloc(count * sizeof *narrow);
    for (size_t i = 0; narrow && i < count; i++) {
        if (wide[i] < 0 || wide[i] > INT32_MAX) {
            free(narrow);
            free(wide);
            return vlm_error(VLM_ERR_FORMAT, "config: eos_token_id %lld out of range", (long long)wide[i]);
        }
        narrow[i] = (int32_t)wide[i];
    }
    free(wide);
    if (!narrow) return VLM_ERR_OUT_OF_MEMORY;
    *ids = narrow;
    *n = count;
    return VLM_OK;
}

/* ---- MLX quantization ----------------------------------------------------- */

static int valid_bits(int64_t b) { return b == 2 || b == 3 || b == 4 || b == 5 || b == 6 || b == 8; }
static int valid_group(int64_t g) { return g == 32 || g == 64 || g == 128; }

/* bits/group_size of one quantization dict (global or per-module). */
static vlm_status read_quant_dict(const cJSON *d, const char *what, int *bits, int *group) {
    int64_t b, g;
    const char *mode = config_string(d, "mode", "affine");
    if (strcmp(mode, "affine") != 0)
        return vlm_error(VLM_ERR_UNSUPPORTED, "config: %s: quantization mode \"%s\" (only affine)", what, mode);
    if (!json_int(cJSON_GetObjectItemCaseSensitive(d, "bits"), &b) || !valid_bits(b))
        return vlm_error(VLM_ERR_FORMAT, "config: %s: \"bits\" must be 2, 3, 4, 5, 6 or 8", what);
    if (!json_int(cJSON_GetObjectItemCaseSensitive(d, "group_size"), &g) || !valid_group(g))
        return vlm_error(VLM_ERR_FORMAT, "config: %s: \"group_size\" must be 32, 64 or 128", what);
    *bits = (int)b;
    *group = (int)g;
    return VLM_OK;
}

vlm_status config_quantization(const cJSON *root, vlm_quant_config *q) {
    memset(q, 0, sizeof *q);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "quantization");
    const char *key = "quantization";
    if (!d) {
        d = cJSON_GetObjectItemCaseSensitive(root, "quantization_config");
        key = "quantization_config";
    }
    if (!d || cJSON_IsNull(d)) return VLM_OK;
    if (!cJSON_IsObject(d)) return vlm_error(VLM_ERR_FORMAT, "config: \"%s\" is not an object", key);
    vlm_status st = read_quant_dict(d, key, &q->bits, &q->group_size);
    if (st) return st;
    q->overrides = d;
    return VLM_OK;
}

vlm_status quant_for_module(const vlm_quant_config *q, const char *module, int *bits, int *group_size) {
    *bits = q ? q->bits : 0;
    *group_size = q ? q->group_size : 0;
    const cJSON *o = q && q->overrides ? cJSON_GetObjectItemCaseSensitive(q->overrides, module) : NULL;
    if (!o) return VLM_OK;
    if (cJSON_IsFalse(o)) {
        *bits = *group_size = 0;
        return VLM_OK;
    }
    if (!cJSON_IsObject(o))
        return vlm_error(VLM_ERR_FORMAT, "config: quantization override for '%s' must be an object or false",
                         module);
    return read_quant_dict(o, module, bits, group_size);
}
