#!/bin/bash
# bench/image/run.sh — decode + Qwen2-VL preprocessing of a 4032x3024 JPEG
# at the default max_pixels (1003520): vlm versus PIL + numpy doing the same
# work (pil_qwen2vl.py), interleaved in one run, best of N each, one thread.
# Both wall time and CPU time are reported; on a shared, loaded machine the
# CPU time is the fair comparison (both sides are single-threaded).
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
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'; }
vw=1e9 vc=1e9 pw=1e9 pc=1e9
for round in 1 2 3; do   # interleave so both see the same machine load
    line=$("$VLM" preprocess "$CONFIG" --image "$TMP/photo.jpg" --out "$TMP/pv.npy" --repeat "$N")
    vw=$(min "$vw" "$(echo "$line" | sed -n 's/.*"best_ms":\([0-9.]*\).*/\1/p')")
    vc=$(min "$vc" "$(echo "$line" | sed -n 's/.*"best_cpu_ms":\([0-9.]*\).*/\1/p')")
    read -r w c _ < <(/usr/bin/python3 "$HERE/pil_qwen2vl.py" "$TMP/photo.jpg" "$N")
    pw=$(min "$pw" "$w")
    pc=$(min "$pc" "$c")
done
shape=$("$VLM" preprocess "$CONFIG" --image "$TMP/photo.jpg" --out "$TMP/pv.npy")
echo "input: 4032x3024 JPEG (q92, 4:2:0); output $shape"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1 /proc/loadavg)"
printf "%-13s %10s %10s\n" "" "wall ms" "cpu ms"
printf "%-13s %10.1f %10.1f\n" "vlm" "$vw" "$vc" "PIL + numpy" "$pw" "$pc"
printf "%-13s %9.2fx %9.2fx\n" "speed-up" "$(echo "$pw $vw" | awk '{print $1/$2}')" "$(echo "$pc $vc" | awk '{print $1/$2}')"
