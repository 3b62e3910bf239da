/*
 * tokenizer_load.c — vlm_tokenizer_load: reads a folder's tokenizer.json
 * (pipeline + BPE model + added tokens) and the transformers side files
 * (tokenizer_config.json, special_tokens_map.json, added_tokens.json,
 * generation_config.json) for special tokens, clean-up and BOS/EOS rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

/* ---- tokenizer.json ---- */

static vlm_status added_token_from_json(const tj_node *n, tok_added_token *t) {
    const tj_node *content = tj_get(n, "content"), *id = tj_get(n, "id");
    if (!tj_str(content) || !tj_is(id, TJ_NUMBER) || id->v.num < 0 || id->v.num > INT32_MAX / 4)
        return vlm_error(VLM_ERR_FORMAT, "added token needs \"content\" and a valid \"id\"");
    t->content = (char *)content->v.str;
    t->len = content->len;
    t->id = (int32_t)id->v.num;
    t->special = tj_bool(tj_get(n, "special"), false);
    t->normalized = tj_bool(tj_get(n, "normalized"), !t->special);
    t->lstrip = tj_bool(tj_get(n, "lstrip"), false);
    t->rstrip = tj_bool(tj_get(n, "rstrip"), false);
    t->single_word = tj_bool(tj_get(n, "single_word"), false);
    return VLM_OK;
}

static vlm_status load_added_tokens(vlm_tokenizer *t, const tj_node *list) {
    if (!list || list->type == TJ_NULL) return VLM_OK;
    if (!tj_is(list, TJ_ARRAY)) return vlm_error(VLM_ERR_FORMAT, "\"added_tokens\" must be a list");
    for (const tj_node *c = list->v.child; c; c = c->next) {
        tok_added_token tok;
        vlm_status st = added_token_from_json(c, &tok);
        if (!st) st = tok_added_add(&t->added, &tok);
        if (st) return vlm_error_prefix(st, "added_tokens");
    }
    return VLM_OK;
}

static bool present(const tj_node *n) { return n && n->type != TJ_NULL; }

/* tj_lazy.ready: the model's vocabulary is read on a thread of its own
 * while the parse steps over the merges and the rest. */
static void start_vocab(void *ctx, const tj_node *node, const char *parent_key) {
    bpe_vocab_job *job = ctx;
    if (!job->node && parent_key && strcmp(parent_key, "model") == 0 && strcmp(node->key, "vocab") == 0 &&
        node->v.raw[0] == '{')
        bpe_vocab_start(job, node);
}

/* The pipeline around the model: normalizer, pre-tokenizer, added
 * tokens, post-processor, decoder. */
static vlm_status load_pipeline(vlm_tokenizer *t, const tj_node *root) {
    vlm_status st = VLM_OK;
    if (present(tj_get(root, "normalizer"))) {
        t->has_normalizer = true;
        st = tok_normalizer_from_json(tj_get(root, "normalizer"), &t->normalizer, 0);
    }
    if (!st && present(tj_get(root, "pre_tokenizer"))) {
        t->has_pretokenizer = true;
        st = tok_pretokenizer_from_json(tj_get(root, "pre_tokenizer"), &t->pretokenizer, 0);
    }
    if (!st) st = load_added_tokens(t, tj_get(root, "added_tokens"));
    if (!st) st = tok_postprocessor_from_json(tj_get(root, "post_processor"), &t->post);
    if (!st) st = tok_decoder_from_json(tj_get(root, "decoder"), &t->decoder);
    return st;
}

/* ---- tokenizer_config.json and friends ---- */

/* A special-token entry: "text" or {"content": "text", ...}. */
static const char *token_text(const tj_node *n) {
    if (tj_str(n)) return n->v.str;
    return tj_str(tj_get(n, "content"));
}

static int32_t id_of(const vlm_tokenizer *t, const char *token) {
    return token ? vlm_tokenizer_token_to_id(t, token) : -1;
}

