/*
 * chat_messages.h — internal helpers around mlx-vlm's message construction
 * (prompt_utils.py) shared by the public API in chat_messages.c and
 * chat_template.c.
 */
#ifndef VLM_TEXT_CHAT_MESSAGES_H
#define VLM_TEXT_CHAT_MESSAGES_H

#include <stdbool.h>

#include "vlm.h"

/* True for families mlx-vlm hands the bare prompt text instead of a
 * rendered chat template (apply_chat_template returns messages[-1]). */
bool chat_model_uses_raw_prompt(const char *model_type);
/* mlx-vlm's _messages_to_plain_prompt: the fallback text for a folder
 * without a chat template. messages_json is a JSON array. */
vlm_status chat_plain_prompt(const char *messages_json, bool add_generation_prompt, char **out);

#endif
