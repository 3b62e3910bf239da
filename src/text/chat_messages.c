/*
 * chat_messages.c — mlx-vlm's apply_chat_template message construction
 * (mlx_vlm/prompt_utils.py, MODEL_CONFIG + MessageFormatter): for each
 * model_type, how a prompt and N images become the message list the
 * family's chat template expects — content lists with {"type": "image"}
 * entries before or after the text, or image tokens written into the
 * text — plus the plain-prompt fallback used when a folder has no template.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "vlm.h"

typedef enum msg_format {
    LIST_WITH_IMAGE,                 /* text, then images */
    LIST_WITH_IMAGE_FIRST,           /* images, then text */
    LIST_WITH_IMAGE_URL_FIRST,       /* image_url items, then text */
    LIST_WITH_IMAGE_TYPE,            /* images first; assistant content flattened */
    LIST_WITH_IMAGE_TYPE_TEXT,
    LIST_WITH_IMAGE_TYPE_TEXT_IMAGE_LAST,
    IMAGE_TOKEN,                     /* "<image>" * n + text */
    IMAGE_TOKEN_PIPE,
    IMAGE_PATCH_TOKEN,
    START_IMAGE_TOKEN,               /* text + "<start_of_image>" * n */
    IMAGE_TOKEN_NEWLINE,
    SINGLE_IMAGE_TOKEN,
    IMAGE_TOKEN_WRAPPED,
    NUMBERED_IMAGE_TOKENS,           /* <|image_1|><|image_2|>text */
    PROMPT_ONLY,
    TEXT_ONLY,
    PROMPT_WITH_IMAGE_TOKEN,         /* "<image>" * n + prompt, no template */
    PROMPT_WITH_START_IMAGE_TOKEN
} msg_format;

typedef struct family {
    const char *model_type;
    msg_format format;
} family;

/* mlx-vlm 0.6.15 MODEL_CONFIG. One deliberate difference: qwen2_vl puts
 * the images first like qwen2_5_vl (mlx-vlm lists it as LIST_WITH_IMAGE,
 * but Qwen's own examples and the reference e2e rendering put the image
 * before the text). */