static vlm_status set_token(char **field, const char *token) {
    if (!token || *field) return VLM_OK;
    *field = vlm_strdup(token);
    return *field ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
}

/* added_tokens_decoder: {"id": {"content": ..., "special": ...}} adds
 * tokens the tokenizer.json lacks (as transformers does). */
static vlm_status config_added_tokens(vlm_tokenizer *t, const tj_node *dec) {
    if (!tj_is(dec, TJ_OBJECT)) return VLM_OK;
    for (const tj_node *c = dec->v.child; c; c = c->next) {
        char *end;
        long id = strtol(c->key, &end, 10);
        const char *content = tj_str(tj_get(c, "content"));
        if (*end || id < 0 || id > INT32_MAX / 4 || !content)
            return vlm_error(VLM_ERR_FORMAT, "tokenizer_config.json: bad added_tokens_decoder entry \"%.20s\"", c->key);
        if (tok_added_by_content(&t->added, content, strlen(content)) || tok_added_by_id(&t->added, (int32_t)id) ||
            vlm_tokenizer_token_to_id(t, content) >= 0)
            continue;
        tok_added_token tok = {.content = (char *)content, .len = strlen(content), .id = (int32_t)id,
                               .special = tj_bool(tj_get(c, "special"), false),
                               .lstrip = tj_bool(tj_get(c, "lstrip"), false),
                               .rstrip = tj_bool(tj_get(c, "rstrip"), false),
                               .single_word = tj_bool(tj_get(c, "single_word"), false)};
        tok.normalized = tj_bool(tj_get(c, "normalized"), !tok.special);
        vlm_status st = tok_added_add(&t->added, &tok);
        if (st) return st;
        if ((st = tok_added_build(&t->added, NULL))) return st; /* refresh id index */
    }
    return VLM_OK;
}

/* Named "*_token" entries (image_token, boi_token, ...) for lookups. */
static vlm_status collect_named(vlm_tokenizer *t, const tj_node *cfg) {
    for (const tj_node *c = cfg->v.child; c; c = c->next) {
        size_t klen = strlen(c->key);
        const char *text = token_text(c);
        if (klen < 6 || strcmp(c->key + klen - 6, "_token") != 0 || !text) continue;
        struct tok_named_id *p = vlm_realloc(t->named, (t->n_named + 1) * sizeof *p);
        if (!p) return VLM_ERR_OUT_OF_MEMORY;
        t->named = p;
        if (!(p[t->n_named].name = vlm_strdup(c->key))) return VLM_ERR_OUT_OF_MEMORY;
        p[t->n_named++].id = id_of(t, text);
    }
    return VLM_OK;
}

/* transformers' LlamaTokenizerFast / GemmaTokenizerFast rebuild the
 * post-processor from add_bos_token / add_eos_token. */
static bool rebuilds_bos_eos(const char *cls) {
    static const char *const classes[] = {"LlamaTokenizer", "LlamaTokenizerFast", "GemmaTokenizer",
                                          "GemmaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast"};
    for (size_t i = 0; cls && i < sizeof classes / sizeof *classes; i++)
        if (strcmp(cls, classes[i]) == 0) return true;
    return false;
}

static vlm_status apply_config(vlm_tokenizer *t, const tj_node *cfg) {
    vlm_status st = config_added_tokens(t, tj_get(cfg, "added_tokens_decoder"));
    if (st) return st;
    if ((st = set_token(&t->bos_token, token_text(tj_get(cfg, "bos_token")))) ||
        (st = set_token(&t->eos_token, token_text(tj_get(cfg, "eos_token")))))
        return st;
    t->pad_id = id_of(t, token_text(tj_get(cfg, "pad_token")));
    t->unk_id = id_of(t, token_text(tj_get(cfg, "unk_token")));
    t->clean_up_spaces = tj_bool(tj_get(cfg, "clean_up_tokenization_spaces"), false);
    if (rebuilds_bos_eos(tj_str(tj_get(cfg, "tokenizer_class")))) {
        int32_t bos = tj_bool(tj_get(cfg, "add_bos_token"), true) ? id_of(t, t->bos_token) : -1;
        int32_t eos = tj_bool(tj_get(cfg, "add_eos_token"), false) ? id_of(t, t->eos_token) : -1;
        if ((st = tok_postprocessor_set_bos_eos(&t->post, bos, eos))) return st;
    }
    return collect_named(t, cfg);
}

