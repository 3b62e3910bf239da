/*
 * safetensors.c — memory-mapped safetensors checkpoints, one file or a
 * sharded folder (model.safetensors.index.json), validated before use.
 *
 * File layout: an 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 * "__metadata__": {string: string}}, then the data area; offsets are
 * relative to the data area. Nothing in a header is trusted: every check
 * (lengths, JSON, offsets inside the data area, no overlaps, dtype x shape
 * == bytes without overflow, duplicates, rank cap) happens before any
 * tensor is handed out, and each failure names the file and the tensor.
 *
 * Tensor data is not copied and not necessarily aligned (the data area
 * starts at 8 + N, any N): readers must use unaligned-safe loads.
 */
#include "io/safetensors.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/config.h"

/* Real headers are a few hundred kB at most; this bounds what a corrupt
 * length field can make us allocate and parse. */
#define ST_MAX_HEADER (100u * 1024 * 1024)
/* Largest integer a JSON number (a double) holds exactly. */
#define ST_MAX_JSON_INT 9007199254740992.0
#define ST_INDEX_NAME "model.safetensors.index.json"

typedef struct st_file {
    char *path;
    const uint8_t *map;
    size_t size;
    int owns_map;          /* mmapped by us (st_parse callers keep theirs) */
    char **meta;           /* __metadata__ as key, value, key, value... */
    size_t n_meta;
} st_file;

struct st_archive {
    st_file *files;
    int n_files;
    st_tensor *tensors;
    size_t n_tensors, cap_tensors;
    size_t *slots;         /* open-addressing name index: tensor index + 1, 0 = empty */
    size_t n_slots;
};

/* ---- name index --------------------------------------------------------- */

static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static size_t *slot_for(const st_archive *a, const char *name) {
    size_t mask = a->n_slots - 1;
    for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
        size_t *s = &a->slots[i];
        if (!*s || !strcmp(a->tensors[*s - 1].name, name)) return s;
    }
}

static vlm_status rebuild_index(st_archive *a, size_t n_slots) {
    size_t *slots = vlm_calloc(n_slots, sizeof *slots);
    if (!slots) return VLM_ERR_OUT_OF_MEMORY;
    free(a->slots);
    a->slots = slots;
    a->n_slots = n_slots;
    for (size_t i = 0; i < a->n_tensors; i++) *slot_for(a, a->tensors[i].name) = i + 1;
    return VLM_OK;
}

/* Add t (its name already owned by us) to the archive; refuses duplicates. */
static vlm_status add_tensor(st_archive *a, const st_tensor *t) {
    if (a->n_tensors == a->cap_tensors) {
        size_t cap = a->cap_tensors ? a->cap_tensors * 2 : 64;
        st_tensor *grown = vlm_realloc(a->tensors, cap * sizeof *grown);
        if (!grown) return VLM_ERR_OUT_OF_MEMORY;
        a->tensors = grown;
        a->cap_tensors = cap;
    }
    if ((a->n_tensors + 1) * 2 > a->n_slots) {
        vlm_status st = rebuild_index(a, a->n_slots ? a->n_slots * 2 : 128);
        if (st) return st;
    }
    size_t *slot = slot_for(a, t->name);
    if (*slot) {
        const st_tensor *old = &a->tensors[*slot - 1];
        return vlm_error(VLM_ERR_FORMAT, "%s: tensor '%s' defined twice (also in %s)",
                         a->files[t->file_index].path, t->name, a->files[old->file_index].path);
    }
    a->tensors[a->n_tensors++] = *t;
    *slot = a->n_tensors;
    return VLM_OK;
}

/* ---- header validation -------------------------------------------------- */

/* A JSON number that is an exact integer in [0, max]. */
static int json_uint(const cJSON *v, double max, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= max) || d != (double)(uint64_t)d) return 0;
    *out = (uint64_t)d;
    return 1;
}

