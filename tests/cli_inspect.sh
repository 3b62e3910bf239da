#!/bin/bash
# cli_inspect.sh — `vlm inspect` on real MLX model folders, and its errors.
#
# Expected numbers were derived independently with Python (json + struct +
# numpy over the safetensors headers): parameters = sum of element counts,
# where a U32 weight with a .scales sibling counts rows * cols * 32 / bits and
# its .scales/.biases count nothing. The q4 folders therefore give the same
# count as the bf16 model they were quantized from (qwen2_vl: 701184 both).
# Bytes per dtype = sum of data_offsets spans per dtype.
set -u
VLM="$1"
FAILS=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# expect_line OUTPUT_FILE EXACT_LINE
expect_line() { grep -qxF -- "$2" "$1" || fail "$1 lacks line: $2"; }

# --- qwen2_vl bf16: nothing quantized
"$VLM" inspect fixtures/io/qwen2_vl_bf16 >"$TMP/bf16.txt" 2>"$TMP/err" || fail "bf16 exit $? $(cat "$TMP/err")"
expect_line "$TMP/bf16.txt" "model_type: qwen2_vl"
expect_line "$TMP/bf16.txt" "architectures: Qwen2VLForConditionalGeneration"
expect_line "$TMP/bf16.txt" "parameters: 701184"
expect_line "$TMP/bf16.txt" "tensors: 57"
expect_line "$TMP/bf16.txt" "bytes: BF16 1402368 (total 1402368)"
expect_line "$TMP/bf16.txt" "quantization: none declared"
expect_line "$TMP/bf16.txt" "  language_model.model.layers.*.mlp.up_proj: BF16 (x2)"
grep -q "^quantized modules" "$TMP/bf16.txt" && fail "bf16 lists quantized modules"

# --- qwen2_vl q4: language model quantized, vision tower left bf16
"$VLM" inspect fixtures/io/qwen2_vl_q4 >"$TMP/q4.txt" 2>"$TMP/err" || fail "q4 exit $? $(cat "$TMP/err")"
expect_line "$TMP/q4.txt" "parameters: 701184"
expect_line "$TMP/q4.txt" "tensors: 87"
expect_line "$TMP/q4.txt" "bytes: BF16 577024, U32 212992 (total 790016)"
expect_line "$TMP/q4.txt" "quantization: affine, 4 bits, group size 64"
expect_line "$TMP/q4.txt" "  language_model.model.layers.*.mlp.gate_proj: q4 g64 (x2)"
expect_line "$TMP/q4.txt" "  language_model.model.embed_tokens: q4 g64 (x1)"
expect_line "$TMP/q4.txt" "  vision_tower.blocks.*.attn.qkv: BF16 (x2)"
expect_line "$TMP/q4.txt" "  vision_tower.patch_embed.proj: BF16 (x1)"
expect_line "$TMP/q4.txt" "text: hidden_size 128, num_hidden_layers 2, num_attention_heads 4, num_key_value_heads 2, intermediate_size 256, vocab_size 1024, max_position_embeddings 32768"
expect_line "$TMP/q4.txt" "vision: depth 2, embed_dim 64, hidden_size 128, num_heads 4, patch_size 14, spatial_merge_size 2, temporal_patch_size 2"

# --- kimi_vl q4: stacked MoE experts [experts, out, words] count experts * out * in
# (python: sum over U32+.scales weights of numel * 32 / bits = the bf16 model's 1216400)
"$VLM" inspect fixtures/io/kimi_vl_q4 >"$TMP/kimi.txt" 2>"$TMP/err" || fail "kimi exit $? $(cat "$TMP/err")"
expect_line "$TMP/kimi.txt" "parameters: 1216400"
expect_line "$TMP/kimi.txt" "bytes: BF16 484512, U32 502784 (total 987296)"
expect_line "$TMP/kimi.txt" "  language_model.model.layers.*.mlp.switch_mlp.up_proj: q4 g64 (x2)"
expect_line "$TMP/kimi.txt" "  language_model.model.layers.*.mlp.gate: BF16 (x2)"

