#!/bin/bash
# cli_preprocess.sh — `vlm preprocess` end to end: the JSON line, the .npy
# tensor (bit-identical to mlx-vlm's Qwen2-VL input and to PIL's decoded
# pixels), and clean failures. Usage: cli_preprocess.sh path/to/vlm (cwd tests/).
set -u
VLM=$1
F=fixtures/images
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
check() { if eval "$2"; then echo "[ ok ] $1"; else echo "[FAIL] $1"; fail=1; fi; }
# The data after an .npy header: the last N bytes of the file.
npy_data() { tail -c "$2" "$1"; }

out=$("$VLM" preprocess $F/models/qwen2_vl --image $F/models/qwen2_vl/image.png --out "$TMP/pv.npy")
check "qwen2_vl json line" '[ "$out" = "{\"shape\":[24,1176],\"image_grid_thw\":[[1,4,6]]}" ]'
check "qwen2_vl pixel_values = mlx-vlm input" \
    'cmp -s <(npy_data "$TMP/pv.npy" $((24*1176*4))) <(npy_data $F/models/qwen2_vl/pixel_values.npy $((24*1176*4)))'

out=$("$VLM" preprocess $F/configs/qwen2vl --image $F/derived_coffee_13x9.png --image $F/derived_coffee_28x56.png --out "$TMP/two.npy")
check "two images concatenate" '[ "$out" = "{\"shape\":[48,1176],\"image_grid_thw\":[[1,4,6],[1,6,4]]}" ]'

out=$("$VLM" preprocess $F/models/llava --image $F/models/llava/image.png --out "$TMP/llava.npy")
check "llava (CLIP) json line" '[ "$out" = "{\"shape\":[1,3,56,56]}" ]'
check "llava pixel_values written" '[ $(stat -c %s "$TMP/llava.npy") -gt $((3*56*56*4)) ]'

out=$("$VLM" preprocess --decode-only --image $F/pillow_hopper.gif --out "$TMP/rgb.npy")
check "decode-only json line" '[ "$out" = "{\"shape\":[128,128,3]}" ]'
check "decode-only pixels = PIL" \
    'cmp -s <(npy_data "$TMP/rgb.npy" $((128*128*3))) <(npy_data $F/decode/pillow_hopper.gif.rgb.npy $((128*128*3)))'

"$VLM" preprocess $F/configs/qwen2vl --image $F/derived_hubble_tall_3x872.png --out "$TMP/x.npy" 2>"$TMP/err"
rc=$?
check "aspect ratio > 200 is a clean error" '[ $rc -eq 1 ] && grep -q "aspect ratio" "$TMP/err" && [ ! -e "$TMP/x.npy" ]'
"$VLM" preprocess $F/configs/qwen2vl --image $F/no-such.png --out "$TMP/x.npy" 2>"$TMP/err"
rc=$?
check "missing image names the file" '[ $rc -eq 1 ] && grep -q "no-such.png" "$TMP/err"'
"$VLM" preprocess $F --image $F/pillow_hopper.png --out "$TMP/x.npy" 2>"$TMP/err"
rc=$?
check "folder without preprocessor_config.json" '[ $rc -eq 1 ] && grep -q "preprocessor_config.json" "$TMP/err"'
"$VLM" preprocess --decode-only --out "$TMP/x.npy" 2>/dev/null
check "usage error without --image" '[ $? -ne 0 ]'
exit $fail
