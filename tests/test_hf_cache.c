/*
 * test_hf_cache.c — --model resolution: plain folders, repo ids in the
 * Hugging Face cache layout (models--ORG--NAME/refs/main ->
 * snapshots/REV, newest snapshot without a ref), the cache-root order
 * ($HF_HUB_CACHE before $HF_HOME/hub), and the not-found message.
 * Builds a throw-away cache under /tmp that mirrors huggingface_hub's
 * documented layout.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "io/hf_cache.h"
#include "test.h"

static char root[256];

static void mkdirs(const char *path) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void set_mtime(const char *path, long seconds) {
    struct timeval tv[2] = {{seconds, 0}, {seconds, 0}};
    utimes(path, tv);
}

/* Create root/rel as a folder with the given modification time (0 = now). */
static void make_dir(const char *rel, long mtime) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    mkdirs(p);
    if (mtime) set_mtime(p, mtime);
}

static void setup(void) {
    snprintf(root, sizeof root, "/tmp/vlm_hf_cache_XXXXXX");
    if (!mkdtemp(root)) root[0] = 0;
    /* hub A: org/with-ref has refs/main -> rev2 (older than rev1 on disk) */
    make_dir("hubA/models--org--with-ref/snapshots/rev1", 2000000000);
    make_dir("hubA/models--org--with-ref/snapshots/rev2", 1000000000);
    make_dir("hubA/models--org--with-ref/refs", 0);
    char p[512];
    snprintf(p, sizeof p, "%s/hubA/models--org--with-ref/refs/main", root);
    write_text(p, "rev2\n");
    /* hub A: org/no-ref: newest snapshot wins */
    make_dir("hubA/models--org--no-ref/snapshots/old", 1000000000);
    make_dir("hubA/models--org--no-ref/snapshots/new", 1500000000);
    /* HF_HOME/hub: only-home/model */
    make_dir("home/hub/models--only-home--model/snapshots/abc", 0);
}

static void expect_resolves(const char *id, const char *suffix) {
    char *dir = NULL;
    vlm_status st = hf_resolve_model_path(id, &dir);
    CHECKF(st == VLM_OK, "%s: %s", id, vlm_last_error());
    char want[512];
    snprintf(want, sizeof want, "%s/%s", root, suffix);
    CHECKF(dir && !strcmp(dir, want), "%s -> %s, want %s", id, dir ? dir : "(null)", want);
    vlm_free(dir);
}

static void test_cache_lookup(void) {
    CHECK(root[0]);
    char hub[300], home[300];
    snprintf(hub, sizeof hub, "%s/hubA", root);
    snprintf(home, sizeof home, "%s/home", root);
    setenv("HF_HUB_CACHE", hub, 1);
    setenv("HF_HOME", home, 1);
    expect_resolves("org/with-ref", "hubA/models--org--with-ref/snapshots/rev2");
    expect_resolves("org/no-ref", "hubA/models--org--no-ref/snapshots/new");
    expect_resolves("only-home/model", "home/hub/models--only-home--model/snapshots/abc");
}

static void test_existing_folder_used_as_is(void) {
    char *dir = NULL;
    CHECK_OK(hf_resolve_model_path("fixtures", &dir));
    CHECK(dir && !strcmp(dir, "fixtures"));
    vlm_free(dir);
}

static void test_missing_repo_names_the_places_tried(void) {
    char *dir = (char *)1;
    vlm_status st = hf_resolve_model_path("nobody/nothing", &dir);
    CHECK(st == VLM_ERR_NOT_FOUND);
    CHECK(dir == NULL);
    CHECK(strstr(vlm_last_error(), "models--nobody--nothing") != NULL);
    CHECK(strstr(vlm_last_error(), "hubA") != NULL);
    CHECK(strstr(vlm_last_error(), "/home/hub") != NULL);
}

static void test_missing_folder_and_bad_ids(void) {
    char *dir = NULL;
    CHECK(hf_resolve_model_path("no/such/folder", &dir) == VLM_ERR_NOT_FOUND);
    CHECK(strstr(vlm_last_error(), "no/such/folder") != NULL);
    CHECK(hf_resolve_model_path("../escape", &dir) == VLM_ERR_NOT_FOUND);
    CHECK(hf_resolve_model_path("", &dir) == VLM_ERR_INVALID_ARGUMENT);
    CHECK(hf_resolve_model_path(NULL, &dir) == VLM_ERR_INVALID_ARGUMENT);
}

static void cleanup(void) {
    char cmd[400];
    if (root[0] && !strncmp(root, "/tmp/vlm_hf_cache_", 18)) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd)) fprintf(stderr, "could not remove %s\n", root);
    }
}

void run_tests(void) {
    setup();
    RUN(test_cache_lookup);
    RUN(test_existing_folder_used_as_is);
    RUN(test_missing_repo_names_the_places_tried);
    RUN(test_missing_folder_and_bad_ids);
    cleanup();
}