static vlm_status parse_shape(const char *path, const char *name, const cJSON *shape, st_tensor *t) {
    if (!cJSON_IsArray(shape))
        return vlm_error(VLM_ERR_FORMAT, "%s: tensor '%s': \"shape\" missing or not a list", path, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > ST_MAX_DIMS)
        return vlm_error(VLM_ERR_FORMAT, "%s: tensor '%s': %d dimensions (at most %d supported)", path,
                         name, ndim, ST_MAX_DIMS);
    t->ndim = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t d;
        if (!json_uint(dim, ST_MAX_JSON_INT, &d))
            return vlm_error(VLM_ERR_FORMAT,
                             "%s: tensor '%s': dimension %d is not a non-negative integer", path, name,
                             t->ndim);
        t->shape[t->ndim++] = (int64_t)d;
    }
    return VLM_OK;
}

/* dtype size x product(shape), or an error if it overflows. */
static vlm_status shape_bytes(const char *path, const st_tensor *t, uint64_t *bytes) {
    uint64_t n = vlm_dtype_size(t->dtype);
    for (int i = 0; i < t->ndim; i++) {
        uint64_t d = (uint64_t)t->shape[i];
        if (d && n > UINT64_MAX / d)
            return vlm_error(VLM_ERR_FORMAT, "%s: tensor '%s': shape too large (byte size overflows)",
                             path, t->name);
        n *= d;
    }
    *bytes = n;
    return VLM_OK;
}

/* One header entry -> t (name borrowed from the JSON until the caller
 * copies it). data_size = bytes after the header. */
static vlm_status parse_entry(const char *path, const cJSON *e, const uint8_t *data, uint64_t data_size,
                              st_tensor *t) {
    const char *name = e->string;
    t->name = name;
    if (!cJSON_IsObject(e))
        return vlm_error(VLM_ERR_FORMAT, "%s: tensor '%s': entry is not an object", path, name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(dtype))
        return vlm_error(VLM_ERR_FORMAT, "%s: tensor '%s': \"dtype\" missing or not a string", path, name);
    int dt = vlm_dtype_from_name(dtype->valuestring);
    if (dt < 0)
        return vlm_error(VLM_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype \"%s\"", path, name,
                         dtype->valuestring);
    t->dtype = (vlm_dtype)dt;
    vlm_status st = parse_shape(path, name, cJSON_GetObjectItemCaseSensitive(e, "shape"), t);
    if (st) return st;
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    uint64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        !json_uint(cJSON_GetArrayItem(offs, 0), ST_MAX_JSON_INT, &begin) ||
        !json_uint(cJSON_GetArrayItem(offs, 1), ST_MAX_JSON_INT, &end))
        return vlm_error(VLM_ERR_FORMAT,
                         "%s: tensor '%s': \"data_offsets\" must be two non-negative integers", path, name);
    if (begin > end || end > data_size)
        return vlm_error(VLM_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%llu, %llu] outside the data area (%llu bytes)",
                         path, name, (unsigned long long)begin, (unsigned long long)end,
                         (unsigned long long)data_size);
    uint64_t bytes = 0;
    if ((st = shape_bytes(path, t, &bytes))) return st;
    if (bytes != end - begin)
        return vlm_error(VLM_ERR_FORMAT,
                         "%s: tensor '%s': %s x shape needs %llu bytes but data_offsets span %llu", path,
                         name, dtype->valuestring, (unsigned long long)bytes,
                         (unsigned long long)(end - begin));
    t->nbytes = (size_t)bytes;
    t->data = data + begin;
    return VLM_OK;
}

static vlm_status parse_metadata(st_file *f, const cJSON *m) {
    if (!cJSON_IsObject(m))
        return vlm_error(VLM_ERR_FORMAT, "%s: \"__metadata__\" is not an object", f->path);
    size_t n = (size_t)cJSON_GetArraySize(m);
    f->meta = vlm_calloc(2 * n, sizeof *f->meta);
    if (!f->meta) return VLM_ERR_OUT_OF_MEMORY;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, m) {
        if (!cJSON_IsString(kv))
            return vlm_error(VLM_ERR_FORMAT, "%s: \"__metadata__\" value of '%s' is not a string", f->path,
                             kv->string);
        char **pair = &f->meta[2 * f->n_meta++];   /* counted now so st_close frees it */
        pair[0] = vlm_strdup(kv->string);
        pair[1] = vlm_strdup(kv->valuestring);
        if (!pair[0] || !pair[1]) return VLM_ERR_OUT_OF_MEMORY;
    }
    return VLM_OK;
}