static const family families[] = {
    {"jina_vlm", IMAGE_TOKEN_PIPE}, {"jvlm", IMAGE_TOKEN_PIPE},
    {"idefics2", LIST_WITH_IMAGE}, {"idefics3", LIST_WITH_IMAGE_FIRST},
    {"lfm2-vl", LIST_WITH_IMAGE_FIRST}, {"lfm2_vl", LIST_WITH_IMAGE_FIRST},
    {"aya_vision", LIST_WITH_IMAGE}, {"cohere2_vision", LIST_WITH_IMAGE},
    {"cohere_compass", LIST_WITH_IMAGE_FIRST}, {"paddleocr_vl", LIST_WITH_IMAGE_FIRST},
    {"qwen2_vl", LIST_WITH_IMAGE_FIRST}, {"qwen2_5_vl", LIST_WITH_IMAGE_FIRST},
    {"zaya1_vl", LIST_WITH_IMAGE_FIRST}, {"qwen3_vl", LIST_WITH_IMAGE_FIRST},
    {"qwen3_vl_moe", LIST_WITH_IMAGE_FIRST}, {"mage_vl", LIST_WITH_IMAGE_FIRST},
    {"qwen3_5", LIST_WITH_IMAGE_FIRST}, {"qwen3_5_moe", LIST_WITH_IMAGE_FIRST},
    {"qwen3_omni_moe", LIST_WITH_IMAGE_FIRST}, {"minicpmo", IMAGE_TOKEN},
    {"minicpmv4_6", IMAGE_TOKEN_WRAPPED}, {"mistral3", LIST_WITH_IMAGE_FIRST},
    {"glm4v", LIST_WITH_IMAGE_FIRST}, {"glm4v_moe", LIST_WITH_IMAGE_FIRST},
    {"glm_ocr", LIST_WITH_IMAGE_FIRST}, {"dots_ocr", LIST_WITH_IMAGE_FIRST},
    {"ernie4_5_moe_vl", LIST_WITH_IMAGE_URL_FIRST}, {"internvl_chat", LIST_WITH_IMAGE_TYPE},
    {"llmjpvl", IMAGE_TOKEN}, {"nemotron_h_nano_omni", LIST_WITH_IMAGE_TYPE},
    {"nemotronh_nano_omni_reasoning_v3", LIST_WITH_IMAGE_TYPE}, {"kimi_vl", LIST_WITH_IMAGE},
    {"kimi_k25", LIST_WITH_IMAGE}, {"kimi_k3", LIST_WITH_IMAGE},
    {"locateanything", LIST_WITH_IMAGE_FIRST}, {"gemma3", START_IMAGE_TOKEN},
    {"gemma3n", LIST_WITH_IMAGE_TYPE_TEXT}, {"gemma4", LIST_WITH_IMAGE_TYPE_TEXT},
    {"gemma4_unified", LIST_WITH_IMAGE_TYPE_TEXT}, {"diffusion_gemma", LIST_WITH_IMAGE_TYPE_TEXT},
    {"llama4", LIST_WITH_IMAGE}, {"smolvlm", LIST_WITH_IMAGE_FIRST},
    {"llava", LIST_WITH_IMAGE}, {"llava_next", LIST_WITH_IMAGE},
    {"granite_vision", LIST_WITH_IMAGE}, {"granite4_vision", LIST_WITH_IMAGE},
    {"mllama", LIST_WITH_IMAGE}, {"pixtral", LIST_WITH_IMAGE_TYPE_TEXT},
    {"molmo2", LIST_WITH_IMAGE_FIRST}, {"molmo_point", LIST_WITH_IMAGE_FIRST},
    {"step3p7", IMAGE_PATCH_TOKEN}, {"minimax_m3_vl", LIST_WITH_IMAGE_FIRST},
    {"muse_glimmer", LIST_WITH_IMAGE_FIRST}, {"llava-qwen2", IMAGE_TOKEN_NEWLINE},
    {"llava_qwen2", IMAGE_TOKEN_NEWLINE}, {"bunny-llama", IMAGE_TOKEN_NEWLINE},
    {"phi3_v", NUMBERED_IMAGE_TOKENS}, {"phi4mm", NUMBERED_IMAGE_TOKENS},
    {"multi_modality", IMAGE_TOKEN}, {"deepseek_vl_v2", IMAGE_TOKEN_NEWLINE},
    {"deepseekocr_2", IMAGE_TOKEN_NEWLINE}, {"deepseekocr", IMAGE_TOKEN_NEWLINE},
    {"unlimited-ocr", SINGLE_IMAGE_TOKEN}, {"phi4-siglip", IMAGE_TOKEN_NEWLINE},
    {"hunyuan_vl", LIST_WITH_IMAGE_FIRST}, {"youtu_vl", LIST_WITH_IMAGE_FIRST},
    {"inkling", LIST_WITH_IMAGE_FIRST}, {"inkling_mm_model", LIST_WITH_IMAGE_FIRST},
    {"florence2", PROMPT_ONLY}, {"plamo2vl", PROMPT_ONLY}, {"molmo", TEXT_ONLY},
    {"moondream2", PROMPT_ONLY}, {"moondream3", PROMPT_ONLY}, {"falcon_ocr", PROMPT_ONLY},
    {"paligemma", PROMPT_WITH_IMAGE_TOKEN}, {"laguna", TEXT_ONLY},
    {"nemotron_labs_diffusion", TEXT_ONLY}, {"deepseek_v4", TEXT_ONLY}, {"hrm_text", TEXT_ONLY},
    {"minimax_m3", TEXT_ONLY},
};

static const char *const single_image_only[] = {"llava_next", "llava-qwen2", "bunny-llama", "paligemma",
                                                "multi_modality", "mllama", "falcon_ocr", NULL};

static const family *find_family(const char *model_type) {
    char lower[64];
    size_t n = strlen(model_type);
    if (n >= sizeof lower) return NULL;
    for (size_t i = 0; i <= n; i++) lower[i] = (char)tolower((unsigned char)model_type[i]);
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        if (!strcmp(families[i].model_type, lower)) return &families[i];
    return NULL;
}

/* Families mlx-vlm hands the bare prompt text instead of a rendered chat
 * template (apply_chat_template returns messages[-1]). */
static bool uses_raw_prompt(const char *model_type) {
    return model_type && (!strcmp(model_type, "paligemma") || !strcmp(model_type, "florence2") ||
                          !strcmp(model_type, "falcon_ocr"));
}

/* MessageBuilder.text_message: {"type": "text", "text": t, "content": t} */
static cJSON *text_item(const char *text) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "type", "text");
    cJSON_AddStringToObject(item, "text", text);
    cJSON_AddStringToObject(item, "content", text);
    return item;
}