/* Apply fn to a side file's root object (nothing when it is absent). */
static vlm_status apply_file(vlm_tokenizer *t, const tok_json_file *f, const char *name,
                             vlm_status (*fn)(vlm_tokenizer *, const tj_node *)) {
    if (!f->doc.root) return VLM_OK;
    return f->doc.root->type == TJ_OBJECT ? fn(t, f->doc.root) : vlm_error(VLM_ERR_FORMAT, "%s: not an object", name);
}

/* Read a side file and apply fn to it. */
static vlm_status with_json_file(vlm_tokenizer *t, const char *dir, const char *name,
                                 vlm_status (*fn)(vlm_tokenizer *, const tj_node *)) {
    tok_json_file f;
    vlm_status st = tok_json_file_read(&f, dir, name);
    if (!st) st = apply_file(t, &f, name, fn);
    tok_json_file_free(&f);
    return st;
}

static vlm_status apply_special_tokens_map(vlm_tokenizer *t, const tj_node *map) {
    vlm_status st = set_token(&t->bos_token, token_text(tj_get(map, "bos_token")));
    if (!st) st = set_token(&t->eos_token, token_text(tj_get(map, "eos_token")));
    if (!st && t->pad_id < 0) t->pad_id = id_of(t, token_text(tj_get(map, "pad_token")));
    return st;
}

static vlm_status apply_added_tokens_json(vlm_tokenizer *t, const tj_node *map) {
    for (const tj_node *c = map->v.child; c; c = c->next) {
        if (!tj_is(c, TJ_NUMBER) || c->v.num < 0 || c->v.num > INT32_MAX / 4)
            return vlm_error(VLM_ERR_FORMAT, "added_tokens.json: bad id for \"%.40s\"", c->key);
        if (vlm_tokenizer_token_to_id(t, c->key) >= 0 || !c->key[0]) continue;
        tok_added_token tok = {.content = (char *)c->key, .len = strlen(c->key), .id = (int32_t)c->v.num,
                               .normalized = true};
        vlm_status st = tok_added_add(&t->added, &tok);
        if (st || (st = tok_added_build(&t->added, NULL))) return st;
    }
    return VLM_OK;
}

static vlm_status push_eos(vlm_tokenizer *t, int32_t id) {
    for (size_t i = 0; i < t->n_eos_ids; i++)
        if (t->eos_ids[i] == id) return VLM_OK;
    int32_t *p = vlm_realloc(t->eos_ids, (t->n_eos_ids + 1) * sizeof *p);
    if (!p) return VLM_ERR_OUT_OF_MEMORY;
    t->eos_ids = p;
    p[t->n_eos_ids++] = id;
    return VLM_OK;
}

static vlm_status apply_generation_config(vlm_tokenizer *t, const tj_node *cfg) {
    const tj_node *eos = tj_get(cfg, "eos_token_id");
    vlm_status st = VLM_OK;
    if (tj_is(eos, TJ_NUMBER)) return push_eos(t, (int32_t)eos->v.num);
    if (!tj_is(eos, TJ_ARRAY)) return VLM_OK;
    for (const tj_node *c = eos->v.child; !st && c; c = c->next)
        if (tj_is(c, TJ_NUMBER) && c->v.num >= 0 && c->v.num <= INT32_MAX) st = push_eos(t, (int32_t)c->v.num);
    return st;
}

static size_t count_vocab(const vlm_tokenizer *t) {
    size_t n = t->bpe.vocab.n_tokens;
    for (size_t i = 0; i < t->added.n; i++)
        if (tok_vocab_find(&t->bpe.vocab, t->added.tokens[i].content, t->added.tokens[i].len) < 0) n++;
    return n;
}

