/*
 * cmd_inspect.c — `vlm inspect DIR [--tensors] [--json]`: what a model
 * folder (or a repo id in the local Hugging Face cache) holds — model type, exact parameter count (rule in
 * src/io/inspect.h), bytes per dtype, quantization per module pattern,
 * text and vision dimensions, and optionally every tensor.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "io/config.h"
#include "io/hf_cache.h"
#include "io/inspect.h"
#include "io/safetensors.h"

/* Integer config keys shown for the text model (text_config, else top level)
 * and for the vision tower (vision_config), when present. */
static const char *const text_keys[] = {
    "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_dim",
    "intermediate_size", "vocab_size", "max_position_embeddings", "n_routed_experts",
    "num_experts_per_tok", "moe_intermediate_size"};
static const char *const vision_keys[] = {
    "depth", "num_hidden_layers", "embed_dim", "hidden_size", "num_heads", "num_attention_heads",
    "intermediate_size", "patch_size", "image_size", "spatial_merge_size", "temporal_patch_size"};

typedef struct inspect_options {
    const char *dir;
    int tensors, json;
} inspect_options;

typedef struct model_facts {
    cJSON *config;
    st_archive *weights;
    vlm_quant_config quant;
    inspect_report report;
} model_facts;

static void usage(FILE *out) {
    fputs("usage: vlm inspect DIR [--tensors] [--json]\n"
          "  Describe a model folder (or an org/name repo in the Hugging Face cache):\n"
          "  type, parameters, dtypes, quantization, dims.\n"
          "  --tensors  also list every tensor (name, dtype, shape)\n"
          "  --json     one JSON object on stdout instead of text\n"
          "Parameters count quantized weights unpacked ([out, in]); their .scales and\n"
          ".biases are not parameters.\n",
          out);
}

static int parse_args(int argc, char **argv, inspect_options *o) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--tensors")) o->tensors = 1;
        else if (!strcmp(argv[i], "--json")) o->json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return -1;
        else if (argv[i][0] == '-' || o->dir) return 0;
        else o->dir = argv[i];
    }
    return o->dir != NULL;
}

static vlm_status load_facts(const char *dir, model_facts *f) {
    memset(f, 0, sizeof *f);
    vlm_status st = config_load(dir, &f->config);
    if (!st) st = config_quantization(f->config, &f->quant);
    if (!st) st = st_open_dir(dir, &f->weights);
    if (!st) st = inspect_checkpoint(f->weights, f->quant.bits ? &f->quant : NULL, &f->report);
    return st;
}

static void free_facts(model_facts *f) {
    inspect_report_free(&f->report);
    st_close(f->weights);
    cJSON_Delete(f->config);
}

static const cJSON *vision_item(const cJSON *config, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config, "vision_config"), key);
}

/* ---- text output ----------------------------------------------------------- */

static void print_dims(const char *title, const cJSON *config, const char *const *keys, size_t n,
                       int vision) {
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = vision ? vision_item(config, keys[i]) : config_text_get(config, keys[i]);
        if (!cJSON_IsNumber(v)) continue;
        printf("%s%s %.17g", shown++ ? ", " : title, keys[i], v->valuedouble);
    }
    if (shown) putchar('\n');
}

static void print_groups(const char *title, const inspect_group *g, size_t n) {
    if (n) printf("%s\n", title);
    for (size_t i = 0; i < n; i++) {
        if (g[i].bits) printf("  %s: q%d g%d (x%lld)\n", g[i].pattern, g[i].bits, g[i].group_size,
                              (long long)g[i].count);
        else printf("  %s: %s (x%lld)\n", g[i].pattern, vlm_dtype_name(g[i].dtype), (long long)g[i].count);
    }
}

static void print_shape(const st_tensor *t) {
    putchar('[');
    for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
    putchar(']');
}

static void print_text(const inspect_options *o, const model_facts *f) {
    const cJSON *arch;
    printf("model_type: %s\n", config_string(f->config, "model_type", "(none)"));
    printf("architectures:");
    cJSON_ArrayForEach(arch, cJSON_GetObjectItemCaseSensitive(f->config, "architectures"))
        if (cJSON_IsString(arch)) printf(" %s", arch->valuestring);
    printf("\nparameters: %llu\ntensors: %zu\nbytes:", (unsigned long long)f->report.parameters,
           f->report.n_tensors);
    uint64_t total = 0;
    for (int d = 0; d < VLM_DTYPE_COUNT; d++)
        if (f->report.bytes_by_dtype[d]) {
            printf("%s %s %llu", total ? "," : "", vlm_dtype_name((vlm_dtype)d),
                   (unsigned long long)f->report.bytes_by_dtype[d]);
            total += f->report.bytes_by_dtype[d];
        }
    printf(" (total %llu)\n", (unsigned long long)total);
    if (f->quant.bits) printf("quantization: affine, %d bits, group size %d\n", f->quant.bits, f->quant.group_size);
    else printf("quantization: none declared\n");
    print_groups("quantized modules:", f->report.quantized, f->report.n_quantized);
    print_groups("dense modules:", f->report.dense, f->report.n_dense);
    print_dims("text: ", f->config, text_keys, sizeof text_keys / sizeof *text_keys, 0);
    print_dims("vision: ", f->config, vision_keys, sizeof vision_keys / sizeof *vision_keys, 1);
    if (!o->tensors) return;
    printf("tensor list:\n");
    for (size_t i = 0; i < st_count(f->weights); i++) {
        const st_tensor *t = st_at(f->weights, i);
        printf("  %s %s ", t->name, vlm_dtype_name(t->dtype));
        print_shape(t);
        putchar('\n');
    }
}