static cJSON *typed_item(const char *type) {
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "type", type);
    return item;
}

/* Text with an image token repeated before (or after) it. */
static char *with_tokens(const char *text, const char *token, int count, bool before) {
    size_t tl = strlen(token), n = strlen(text) + tl * (size_t)count + 1;
    char *s = vlm_malloc(n);
    if (!s) return NULL;
    s[0] = '\0';
    if (!before) strcat(s, text);
    for (int i = 0; i < count; i++) strcat(s, token);
    if (before) strcat(s, text);
    return s;
}

static char *numbered_tokens(const char *text, int count) {
    size_t n = strlen(text) + (size_t)count * 24 + 1, len = 0;
    char *s = vlm_malloc(n);
    if (!s) return NULL;
    for (int i = 0; i < count; i++) len += (size_t)snprintf(s + len, n - len, "<|image_%d|>", i + 1);
    snprintf(s + len, n - len, "%s", text);
    return s;
}

static cJSON *string_message(const char *role, char *content) {
    if (!content) return NULL;
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", role);
    cJSON_AddStringToObject(msg, "content", content);
    free(content);
    return msg;
}

/* Prompt-only families: the "message" is the text itself. */
static cJSON *bare_string(char *text) {
    if (!text) return NULL;
    cJSON *s = cJSON_CreateString(text);
    free(text);
    return s;
}

/* MessageFormatter.format_message for one message (get_message_json). */
static cJSON *format_message(msg_format fmt, const char *text, const char *role, int num_images) {
    bool user = !strcmp(role, "user");
    int images = user ? num_images : 0;
    switch (fmt) {
    case LIST_WITH_IMAGE:
    case LIST_WITH_IMAGE_FIRST:
    case LIST_WITH_IMAGE_URL_FIRST:
    case LIST_WITH_IMAGE_TYPE:
    case LIST_WITH_IMAGE_TYPE_TEXT:
    case LIST_WITH_IMAGE_TYPE_TEXT_IMAGE_LAST: {
        bool typed = fmt == LIST_WITH_IMAGE_TYPE || fmt == LIST_WITH_IMAGE_TYPE_TEXT ||
                     fmt == LIST_WITH_IMAGE_TYPE_TEXT_IMAGE_LAST;
        if (typed && !strcmp(role, "assistant")) return string_message(role, vlm_strdup(text));
        bool first = fmt == LIST_WITH_IMAGE_FIRST || fmt == LIST_WITH_IMAGE_URL_FIRST ||
                     fmt == LIST_WITH_IMAGE_TYPE || fmt == LIST_WITH_IMAGE_TYPE_TEXT;
        const char *image_type = fmt == LIST_WITH_IMAGE_URL_FIRST ? "image_url" : "image";
        cJSON *msg = cJSON_CreateObject(), *content = cJSON_CreateArray();
        cJSON_AddStringToObject(msg, "role", role);
        if (!first) cJSON_AddItemToArray(content, text_item(text));
        for (int i = 0; i < images; i++) cJSON_AddItemToArray(content, typed_item(image_type));
        if (first) cJSON_AddItemToArray(content, text_item(text));
        cJSON_AddItemToObject(msg, "content", content);
        return msg;
    }
    case IMAGE_TOKEN: return string_message(role, with_tokens(text, "<image>", images, true));
    case IMAGE_TOKEN_PIPE: return string_message(role, with_tokens(text, "<|image|>", images, true));
    case IMAGE_PATCH_TOKEN: return string_message(role, with_tokens(text, "<im_patch>", images, true));
    case START_IMAGE_TOKEN: return string_message(role, with_tokens(text, "<start_of_image>", images, false));
    case IMAGE_TOKEN_NEWLINE: return string_message(role, with_tokens(text, "<image>\n", images, true));
    case SINGLE_IMAGE_TOKEN: return string_message(role, with_tokens(text, "<image>", images > 0, true));
    case IMAGE_TOKEN_WRAPPED:
        return string_message(role, with_tokens(text, "(<image>./</image>)\n", images, true));
    case NUMBERED_IMAGE_TOKENS: return string_message(role, numbered_tokens(text, images));
    case PROMPT_WITH_IMAGE_TOKEN: return bare_string(with_tokens(text, "<image>", num_images, true));
    case PROMPT_WITH_START_IMAGE_TOKEN: return bare_string(with_tokens(text, "<start_of_image>", num_images, false));
    case PROMPT_ONLY: return bare_string(vlm_strdup(text));
    case TEXT_ONLY: return string_message(role, vlm_strdup(text));
    }
    return NULL;
}

