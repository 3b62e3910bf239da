/*
 * registry.c — which architecture implements each config.json model_type.
 * Adding a family = one extern and one line in the table.
 */
#include <string.h>

#include "models/model.h"

extern const model_arch qwen2_vl_arch;
extern const model_arch qwen2_5_vl_arch;

static const model_arch *const registry[] = {
    &qwen2_vl_arch,
    &qwen2_5_vl_arch,
};

const model_arch *model_arch_find(const char *model_type) {
    if (!model_type) return NULL;
    for (size_t i = 0; i < sizeof registry / sizeof *registry; i++)
        if (!strcmp(registry[i]->model_type, model_type)) return registry[i];
    return NULL;
}

const char *model_arch_supported(void) { return "qwen2_vl, qwen2_5_vl"; }