static int by_data_address(const void *x, const void *y) {
    const st_tensor *a = *(st_tensor *const *)x, *b = *(st_tensor *const *)y;
    const uint8_t *pa = a->data, *pb = b->data;
    if (pa != pb) return pa < pb ? -1 : 1;
    return a->nbytes < b->nbytes ? -1 : a->nbytes > b->nbytes;
}

/* No two tensors of file fi may share bytes (empty tensors share nothing). */
static vlm_status check_overlaps(const st_archive *a, size_t first, int fi) {
    size_t n = a->n_tensors - first;
    if (n < 2) return VLM_OK;
    const st_tensor **order = vlm_malloc(n * sizeof *order);
    if (!order) return VLM_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++) order[i] = &a->tensors[first + i];
    qsort(order, n, sizeof *order, by_data_address);
    vlm_status st = VLM_OK;
    const st_tensor *prev = NULL;
    for (size_t i = 0; i < n && !st; i++) {
        const st_tensor *t = order[i];
        if (!t->nbytes) continue;
        if (prev && (const uint8_t *)t->data < (const uint8_t *)prev->data + prev->nbytes)
            st = vlm_error(VLM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data area",
                           a->files[fi].path, prev->name, t->name);
        prev = t;
    }
    free(order);
    return st;
}

/* Check the length field and parse the JSON header of f; *data_offset is
 * where the data area starts. */
static vlm_status read_header(const st_file *f, cJSON **root, uint64_t *data_offset) {
    if (f->size < 8)
        return vlm_error(VLM_ERR_FORMAT, "%s: %zu bytes is too small for a safetensors file", f->path,
                         f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->map[i];
    if (hlen > ST_MAX_HEADER)
        return vlm_error(VLM_ERR_LIMIT, "%s: header length %llu exceeds the %u-byte limit", f->path,
                         (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return vlm_error(VLM_ERR_FORMAT, "%s: truncated: header length %llu but only %zu bytes follow",
                         f->path, (unsigned long long)hlen, f->size - 8);
    const char *json = (const char *)f->map + 8, *end = NULL;
    if (hlen == 0 || json[0] != '{')
        return vlm_error(VLM_ERR_FORMAT, "%s: header is not a JSON object", f->path);
    *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &end, 0);
    vlm_status st = VLM_OK;
    if (!cJSON_IsObject(*root))
        st = vlm_error(VLM_ERR_FORMAT, "%s: header is not valid JSON (near byte %td)", f->path,
                       (end ? end : json) - json);
    for (const char *p = end; !st && p < json + hlen; p++)   /* writers may pad with spaces */
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            st = vlm_error(VLM_ERR_FORMAT, "%s: trailing bytes after the JSON header", f->path);
    if (st) {
        cJSON_Delete(*root);
        *root = NULL;
    }
    *data_offset = 8 + hlen;
    return st;
}

/* Parse the header of file fi and append its tensors. */
static vlm_status parse_header(st_archive *a, int fi) {
    st_file *f = &a->files[fi];
    cJSON *root = NULL;
    uint64_t offset = 0;
    vlm_status st = read_header(f, &root, &offset);
    if (st) return st;
    size_t first = a->n_tensors;
    const cJSON *e;
    cJSON_ArrayForEach(e, root) {
        if (!strcmp(e->string, "__metadata__")) {
            if (f->meta) st = vlm_error(VLM_ERR_FORMAT, "%s: \"__metadata__\" given twice", f->path);
            else st = parse_metadata(f, e);
        } else {
            st_tensor t = {.file_index = fi};
            st = parse_entry(f->path, e, f->map + offset, f->size - offset, &t);
            if (!st && !(t.name = vlm_strdup(e->string))) st = VLM_ERR_OUT_OF_MEMORY;
            if (!st && (st = add_tensor(a, &t))) free((char *)t.name);
        }
        if (st) break;
    }
    cJSON_Delete(root);
    if (!st) st = check_overlaps(a, first, fi);
    return st;
}

/* ---- archive life cycle ------------------------------------------------- */

static vlm_status add_file(st_archive *a, const char *path, const uint8_t *map, size_t size, int owns,
                           int *index) {
    st_file *grown = vlm_realloc(a->files, (size_t)(a->n_files + 1) * sizeof *grown);
    if (!grown) return VLM_ERR_OUT_OF_MEMORY;
    a->files = grown;
    st_file *f = &a->files[a->n_files];
    memset(f, 0, sizeof *f);
    f->path = vlm_strdup(path);
    if (!f->path) return VLM_ERR_OUT_OF_MEMORY;
    f->map = map;
    f->size = size;
    f->owns_map = owns;
    *index = a->n_files++;
    return VLM_OK;
}

void st_release(const st_archive *a, const void *p, size_t n) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), begin = (uintptr_t)p, end = begin + n;
    for (int i = 0; i < a->n_files; i++) {
        const st_file *f = &a->files[i];
        uintptr_t map = (uintptr_t)f->map;
        if (!f->owns_map || begin < map || end > map + f->size) continue;
        uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
        if (first < last) madvise((void *)first, last - first, MADV_DONTNEED);
        return;
    }
}

