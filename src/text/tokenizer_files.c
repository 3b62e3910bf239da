/*
 * tokenizer_files.c — reading the files of a tokenizer folder: the large
 * tokenizer.json mapped (see tok_map_file), the side files read whole and
 * parsed, tokenizer_config.json ahead on a thread of its own.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "text/tokenizer.h"

#define MAX_FILE_BYTES ((size_t)1 << 30)
#define MAP_MIN_BYTES ((size_t)1 << 20) /* smaller files are simply read */

/* Read dir/name; *buf NULL (and VLM_OK) when the file does not exist. */
static vlm_status read_file(const char *dir, const char *name, char **buf, size_t *len) {
    *buf = NULL;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "path too long: %s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return VLM_OK;
    vlm_status st = VLM_OK;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) st = vlm_error(VLM_ERR_IO, "%s: cannot read", path);
    else if ((size_t)n > MAX_FILE_BYTES) st = vlm_error(VLM_ERR_LIMIT, "%s: larger than 1 GiB", path);
    else if (!(*buf = vlm_malloc((size_t)n + 1))) st = VLM_ERR_OUT_OF_MEMORY;
    else if (fread(*buf, 1, (size_t)n, f) != (size_t)n) st = vlm_error(VLM_ERR_IO, "%s: short read", path);
    fclose(f);
    if (st) {
        free(*buf);
        *buf = NULL;
        return st;
    }
    (*buf)[n] = 0;
    *len = (size_t)n;
    return VLM_OK;
}

vlm_status tok_map_file(const char *dir, const char *name, tok_mapped_file *f) {
    *f = (tok_mapped_file){NULL, 0, false};
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "path too long: %s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return vlm_error(VLM_ERR_IO, "%s: cannot open", path);
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (size_t)sb.st_size >= MAP_MIN_BYTES &&
        (size_t)sb.st_size <= MAX_FILE_BYTES) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) *f = (tok_mapped_file){m, (size_t)sb.st_size, true};
    }
    close(fd);
    if (f->data) return VLM_OK;
    vlm_status st = read_file(dir, name, &f->data, &f->len);
    if (!st && !f->data) st = vlm_error(VLM_ERR_IO, "%s: cannot open", path);
    return st;
}

void tok_unmap_file(tok_mapped_file *f) {
    if (f->mapped) munmap(f->data, f->len);
    else free(f->data);
    f->data = NULL;
}

/* ---- side files, parsed ---- */

vlm_status tok_json_file_read(tok_json_file *f, const char *dir, const char *name) {
    memset(f, 0, sizeof *f);
    vlm_status st = read_file(dir, name, &f->buf, &f->len);
    if (st || !f->buf) return st;
    return tj_parse(f->buf, f->len, NULL, name, &f->doc);
}

void tok_json_file_free(tok_json_file *f) {
    tj_free(&f->doc);
    free(f->buf);
    f->buf = NULL;
}

/* ---- a side file read ahead ---- */

static void *prefetch_thread(void *arg) {
    tok_json_prefetch *p = arg;
    if ((p->st = tok_json_file_read(&p->file, p->dir, p->name)))
        snprintf(p->message, sizeof p->message, "%s", vlm_last_error());
    return NULL;
}

void tok_json_prefetch_start(tok_json_prefetch *p, const char *dir, const char *name) {
    memset(p, 0, sizeof *p);
    p->dir = dir;
    p->name = name;
    p->running = pthread_create(&p->thread, NULL, prefetch_thread, p) == 0;
}

vlm_status tok_json_prefetch_wait(tok_json_prefetch *p, tok_json_file **file) {
    *file = &p->file;
    if (p->running) {
        pthread_join(p->thread, NULL);
        p->running = false;
        p->done = true;
    } else if (!p->done) {
        p->done = true;
        if ((p->st = tok_json_file_read(&p->file, p->dir, p->name)))
            snprintf(p->message, sizeof p->message, "%s", vlm_last_error());
    }
    return p->st ? vlm_error(p->st, "%s", p->message) : VLM_OK;
}

void tok_json_prefetch_free(tok_json_prefetch *p) {
    if (p->running) pthread_join(p->thread, NULL);
    p->running = false;
    tok_json_file_free(&p->file);
}