static vlm_status load_config_files(vlm_tokenizer *t, const char *dir, tok_json_prefetch *config) {
    tok_json_file *file;
    vlm_status st = tok_added_build(&t->added, NULL); /* id index for lookups below */
    if (!st) st = tok_json_prefetch_wait(config, &file);
    if (!st) st = apply_file(t, file, "tokenizer_config.json", apply_config);
    if (!st) st = with_json_file(t, dir, "special_tokens_map.json", apply_special_tokens_map);
    if (!st) st = with_json_file(t, dir, "added_tokens.json", apply_added_tokens_json);
    if (!st) {
        t->bos_id = id_of(t, t->bos_token);
        t->eos_id = id_of(t, t->eos_token);
        if (t->eos_id >= 0) st = push_eos(t, t->eos_id);
    }
    if (!st) st = with_json_file(t, dir, "generation_config.json", apply_generation_config);
    if (!st) st = tok_added_build(&t->added, t->has_normalizer ? &t->normalizer : NULL);
    t->vocab_size = count_vocab(t);
    return st;
}

/* The work after the model: the pipeline (errors named after
 * tokenizer.json) and the side files. */
typedef struct load_rest {
    vlm_tokenizer *t;
    const tj_node *root;
    const char *dir;
    tok_json_prefetch *config;
} load_rest;

static vlm_status run_load_rest(void *ctx) {
    load_rest *r = ctx;
    vlm_status st = load_pipeline(r->t, r->root);
    return st ? vlm_error_prefix(st, "tokenizer.json") : load_config_files(r->t, r->dir, r->config);
}

/* Parse tokenizer.json (json[0..len)) and load the model, and with it
 * (next to the merges' resolving, see bpe_side_task) everything else. */
static vlm_status load_all(vlm_tokenizer *t, char *json, size_t len, const char *dir, tok_json_prefetch *config) {
    static const char *const lazy_keys[] = {"vocab", "merges", NULL};
    bpe_vocab_job job = {.node = NULL};
    tj_lazy lazy = {lazy_keys, start_vocab, &job};
    tj_doc doc;
    vlm_status st = tj_parse(json, len, &lazy, "tokenizer.json", &doc);
    if (st) {
        bpe_vocab_discard(&job);
        return st;
    }
    load_rest rest = {t, doc.root, dir, config};
    bpe_side_task side = {.run = run_load_rest, .ctx = &rest};
    if (doc.root->type != TJ_OBJECT) st = vlm_error(VLM_ERR_FORMAT, "tokenizer.json: not a JSON object");
    if (!st && (st = bpe_load(tj_get(doc.root, "model"), &t->bpe, &job, &side))) st = vlm_error_prefix(st, "tokenizer.json");
    bpe_vocab_discard(&job);
    if (!st && side.st) st = vlm_error(side.st, "%s", side.message);
    tj_free(&doc);
    return st;
}

vlm_status vlm_tokenizer_load(const char *dir, vlm_tokenizer **out) {
    if (!dir || !out) return vlm_error(VLM_ERR_INVALID_ARGUMENT, "vlm_tokenizer_load: NULL argument");
    *out = NULL;
    tok_mapped_file json;
    vlm_status st = tok_map_file(dir, "tokenizer.json", &json);
    if (st) return st;
    tok_json_prefetch config;
    tok_json_prefetch_start(&config, dir, "tokenizer_config.json");
    vlm_tokenizer *t = vlm_calloc(1, sizeof *t);
    if (!t) st = VLM_ERR_OUT_OF_MEMORY;
    if (!st) {
        t->bos_id = t->eos_id = t->pad_id = t->unk_id = -1;
        st = load_all(t, json.data, json.len, dir, &config);
    }
    tok_json_prefetch_free(&config);
    tok_unmap_file(&json);
    if (st) {
        vlm_tokenizer_free(t);
        return vlm_error_prefix(st, "loading tokenizer from %s", dir);
    }
    *out = t;
    return VLM_OK;
}