void st_close(st_archive *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n_tensors; i++) free((char *)a->tensors[i].name);
    for (int i = 0; i < a->n_files; i++) {
        st_file *f = &a->files[i];
        if (f->owns_map && f->size) munmap((void *)f->map, f->size);
        for (size_t k = 0; k < 2 * f->n_meta; k++) free(f->meta[k]);
        free(f->meta);
        free(f->path);
    }
    free(a->files);
    free(a->tensors);
    free(a->slots);
    free(a);
}

static st_archive *archive_new(void) { return vlm_calloc(1, sizeof(st_archive)); }

static vlm_status map_file(const char *path, const uint8_t **map, size_t *size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vlm_error(VLM_ERR_IO, "%s: cannot open", path);
    struct stat sb;
    vlm_status st = VLM_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = vlm_error(VLM_ERR_IO, "%s: not a regular file", path);
    } else if (sb.st_size < 8) {
        st = vlm_error(VLM_ERR_FORMAT, "%s: %lld bytes is too small for a safetensors file", path,
                       (long long)sb.st_size);
    } else {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) st = vlm_error(VLM_ERR_IO, "%s: cannot mmap", path);
        else {
            *map = m;
            *size = (size_t)sb.st_size;
        }
    }
    close(fd);
    return st;
}

/* Map path and append it (and its tensors) to a. */
static vlm_status add_mapped_file(st_archive *a, const char *path) {
    const uint8_t *map = NULL;
    size_t size = 0;
    vlm_status st = map_file(path, &map, &size);
    if (st) return st;
    int fi;
    if ((st = add_file(a, path, map, size, 1, &fi))) {
        munmap((void *)map, size);
        return st;
    }
    return parse_header(a, fi);
}

vlm_status st_parse(const char *path, const uint8_t *buf, size_t file_size, st_archive **out) {
    *out = NULL;
    st_archive *a = archive_new();
    if (!a) return VLM_ERR_OUT_OF_MEMORY;
    int fi;
    vlm_status st = add_file(a, path, buf, file_size, 0, &fi);
    if (!st) st = parse_header(a, fi);
    if (st) st_close(a);
    else *out = a;
    return st;
}

vlm_status st_open_file(const char *path, st_archive **out) {
    *out = NULL;
    st_archive *a = archive_new();
    if (!a) return VLM_ERR_OUT_OF_MEMORY;
    vlm_status st = add_mapped_file(a, path);
    if (st) st_close(a);
    else *out = a;
    return st;
}

/* ---- sharded folders ---------------------------------------------------- */

static char *join_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = vlm_malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* A shard name from index.json must stay inside the model folder. */
static int safe_shard_name(const char *name) {
    if (!name[0] || name[0] == '/') return 0;
    for (const char *p = name; (p = strstr(p, "..")); p += 2)
        if ((p == name || p[-1] == '/') && (p[2] == '/' || !p[2])) return 0;
    return 1;
}

/* Index of the already opened shard file `path`, or -1. */
static int find_file(const st_archive *a, const char *path) {
    for (int i = 0; i < a->n_files; i++)
        if (!strcmp(a->files[i].path, path)) return i;
    return -1;
}

/* weight_map: open each shard once, then check every listed tensor is in
 * the shard it is mapped to. */
