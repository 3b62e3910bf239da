/*
 * hf_cache.h — finding a model folder from what the user typed after
 * --model: a folder path, or a Hugging Face repo id ("org/name") that
 * mlx-vlm or huggingface-cli already downloaded into the local cache.
 *
 * Cache roots, in order (as huggingface_hub resolves them): $HF_HUB_CACHE,
 * $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub.
 * Inside a root, repo "org/name" lives in models--org--name/: the commit
 * named by refs/main selects snapshots/<commit>/; without refs/main (or if
 * it names a missing snapshot) the most recently modified snapshot is used.
 * Nothing is downloaded.
 */
#ifndef VLM_IO_HF_CACHE_H
#define VLM_IO_HF_CACHE_H

#include "vlm.h"

/* *dir_out (allocated, vlm_free) is the folder to load. An existing folder
 * is returned as is. VLM_ERR_NOT_FOUND lists every place that was tried. */
vlm_status hf_resolve_model_path(const char *path_or_repo, char **dir_out);

#endif