vlm_status vlm_build_chat_messages(const char *model_type, const char *prompt, const char *system,
                                   int num_images, char **messages_json) {
    if (!model_type || !prompt || !messages_json || num_images < 0)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_build_chat_messages: bad arguments");
    *messages_json = NULL;
    const family *fam = find_family(model_type);
    for (size_t i = 0; fam && single_image_only[i]; i++)
        if (num_images > 1 && !strcmp(fam->model_type, single_image_only[i]))
            return vlm_error(VLM_ERR_INVALID_ARGUMENT,
                             "Model %s does not support multi-image chat. Please only use 1 image.", model_type);
    /* model types mlx-vlm does not list are text-only: plain string content */
    msg_format fmt = fam ? fam->format : TEXT_ONLY;
    cJSON *list = cJSON_CreateArray();
    cJSON *sys = system ? format_message(fmt, system, "system", 0) : NULL;
    cJSON *user = format_message(fmt, prompt, "user", num_images);
    if (sys) cJSON_AddItemToArray(list, sys);
    if (user) cJSON_AddItemToArray(list, user);
    if (user && (sys || !system)) *messages_json = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    if (!*messages_json) return vlm_error(VLM_ERR_OUT_OF_MEMORY, "building chat messages: out of memory");
    return VLM_OK;
}

/* ---- plain-prompt fallback (get_chat_template._messages_to_plain_prompt) -- */

static bool is_marker(const char *part) {
    return !strcmp(part, "<image>") || !strcmp(part, "<video>") || !strcmp(part, "<audio>");
}

static const char *item_text(const cJSON *item) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, "text");
    if (cJSON_IsString(t) && t->valuestring[0]) return t->valuestring;
    t = cJSON_GetObjectItemCaseSensitive(item, "content");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static const char *marker_for(const char *type) {
    if (!strcmp(type, "image") || !strcmp(type, "image_url") || !strcmp(type, "input_image")) return "<image>";
    if (!strcmp(type, "audio") || !strcmp(type, "input_audio")) return "<audio>";
    if (!strcmp(type, "video") || !strcmp(type, "input_video") || !strcmp(type, "video_url")) return "<video>";
    return NULL;
}

/* Python str.strip() of ASCII whitespace, in place; returns s. */
static char *strip_in_place(char *s) {
    size_t n = strlen(s), start = 0;
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    while (start < n && isspace((unsigned char)s[start])) start++;
    memmove(s, s + start, n - start + 1);
    return s;
}

static char *flatten_content(const cJSON *content) {
    if (cJSON_IsString(content)) return vlm_strdup(content->valuestring);
    size_t cap = 64, len = 0;
    char *out = vlm_malloc(cap);
    if (!out) return NULL;
    out[0] = '\0';
    bool prev_marker = false;
    const cJSON *item;
    cJSON_ArrayForEach(item, content) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(item, "type");
        const char *t = cJSON_IsString(type) ? type->valuestring : "";
        const char *part = marker_for(t);
        if (!part) part = item_text(item);
        if (!part[0]) continue;
        bool marker = is_marker(part);
        size_t need = len + strlen(part) + 2;
        if (need > cap) {
            while (cap < need) cap *= 2;
            char *nb = realloc(out, cap);
            if (!nb) {
                free(out);
                return NULL;
            }
            out = nb;
        }
        if (prev_marker && !marker && !isspace((unsigned char)part[0])) out[len++] = ' ';
        strcpy(out + len, part);
        len += strlen(part);
        prev_marker = marker;
    }
    return strip_in_place(out);
}

/* mlx-vlm's _messages_to_plain_prompt: the text used when a folder has no
 * chat template. */
