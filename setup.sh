#!/usr/bin/env bash
# setup.sh — one command from a fresh Debian/Ubuntu machine to a working vlm:
# installs the toolchain and libraries (apt-get), builds, and runs the main
# job: a bundled tiny Qwen2-VL model answering about an example image.
# Offline apart from apt. The tiny model has random weights: its answer is
# noise, by design — it proves the whole path works.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
if ! command -v make >/dev/null 2>&1; then
  echo "setup: installing make (apt-get)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends make >/dev/null
fi
make -s deps
make -s
if [ "${1:-}" != "--no-demo" ]; then
  echo "setup: running the main job (tiny random-weight model, output is noise)" >&2
  build/vlm generate --model models/tiny-qwen2-vl --image examples/image.png \
    --prompt "Describe this image." --max-tokens 16 --temperature 0
  echo
fi
