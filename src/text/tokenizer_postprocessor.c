/*
 * tokenizer_postprocessor.c — tokenizer.json "post_processor": what
 * add_special_tokens adds around the encoded text (BOS/EOS/CLS/SEP).
 * TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel (no id
 * change) and Sequence are flattened at load time into one template for a
 * single sequence: a list of "special ids" and "the text" items.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "text/tokenizer.h"

#define MAX_DEPTH 16

static void free_items(tok_post_item *items, size_t n) {
    for (size_t i = 0; i < n; i++) free(items[i].ids);
    free(items);
}

void tok_postprocessor_free(tok_postprocessor *p) {
    free_items(p->items, p->n_items);
    memset(p, 0, sizeof *p);
}

typedef struct item_list {
    tok_post_item *items;
    size_t n;
} item_list;

static vlm_status push_ids_item(item_list *l, const int32_t *ids, size_t n_ids) {
    tok_post_item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    it->ids = vlm_malloc((n_ids ? n_ids : 1) * sizeof *ids);
    if (!it->ids) return VLM_ERR_OUT_OF_MEMORY;
    memcpy(it->ids, ids, n_ids * sizeof *ids);
    it->n_ids = n_ids;
    l->n++;
    return VLM_OK;
}

/* Replace the current template by `outer`, whose sequence items stand for
 * the current template (identity when there is none yet). */
static vlm_status compose(tok_postprocessor *p, item_list *outer) {
    if (!p->items) {
        p->items = outer->items;
        p->n_items = outer->n;
        return VLM_OK;
    }
    size_t n = 0;
    for (size_t i = 0; i < outer->n; i++) n += outer->items[i].is_sequence ? p->n_items : 1;
    item_list out = {vlm_calloc(n ? n : 1, sizeof(tok_post_item)), 0};
    if (!out.items) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = VLM_OK;
    for (size_t i = 0; !st && i < outer->n; i++) {
        if (!outer->items[i].is_sequence) {
            st = push_ids_item(&out, outer->items[i].ids, outer->items[i].n_ids);
            continue;
        }
        for (size_t k = 0; !st && k < p->n_items; k++) {
            if (p->items[k].is_sequence) out.items[out.n++].is_sequence = true;
            else st = push_ids_item(&out, p->items[k].ids, p->items[k].n_ids);
        }
    }
    free_items(outer->items, outer->n);
    if (st) {
        free_items(out.items, out.n);
        return st;
    }
    free_items(p->items, p->n_items);
    p->items = out.items;
    p->n_items = out.n;
    return VLM_OK;
}

static vlm_status special_ids(const tj_node *specials, const char *name, item_list *l) {
    const tj_node *ids = tj_get(tj_get(specials, name), "ids");
    if (!tj_is(ids, TJ_ARRAY))
        return vlm_error(VLM_ERR_FORMAT, "TemplateProcessing: special token \"%.40s\" has no ids", name);
    int32_t buf[64];
    size_t n = 0;
    for (const tj_node *c = ids->v.child; c; c = c->next) {
        if (!tj_is(c, TJ_NUMBER) || c->v.num < 0 || c->v.num > INT32_MAX || n == 64)
            return vlm_error(VLM_ERR_FORMAT, "TemplateProcessing: bad ids for \"%.40s\"", name);
        buf[n++] = (int32_t)c->v.num;
    }
    return push_ids_item(l, buf, n);
}

static vlm_status template_from_json(const tj_node *node, tok_postprocessor *p) {
    const tj_node *single = tj_get(node, "single"), *specials = tj_get(node, "special_tokens");
    if (!tj_is(single, TJ_ARRAY)) return vlm_error(VLM_ERR_FORMAT, "TemplateProcessing: \"single\" must be a list");
    item_list l = {vlm_calloc(single->count ? single->count : 1, sizeof(tok_post_item)), 0};
    if (!l.items) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = VLM_OK;
    for (const tj_node *c = single->v.child; !st && c; c = c->next) {
        const char *special = tj_str(tj_get(tj_get(c, "SpecialToken"), "id"));
        if (special) st = special_ids(specials, special, &l);
        else if (tj_get(c, "Sequence")) l.items[l.n++].is_sequence = true;
        else st = vlm_error(VLM_ERR_FORMAT, "TemplateProcessing: unknown template piece");
    }
    if (st) {
        free_items(l.items, l.n);
        return st;
    }
    return compose(p, &l);
}