static vlm_status plain_prompt(const char *messages_json, bool add_generation_prompt, char **out) {
    cJSON *msgs = cJSON_Parse(messages_json);
    if (!cJSON_IsArray(msgs)) {
        cJSON_Delete(msgs);
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "messages must be a JSON array");
    }
    int n = cJSON_GetArraySize(msgs);
    size_t cap = 256, len = 0;
    char *text = vlm_malloc(cap);
    vlm_status st = text ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
    if (text) text[0] = '\0';
    for (int i = 0; !st && i <= n; i++) {
        const cJSON *m = i < n ? cJSON_GetArrayItem(msgs, i) : NULL;
        const cJSON *role_item = cJSON_GetObjectItemCaseSensitive(m, "role");
        const char *role = cJSON_IsString(role_item) ? role_item->valuestring : "user";
        char *content = !m ? NULL
                        : cJSON_IsString(m) ? vlm_strdup(m->valuestring)
                                            : flatten_content(cJSON_GetObjectItemCaseSensitive(m, "content"));
        if (m && !content) content = vlm_strdup("");
        char line[64] = "";
        if (m && n == 1 && !strcmp(role, "user")) { /* a single user message is the prompt itself */
            free(text);
            text = content;
            break;
        }
        if (!m && !add_generation_prompt) break;
        bool known = !m || !strcmp(role, "system") || !strcmp(role, "user") || !strcmp(role, "assistant") ||
                     !strcmp(role, "tool");
        if (!m) snprintf(line, sizeof line, "Assistant:");
        else if (known) snprintf(line, sizeof line, "%c%s:%s", toupper((unsigned char)role[0]), role + 1,
                                 content[0] ? " " : "");
        size_t need = len + strlen(line) + (content ? strlen(content) : 0) + 2;
        if (need > cap) {
            while (cap < need) cap *= 2;
            char *nb = realloc(text, cap);
            if (!nb) st = vlm_error(VLM_ERR_OUT_OF_MEMORY, "plain prompt: out of memory");
            else text = nb;
        }
        if (!st) {
            len += (size_t)sprintf(text + len, "%s%s%s", len || i ? "\n" : "", line, content ? content : "");
        }
        free(content);
    }
    cJSON_Delete(msgs);
    if (st) {
        free(text);
        return st;
    }
    *out = text ? strip_in_place(text) : vlm_strdup("");
    return *out ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
}

/* ---- apply_chat_template ----------------------------------------------------- */

static vlm_status raw_prompt(const char *messages_json, char **out) {
    cJSON *msgs = cJSON_Parse(messages_json);
    const cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    const cJSON *content = cJSON_IsString(last) ? last : cJSON_GetObjectItemCaseSensitive(last, "content");
    *out = cJSON_IsString(content) ? vlm_strdup(content->valuestring) : NULL;
    cJSON_Delete(msgs);
    return *out ? VLM_OK : vlm_error(VLM_ERR_INTERNAL, "raw prompt: no message text");
}

/* {"messages": [...], "add_generation_prompt": true, "enable_thinking": false, ...extra} */
static vlm_status template_vars(const char *messages_json, const char *extra_vars_json, char **out) {
    cJSON *vars = cJSON_CreateObject(), *extra = NULL;
    cJSON_AddItemToObject(vars, "messages", cJSON_Parse(messages_json));
    cJSON_AddBoolToObject(vars, "add_generation_prompt", true);
    cJSON_AddBoolToObject(vars, "enable_thinking", false);
    if (extra_vars_json) {
        extra = cJSON_Parse(extra_vars_json);
        if (!cJSON_IsObject(extra)) {
            cJSON_Delete(vars);
            cJSON_Delete(extra);
            return vlm_error(VLM_ERR_INVALID_ARGUMENT, "extra template variables must be a JSON object");
        }
        cJSON *item = extra->child;
        while (item) {
            cJSON *next = item->next;
            cJSON_DetachItemViaPointer(extra, item);
            cJSON_DeleteItemFromObjectCaseSensitive(vars, item->string);
            cJSON_AddItemToObject(vars, item->string, item);
            item = next;
        }
        cJSON_Delete(extra);
    }
    *out = cJSON_PrintUnformatted(vars);
    cJSON_Delete(vars);
    return *out ? VLM_OK : vlm_error(VLM_ERR_OUT_OF_MEMORY, "template variables: out of memory");
}

vlm_status vlm_template_apply(const vlm_template *t, const char *model_type, const char *prompt,
                              const char *system, int num_images, const char *extra_vars_json, char **out) {
    if (!out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_template_apply: NULL output");
    *out = NULL;
    char *messages = NULL, *vars = NULL;
    vlm_status st = vlm_build_chat_messages(model_type, prompt, system, num_images, &messages);
    if (st) return st;
    if (uses_raw_prompt(model_type)) st = raw_prompt(messages, out);
    else if (!t) st = plain_prompt(messages, true, out);
    else {
        st = template_vars(messages, extra_vars_json, &vars);
        if (!st) st = vlm_template_render_json(t, vars, out);
    }
    free(messages);
    free(vars);
    return st;
}
