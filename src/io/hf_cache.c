/*
 * hf_cache.c — resolve --model to a folder: a path, or a repo id looked up
 * in the local Hugging Face cache (see hf_cache.h for the search order).
 */
#include "io/hf_cache.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/error.h"

#define HF_MAX_ROOTS 4

static bool is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* "org/name": two non-empty parts without '.'/'..' tricks or more slashes. */
static bool looks_like_repo_id(const char *s) {
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) return false;
    if (s[0] == '.' || slash[1] == '.') return false;
    for (const char *p = s; *p; p++)
        if (*p == '\\' || *p == ' ' || (unsigned char)*p < 0x20) return false;
    return true;
}

static char *join(const char *fmt, ...) VLM_PRINTF(1, 2);
static char *join(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = vlm_malloc((size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static const char *env_nonempty(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The cache roots to search, most specific first; returns how many. */
static int cache_roots(char *roots[HF_MAX_ROOTS]) {
    int n = 0;
    const char *v;
    if ((v = env_nonempty("HF_HUB_CACHE"))) roots[n++] = join("%s", v);
    if ((v = env_nonempty("HF_HOME"))) roots[n++] = join("%s/hub", v);
    if ((v = env_nonempty("XDG_CACHE_HOME"))) roots[n++] = join("%s/huggingface/hub", v);
    if ((v = env_nonempty("HOME"))) roots[n++] = join("%s/.cache/huggingface/hub", v);
    return n;
}

/* Read refs/main: a commit hash naming an existing snapshot, or NULL. */
static char *snapshot_from_ref(const char *repo_dir) {
    char *ref_path = join("%s/refs/main", repo_dir);
    if (!ref_path) return NULL;
    FILE *f = fopen(ref_path, "rb");
    vlm_free(ref_path);
    if (!f) return NULL;
    char commit[128] = {0};
    size_t n = fread(commit, 1, sizeof commit - 1, f);
    fclose(f);
    while (n && (commit[n - 1] == '\n' || commit[n - 1] == '\r' || commit[n - 1] == ' ')) commit[--n] = 0;
    if (!n || strchr(commit, '/') || !strcmp(commit, "..")) return NULL;
    char *snap = join("%s/snapshots/%s", repo_dir, commit);
    if (snap && !is_dir(snap)) {
        vlm_free(snap);
        return NULL;
    }
    return snap;
}

/* The most recently modified folder in snapshots/, or NULL. */
static char *newest_snapshot(const char *repo_dir) {
    char *snaps = join("%s/snapshots", repo_dir);
    if (!snaps) return NULL;
    DIR *d = opendir(snaps);
    char *best = NULL;
    time_t best_time = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char *cand = join("%s/%s", snaps, e->d_name);
        struct stat sb;
        if (cand && stat(cand, &sb) == 0 && S_ISDIR(sb.st_mode) &&
            (!best || sb.st_mtime > best_time)) {
            vlm_free(best);
            best = cand;
            best_time = sb.st_mtime;
        } else {
            vlm_free(cand);
        }
    }
    if (d) closedir(d);
    vlm_free(snaps);
    return best;
}

/* Look for the repo in one cache root; NULL when absent there. */
static char *find_in_root(const char *root, const char *repo_id) {
    const char *slash = strchr(repo_id, '/');
    char *repo_dir = join("%s/models--%.*s--%s", root, (int)(slash - repo_id), repo_id, slash + 1);
    if (!repo_dir || !is_dir(repo_dir)) {
        vlm_free(repo_dir);
        return NULL;
    }
    char *snap = snapshot_from_ref(repo_dir);
    if (!snap) snap = newest_snapshot(repo_dir);
    vlm_free(repo_dir);
    return snap;
}

vlm_status hf_resolve_model_path(const char *path_or_repo, char **dir_out) {
    *dir_out = NULL;
    if (!path_or_repo || !*path_or_repo)
        return vlm_error(VLM_ERR_INVALID_ARGUMENT, "no model path or repo id given");
    if (is_dir(path_or_repo)) return (*dir_out = vlm_strdup(path_or_repo)) ? VLM_OK : VLM_ERR_OUT_OF_MEMORY;
    if (!looks_like_repo_id(path_or_repo))
        return vlm_error(VLM_ERR_NOT_FOUND, "model folder '%s' does not exist (and is not an org/name repo id)",
                         path_or_repo);
    char *roots[HF_MAX_ROOTS];
    int n = cache_roots(roots);
    char tried[2048] = "";
    for (int i = 0; i < n && !*dir_out; i++) {
        if (!roots[i]) continue;
        *dir_out = find_in_root(roots[i], path_or_repo);
        size_t used = strlen(tried);
        snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", roots[i]);
    }
    for (int i = 0; i < n; i++) vlm_free(roots[i]);
    if (*dir_out) return VLM_OK;
    return vlm_error(VLM_ERR_NOT_FOUND,
                     "'%s' is neither a folder nor a model in the local Hugging Face cache "
                     "(looked for models--%.*s--%s with a snapshot in: %s); download it first, e.g. "
                     "`huggingface-cli download %s`",
                     path_or_repo, (int)(strchr(path_or_repo, '/') - path_or_repo), path_or_repo,
                     strchr(path_or_repo, '/') + 1, *tried ? tried : "(no cache folder: HOME unset)",
                     path_or_repo);
}
