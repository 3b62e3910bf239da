#!/bin/bash
# bench/image/run.sh — decode + Qwen2-VL preprocessing of a 4032x3024 JPEG
# at the default max_pixels (1003520): vlm versus PIL + numpy doing the same
# work (pil_qwen2vl.py), interleaved in one run, best of N each, one thread.
# Usage: bench/image/run.sh [path/to/vlm] [N]   (from the repository root)
set -eu
VLM=${1:-build/vlm}
N=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
CONFIG=$HERE/../../tests/fixtures/images/configs/qwen2vl
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 "$HERE/make_photo.py" "$TMP/photo.jpg"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 VLM_NUM_THREADS=1
best_vlm=999999 best_pil=999999
for round in 1 2 3; do   # interleave so both see the same machine load
    v=$("$VLM" preprocess "$CONFIG" --image "$TMP/photo.jpg" --out "$TMP/pv.npy" --repeat "$N" |
        sed -n 's/.*"best_ms":\([0-9.]*\).*/\1/p')
    p=$(/usr/bin/python3 "$HERE/pil_qwen2vl.py" "$TMP/photo.jpg" "$N" | cut -d' ' -f1)
    best_vlm=$(echo "$v $best_vlm" | awk '{print ($1 < $2) ? $1 : $2}')
    best_pil=$(echo "$p $best_pil" | awk '{print ($1 < $2) ? $1 : $2}')
done
shape=$("$VLM" preprocess "$CONFIG" --image "$TMP/photo.jpg" --out "$TMP/pv.npy")
echo "input: 4032x3024 JPEG (q92, 4:2:0); output $shape"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf "vlm          %8.1f ms\nPIL + numpy  %8.1f ms\nspeed-up     %8.2fx\n" "$best_vlm" "$best_pil" \
    "$(echo "$best_pil $best_vlm" | awk '{print $1 / $2}')"