static vlm_status open_indexed(st_archive *a, const char *dir, const char *index_path, const cJSON *map) {
    const cJSON *e;
    vlm_status st = VLM_OK;
    cJSON_ArrayForEach(e, map) {
        if (!cJSON_IsString(e) || !safe_shard_name(e->valuestring))
            return vlm_error(VLM_ERR_FORMAT, "%s: weight_map entry '%s' is not a file name in the folder",
                             index_path, e->string);
        char *path = join_path(dir, e->valuestring);
        if (!path) return VLM_ERR_OUT_OF_MEMORY;
        if (find_file(a, path) < 0) {
            if (access(path, F_OK) != 0)
                st = vlm_error(VLM_ERR_NOT_FOUND, "%s: tensor '%s' is mapped to missing file %s",
                               index_path, e->string, path);
            else st = add_mapped_file(a, path);
        }
        free(path);
        if (st) return st;
    }
    cJSON_ArrayForEach(e, map) {
        const st_tensor *t = st_find(a, e->string);
        char *path = join_path(dir, e->valuestring);
        if (!path) return VLM_ERR_OUT_OF_MEMORY;
        if (!t || t->file_index != find_file(a, path))
            st = vlm_error(VLM_ERR_NOT_FOUND, "%s: tensor '%s' is not in %s, where the index maps it",
                           index_path, e->string, path);
        free(path);
        if (st) return st;
    }
    return VLM_OK;
}

static vlm_status open_index(st_archive *a, const char *dir, const char *index_path) {
    cJSON *root;
    vlm_status st = config_parse_file(index_path, &root);
    if (st) return st;
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(wm)) st = vlm_error(VLM_ERR_FORMAT, "%s: no \"weight_map\" object", index_path);
    else st = open_indexed(a, dir, index_path, wm);
    cJSON_Delete(root);
    return st;
}

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int by_string(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* No index: every *.safetensors in the folder, in name order. */
static vlm_status open_all_files(st_archive *a, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return vlm_error(VLM_ERR_IO, "%s: cannot open folder", dir);
    char **names = NULL;
    size_t n = 0;
    vlm_status st = VLM_OK;
    for (struct dirent *e; !st && (e = readdir(d));) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".safetensors")) continue;
        char **grown = vlm_realloc(names, (n + 1) * sizeof *names);
        if (!grown || !(grown[n] = vlm_strdup(e->d_name))) st = VLM_ERR_OUT_OF_MEMORY;
        if (grown) names = grown;
        if (!st) n++;
    }
    closedir(d);
    if (!st && !n) st = vlm_error(VLM_ERR_NOT_FOUND, "%s: no .safetensors files", dir);
    if (!st) qsort(names, n, sizeof *names, by_string);
    for (size_t i = 0; i < n; i++) {
        char *path = st ? NULL : join_path(dir, names[i]);
        if (!st && !path) st = VLM_ERR_OUT_OF_MEMORY;
        if (!st) st = add_mapped_file(a, path);
        free(path);
        free(names[i]);
    }
    free(names);
    return st;
}

vlm_status st_open_dir(const char *dir, st_archive **out) {
    *out = NULL;
    st_archive *a = archive_new();
    if (!a) return VLM_ERR_OUT_OF_MEMORY;
    char *index_path = join_path(dir, ST_INDEX_NAME);
    vlm_status st = VLM_ERR_OUT_OF_MEMORY;
    if (index_path)
        st = access(index_path, F_OK) == 0 ? open_index(a, dir, index_path) : open_all_files(a, dir);
    free(index_path);
    if (st) st_close(a);
    else *out = a;
    return st;
}

/* ---- queries ------------------------------------------------------------ */

size_t st_count(const st_archive *a) { return a->n_tensors; }

const st_tensor *st_at(const st_archive *a, size_t i) { return i < a->n_tensors ? &a->tensors[i] : NULL; }

const st_tensor *st_find(const st_archive *a, const char *name) {
    if (!a->n_slots) return NULL;
    size_t slot = *slot_for(a, name);
    return slot ? &a->tensors[slot - 1] : NULL;
}

const char *st_metadata(const st_archive *a, const char *key) {
    if (!a->n_files) return NULL;
    const st_file *f = &a->files[0];
    for (size_t i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta[2 * i], key)) return f->meta[2 * i + 1];
    return NULL;
}

int64_t st_numel(const st_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}