/* RobertaProcessing / BertProcessing: {"cls": [token, id], "sep": [token, id]}. */
static vlm_status cls_sep_from_json(const tj_node *node, tok_postprocessor *p) {
    const tj_node *cls = tj_get(node, "cls"), *sep = tj_get(node, "sep");
    if (!tj_is(cls, TJ_ARRAY) || cls->count != 2 || !tj_is(cls->v.child->next, TJ_NUMBER) ||
        !tj_is(sep, TJ_ARRAY) || sep->count != 2 || !tj_is(sep->v.child->next, TJ_NUMBER))
        return vlm_error(VLM_ERR_FORMAT, "post_processor: \"cls\"/\"sep\" must be [token, id]");
    int32_t cls_id = (int32_t)cls->v.child->next->v.num, sep_id = (int32_t)sep->v.child->next->v.num;
    item_list l = {vlm_calloc(3, sizeof(tok_post_item)), 0};
    if (!l.items) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = push_ids_item(&l, &cls_id, 1);
    if (!st) l.items[l.n++].is_sequence = true;
    if (!st) st = push_ids_item(&l, &sep_id, 1);
    if (st) {
        free_items(l.items, l.n);
        return st;
    }
    return compose(p, &l);
}

static vlm_status processor_from_json(const tj_node *node, tok_postprocessor *p, int depth) {
    if (depth > MAX_DEPTH) return vlm_error(VLM_ERR_LIMIT, "post_processor nesting too deep");
    const char *type = tj_str(tj_get(node, "type"));
    if (!type) return vlm_error(VLM_ERR_FORMAT, "post_processor without a \"type\"");
    if (strcmp(type, "ByteLevel") == 0) return VLM_OK;
    if (strcmp(type, "TemplateProcessing") == 0) return template_from_json(node, p);
    if (strcmp(type, "RobertaProcessing") == 0 || strcmp(type, "BertProcessing") == 0)
        return cls_sep_from_json(node, p);
    if (strcmp(type, "Sequence") == 0) {
        const tj_node *list = tj_get(node, "processors");
        if (!tj_is(list, TJ_ARRAY)) return vlm_error(VLM_ERR_FORMAT, "post_processor Sequence needs \"processors\"");
        for (const tj_node *c = list->v.child; c; c = c->next) {
            vlm_status st = processor_from_json(c, p, depth + 1);
            if (st) return st;
        }
        return VLM_OK;
    }
    return vlm_error(VLM_ERR_UNSUPPORTED, "post_processor type \"%s\" is not supported yet", type);
}

vlm_status tok_postprocessor_from_json(const tj_node *node, tok_postprocessor *out) {
    memset(out, 0, sizeof *out);
    if (!node || node->type == TJ_NULL) return VLM_OK;
    vlm_status st = processor_from_json(node, out, 0);
    if (st) tok_postprocessor_free(out);
    return st;
}

vlm_status tok_postprocessor_set_bos_eos(tok_postprocessor *p, int32_t bos, int32_t eos) {
    tok_postprocessor_free(p);
    item_list l = {vlm_calloc(3, sizeof(tok_post_item)), 0};
    if (!l.items) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = bos >= 0 ? push_ids_item(&l, &bos, 1) : VLM_OK;
    if (!st) l.items[l.n++].is_sequence = true;
    if (!st && eos >= 0) st = push_ids_item(&l, &eos, 1);
    if (st) {
        free_items(l.items, l.n);
        return st;
    }
    p->items = l.items;
    p->n_items = l.n;
    return VLM_OK;
}

vlm_status tok_postprocess(const tok_postprocessor *p, int32_t **ids, size_t *n) {
    if (!p->items) return VLM_OK;
    size_t total = 0;
    for (size_t i = 0; i < p->n_items; i++) total += p->items[i].is_sequence ? *n : p->items[i].n_ids;
    int32_t *out = vlm_malloc((total ? total : 1) * sizeof *out);
    if (!out) return VLM_ERR_OUT_OF_MEMORY;
    size_t w = 0;
    for (size_t i = 0; i < p->n_items; i++) {
        const int32_t *src = p->items[i].is_sequence ? *ids : p->items[i].ids;
        size_t cnt = p->items[i].is_sequence ? *n : p->items[i].n_ids;
        if (cnt) memcpy(out + w, src, cnt * sizeof *out);
        w += cnt;
    }
    free(*ids);
    *ids = out;
    *n = w;
    return VLM_OK;
}
