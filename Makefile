# vlm — top-level driver. CMake does the real work; this file gives the
# short commands the README documents.
BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

DEB_PACKAGES := build-essential cmake ninja-build pkg-config clang \
	libjpeg62-turbo-dev libpng-dev libwebp-dev libgif-dev libpcre2-dev \
	libutf8proc-dev libcurl4-openssl-dev libcjson-dev zlib1g-dev \
	ca-certificates xz-utils

.PHONY: all deps test test-neon asan fuzz bench clean demo

all:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Install the Debian packages vlm needs. Idempotent and quiet when present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The NEON kernels on this x86 machine: cross-compiled, run under qemu.
NEON_PACKAGES := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
test-neon:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(NEON_PACKAGES)"
	bash tests/neon_qemu.sh

asan:
	cmake -S . -B build-asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DVLM_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

fuzz:
	CC=clang cmake -S . -B build-fuzz $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DVLM_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)

bench: all
	$(BUILD)/vlm bench kernels

demo: all
	$(BUILD)/vlm generate --model models/tiny-qwen2-vl --image examples/image.png \
	  --prompt "Describe this image." --max-tokens 16 --temperature 0

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-neon