/* ---- JSON output ------------------------------------------------------------ */

static cJSON *groups_json(const inspect_group *g, size_t n) {
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < n; i++) {
        cJSON *item = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "pattern", g[i].pattern);
        if (g[i].bits) {
            cJSON_AddNumberToObject(item, "bits", g[i].bits);
            cJSON_AddNumberToObject(item, "group_size", g[i].group_size);
            cJSON_AddStringToObject(item, "scale_dtype", vlm_dtype_name(g[i].dtype));
        } else {
            cJSON_AddStringToObject(item, "dtype", vlm_dtype_name(g[i].dtype));
        }
        cJSON_AddNumberToObject(item, "count", (double)g[i].count);
        cJSON_AddItemToArray(list, item);
    }
    return list;
}

static cJSON *dims_json(const cJSON *config, const char *const *keys, size_t n, int vision) {
    cJSON *dims = cJSON_CreateObject();
    for (size_t i = 0; dims && i < n; i++) {
        const cJSON *v = vision ? vision_item(config, keys[i]) : config_text_get(config, keys[i]);
        if (cJSON_IsNumber(v)) cJSON_AddNumberToObject(dims, keys[i], v->valuedouble);
    }
    return dims;
}

static cJSON *tensors_json(const st_archive *a) {
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < st_count(a); i++) {
        const st_tensor *t = st_at(a, i);
        cJSON *item = cJSON_CreateObject(), *shape = cJSON_CreateArray();
        cJSON_AddStringToObject(item, "name", t->name);
        cJSON_AddStringToObject(item, "dtype", vlm_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
        cJSON_AddItemToObject(item, "shape", shape);
        cJSON_AddItemToArray(list, item);
    }
    return list;
}

static cJSON *facts_json(const inspect_options *o, const model_facts *f) {
    cJSON *j = cJSON_CreateObject(), *bytes = cJSON_CreateObject(), *quant = cJSON_CreateObject();
    const cJSON *archs = cJSON_GetObjectItemCaseSensitive(f->config, "architectures");
    cJSON_AddStringToObject(j, "model_type", config_string(f->config, "model_type", ""));
    cJSON_AddItemToObject(j, "architectures", archs ? cJSON_Duplicate(archs, 1) : cJSON_CreateArray());
    cJSON_AddNumberToObject(j, "parameters", (double)f->report.parameters);
    cJSON_AddNumberToObject(j, "tensor_count", (double)f->report.n_tensors);
    for (int d = 0; d < VLM_DTYPE_COUNT; d++)
        if (f->report.bytes_by_dtype[d])
            cJSON_AddNumberToObject(bytes, vlm_dtype_name((vlm_dtype)d), (double)f->report.bytes_by_dtype[d]);
    cJSON_AddItemToObject(j, "bytes_by_dtype", bytes);
    cJSON_AddNumberToObject(quant, "bits", f->quant.bits);
    cJSON_AddNumberToObject(quant, "group_size", f->quant.group_size);
    cJSON_AddItemToObject(quant, "quantized", groups_json(f->report.quantized, f->report.n_quantized));
    cJSON_AddItemToObject(quant, "dense", groups_json(f->report.dense, f->report.n_dense));
    cJSON_AddItemToObject(j, "quantization", quant);
    cJSON_AddItemToObject(j, "text", dims_json(f->config, text_keys, sizeof text_keys / sizeof *text_keys, 0));
    cJSON_AddItemToObject(j, "vision",
                          dims_json(f->config, vision_keys, sizeof vision_keys / sizeof *vision_keys, 1));
    if (o->tensors) cJSON_AddItemToObject(j, "tensors", tensors_json(f->weights));
    return j;
}

static int print_json(const inspect_options *o, const model_facts *f) {
    cJSON *j = facts_json(o, f);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text) return cli_fail("inspect", "out of memory building JSON");
    puts(text);
    free(text);
    return 0;
}

int cmd_inspect(int argc, char **argv) {
    inspect_options o;
    int parsed = parse_args(argc, argv, &o);
    if (parsed <= 0) {
        usage(parsed < 0 ? stdout : stderr);
        return parsed < 0 ? 0 : 2;
    }
    char *dir = NULL;
    if (hf_resolve_model_path(o.dir, &dir)) return cli_fail("inspect", NULL);
    model_facts f;
    vlm_status st = load_facts(dir, &f);
    int rc = st ? cli_fail("inspect", NULL) : o.json ? print_json(&o, &f) : (print_text(&o, &f), 0);
    free_facts(&f);
    vlm_free(dir);
    return rc;
}