# --- --tensors lists every tensor once
"$VLM" inspect fixtures/io/qwen2_vl_q4 --tensors >"$TMP/t.txt" || fail "--tensors exit $?"
expect_line "$TMP/t.txt" "  language_model.model.layers.0.mlp.up_proj.weight U32 [256, 16]"
expect_line "$TMP/t.txt" "  vision_tower.patch_embed.proj.weight BF16 [64, 2, 14, 14, 3]"
n=$(sed -n '/^tensor list:/,$p' "$TMP/t.txt" | grep -c '^  ')
[ "$n" = 87 ] || fail "--tensors listed $n tensors, want 87"

# --- gemma3 q4 as JSON: text dims come from text_config
"$VLM" inspect fixtures/io/gemma3_q4 --json --tensors >"$TMP/g.json" || fail "gemma3 --json exit $?"
for s in '"model_type":"gemma3"' '"parameters":672384' '"tensor_count":100' \
         '"bytes_by_dtype":{"BF16":265472,"U32":278528}' '"bits":4,"group_size":64' \
         '"text":{"hidden_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32' \
         '"vision":{"num_hidden_layers":2,"hidden_size":64,"num_attention_heads":4,"intermediate_size":128,"patch_size":14,"image_size":56}' \
         '{"pattern":"language_model.lm_head","bits":4,"group_size":64,"scale_dtype":"BF16","count":1}' \
         '{"name":"language_model.lm_head.weight","dtype":"U32","shape":[1024,16]}'; do
    grep -qF -- "$s" "$TMP/g.json" || fail "gemma3 JSON lacks $s"
done
[ "$(wc -l <"$TMP/g.json")" = 1 ] || fail "JSON output is not one line"

# --- a repo id in the Hugging Face cache (files are symlinks to blobs there)
snap="$TMP/hub/models--org--tiny-qwen2-vl/snapshots/0123abc"
mkdir -p "$snap" "$TMP/hub/models--org--tiny-qwen2-vl/refs" "$TMP/hub/models--org--tiny-qwen2-vl/blobs"
for f in config.json model.safetensors model.safetensors.index.json; do
    cp "fixtures/io/qwen2_vl_q4/$f" "$TMP/hub/models--org--tiny-qwen2-vl/blobs/$f.blob"
    ln -s "../../blobs/$f.blob" "$snap/$f"
done
printf 0123abc >"$TMP/hub/models--org--tiny-qwen2-vl/refs/main"
HF_HUB_CACHE="$TMP/hub" "$VLM" inspect org/tiny-qwen2-vl >"$TMP/hub.txt" 2>"$TMP/err" || fail "repo id exit $? $(cat "$TMP/err")"
expect_line "$TMP/hub.txt" "parameters: 701184"

# --- errors: clear message on stderr, nothing on stdout, non-zero exit
expect_error() {   # DIR NEEDLE
    if "$VLM" inspect "$1" >"$TMP/out" 2>"$TMP/err"; then fail "inspect $1 succeeded"; fi
    [ -s "$TMP/out" ] && fail "inspect $1 wrote to stdout"
    grep -qF -- "$2" "$TMP/err" || fail "inspect $1: stderr '$(cat "$TMP/err")' lacks '$2'"
}
expect_error "$TMP/nowhere" "nowhere"
mkdir -p "$TMP/empty"
expect_error "$TMP/empty" "empty/config.json"
mkdir -p "$TMP/noweights" && cp fixtures/io/qwen2_vl_q4/config.json "$TMP/noweights/"
expect_error "$TMP/noweights" "no .safetensors files"
mkdir -p "$TMP/corrupt" && cp fixtures/io/qwen2_vl_q4/*.json "$TMP/corrupt/"
head -c 5000 fixtures/io/qwen2_vl_q4/model.safetensors >"$TMP/corrupt/model.safetensors"
expect_error "$TMP/corrupt" "model.safetensors: truncated"
mkdir -p "$TMP/badcfg" && printf '{"model_type": ' >"$TMP/badcfg/config.json"
expect_error "$TMP/badcfg" "config.json: invalid JSON"
"$VLM" inspect >/dev/null 2>&1; [ $? = 2 ] || fail "no argument should exit 2"
"$VLM" inspect a b >/dev/null 2>&1; [ $? = 2 ] || fail "two folders should exit 2"
"$VLM" inspect --help | grep -q "usage: vlm inspect" || fail "--help"

[ "$FAILS" = 0 ] && echo "cli_inspect: all checks passed"
exit "$FAILS"
