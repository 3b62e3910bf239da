/*
 * model.c — vlm_model: everything a model folder holds, loaded together.
 *
 * vlm_model_load resolves the folder (a path or a Hugging Face repo id in
 * the local cache), reads config.json (+ generation_config.json), maps the
 * safetensors, loads the tokenizer, chat template and image processor when
 * the folder has them (tokenizer.json, a template, preprocessor_config.json), finds the architecture for model_type in the
 * registry and lets it bind its weights. The public accessors and
 * vlm_apply_chat_template (mlx-vlm's message construction + the folder's
 * Jinja template) live here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "io/config.h"
#include "io/hf_cache.h"
#include "image/processor.h"
#include "io/safetensors.h"
#include "models/model.h"

static int file_exists(const char *dir, const char *name) {
    char path[4096];
    struct stat sb;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return 0;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Tokenizer and chat template are optional: parity tools run without them. */
static vlm_status load_text_side(vlm_model *m) {
    vlm_status st = VLM_OK;
    if (file_exists(m->dir, "tokenizer.json")) st = vlm_tokenizer_load(m->dir, &m->tokenizer);
    if (st) return st;
    st = vlm_template_load_dir(m->dir, &m->chat_template);
    if (st == VLM_ERR_NOT_FOUND) {
        vlm_error_clear();
        m->chat_template = NULL;
        st = VLM_OK;
    }
    return st;
}

static vlm_status load_parts(vlm_model *m) {
    vlm_status st = config_load(m->dir, &m->config);
    if (st) return st;
    const char *type = config_string(m->config, "model_type", NULL);
    if (!type) return vlm_error(VLM_ERR_FORMAT, "config.json has no model_type");
    if (!(m->model_type = vlm_strdup(type))) return VLM_ERR_OUT_OF_MEMORY;
    m->arch = model_arch_find(type);
    if (!m->arch)
        return vlm_error(VLM_ERR_UNSUPPORTED, "model_type '%s' is not supported (supported: %s)",
                         type, model_arch_supported());
    if ((st = config_eos_ids(m->config, &m->eos_ids, &m->n_eos))) return st;
    if ((st = st_open_dir(m->dir, &m->weights))) return st;
    if ((st = load_text_side(m))) return st;
    if (file_exists(m->dir, "preprocessor_config.json") &&
        (st = image_processor_load(m->dir, &m->image_processor)))
        return st;
    return m->arch->load(m);
}

vlm_status vlm_model_load(const char *path, const vlm_load_options *opts, vlm_model **out) {
    if (!out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_model_load: out is NULL");
    *out = NULL;
    if (!path || !*path) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_model_load: no model path");
    vlm_model *m = vlm_calloc(1, sizeof *m);
    if (!m) return VLM_ERR_OUT_OF_MEMORY;
    m->num_threads = opts ? opts->num_threads : 0;
    if (m->num_threads > 0) vlm_set_num_threads(m->num_threads);
    vlm_status st = hf_resolve_model_path(path, &m->dir);
    if (st == VLM_OK) {
        st = load_parts(m);
        if (st) vlm_error_prefix(st, "loading %s", m->dir);
    }
    if (st) {
        vlm_model_free(m);
        return st;
    }
    *out = m;
    return VLM_OK;
}

void vlm_model_free(vlm_model *m) {
    if (!m) return;
    if (m->arch && m->arch->unload) m->arch->unload(m);
    image_processor_free(m->image_processor);
    vlm_template_free(m->chat_template);
    vlm_tokenizer_free(m->tokenizer);
    st_close(m->weights);
    cJSON_Delete(m->config);
    vlm_free(m->eos_ids);
    free(m->model_type);
    vlm_free(m->dir);
    free(m);
}

const char *vlm_model_type(const vlm_model *m) { return m ? m->model_type : NULL; }

const vlm_tokenizer *vlm_model_tokenizer(const vlm_model *m) { return m ? m->tokenizer : NULL; }

/* mlx-vlm's apply_chat_template: the family's message construction, then
 * the folder's template (bos/eos from tokenizer_config.json), or mlx-vlm's
 * plain-prompt fallback when the folder has no template. */
vlm_status vlm_apply_chat_template(const vlm_model *m, const char *prompt, const char *system,
                                   int num_images, char **out) {
    if (!m || !prompt || !out || num_images < 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_apply_chat_template: bad arguments");
    *out = NULL;
    return vlm_template_apply(m->chat_template, m->model_type, prompt, system, num_images, NULL, out);
}
