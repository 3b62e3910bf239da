/*
 * test_template_messages.c — mlx-vlm's message construction per model
 * family. fixtures/templates/message_cases.json was produced by running
 * mlx-vlm's own prompt_utils.py (make_message_cases.py): for each
 * model_type, prompt, optional system prompt and 0-2 images, the message
 * list apply_chat_template builds and what it returns without a chat
 * template. vlm_build_chat_messages / vlm_template_apply must match.
 */
#include <cjson/cJSON.h>

#include "test.h"

#define DIR "fixtures/templates/"

static const char *str_field(const cJSON *c, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_mlx_vlm_message_cases(void) {
    char *text = test_read_file(DIR "message_cases.json", NULL);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        const char *type = str_field(c, "model_type"), *prompt = str_field(c, "prompt"),
                   *system = str_field(c, "system"), *want = str_field(c, "messages"),
                   *error = str_field(c, "error"), *applied = str_field(c, "applied_without_template");
        int images = cJSON_GetObjectItemCaseSensitive(c, "num_images")->valueint;
        char *got = NULL;
        vlm_status st = vlm_build_chat_messages(type, prompt, system, images, &got);
        if (want) {
            CHECKF(st == VLM_OK && !strcmp(got, want), "%s sys=%s n=%d:\n  got  %s\n  want %s", type,
                   system ? "yes" : "no", images, st ? vlm_last_error() : got, want);
            char *out = NULL;
            st = vlm_template_apply(NULL, type, prompt, system, images, NULL, &out);
            CHECKF(st == VLM_OK && !strcmp(out, applied), "%s apply without template:\n  got  [%s]\n  want [%s]",
                   type, st ? vlm_last_error() : out, applied);
            vlm_free(out);
        } else {
            CHECKF(st == VLM_ERR_INVALID_ARGUMENT && strstr(vlm_last_error(), error), "%s n=%d: want error %s", type,
                   images, error);
        }
        vlm_free(got);
        n++;
    }
    CHECK(n >= 100);
    cJSON_Delete(doc);
}

/* Rendering through a real family template (Qwen2-VL's). */
static void test_apply_with_template(void) {
    char *src = test_read_file(DIR "qwen2_vl.jinja", NULL);
    vlm_template *t = NULL;
    CHECK_OK(vlm_template_compile(src, "qwen2_vl", &t));
    free(src);
    char *out = NULL;
    CHECK_OK(vlm_template_apply(t, "qwen2_vl", "What is this?", "Be brief.", 2, NULL, &out));
    CHECK(out && !strcmp(out, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"
                              "<|vision_start|><|image_pad|><|vision_end|><|vision_start|><|image_pad|><|vision_end|>"
                              "What is this?<|im_end|>\n<|im_start|>assistant\n"));
    vlm_free(out);
    /* extra variables reach the template (Qwen2-VL's add_vision_id) */
    CHECK_OK(vlm_template_apply(t, "qwen2_vl", "Hi", NULL, 1, "{\"add_vision_id\": true}", &out));
    CHECK(out && strstr(out, "user\nPicture 1: <|vision_start|>"));
    vlm_free(out);
    CHECK(vlm_template_apply(t, "qwen2_vl", "Hi", NULL, 1, "[1]", &out) == VLM_ERR_INVALID_ARGUMENT);
    vlm_template_free(t);
}

void run_tests(void) {
    RUN(test_mlx_vlm_message_cases);
    RUN(test_apply_with_template);
}
