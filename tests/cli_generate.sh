#!/usr/bin/env bash
# cli_generate.sh — `vlm generate` end to end on the bundled tiny Qwen2-VL
# (models/tiny-qwen2-vl + examples/image.png, byte-identical to the
# reference folder shared/golden/e2e_qwen2_vl/q4): greedy output equals
# mlx-vlm's generated_text for q4 and bf16 (fixtures/e2e_qwen2_vl/), stop strings cut it
# where the reference text says, --verbose keeps stdout clean, repo ids
# resolve through a Hugging Face cache, and bad input fails cleanly.
# Usage: cli_generate.sh PATH/TO/vlm  (cwd = tests/)
set -u
VLM="$1"
MODEL=../models/tiny-qwen2-vl
IMAGE=../examples/image.png
FIX=fixtures/e2e_qwen2_vl
EXPECTED="$(cat "$FIX/expected_generated_text.txt")"
TMP="$(mktemp -d /tmp/vlm_cli_generate.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

gen() {  # gen ARGS... : run vlm generate on the tiny model; stdout -> $TMP/out, stderr -> $TMP/err
  "$VLM" generate "$@" >"$TMP/out" 2>"$TMP/err"
}

# 1. the main job: exact text of the reference run (greedy, 16 tokens)
if gen --model "$MODEL" --image "$IMAGE" --prompt "Describe this image." --max-tokens 16 --temperature 0; then
  [ "$(cat "$TMP/out")" = "$EXPECTED" ] || fail "e2e text: got '$(cat "$TMP/out")' want '$EXPECTED'"
else
  fail "e2e run failed: $(cat "$TMP/err")"
fi

# 1b. the bf16 variant of the reference (same tokenizer/template/processor files)
mkdir -p "$TMP/bf16"
cp "$MODEL"/* "$TMP/bf16"/
cp "$FIX"/bf16/config.json "$FIX"/bf16/model.safetensors "$FIX"/bf16/model.safetensors.index.json "$TMP/bf16"/
if gen --model "$TMP/bf16" --image "$IMAGE" --prompt "Describe this image." --max-tokens 16 --temperature 0; then
  [ "$(cat "$TMP/out")" = "$(cat "$FIX/bf16/expected_generated_text.txt")" ] || fail "bf16 e2e text: got '$(cat "$TMP/out")'"
else
  fail "bf16 e2e run failed: $(cat "$TMP/err")"
fi

# 2. --verbose: statistics on stderr only, same stdout; prompt is 47 tokens (manifest input_ids_len)
if gen --model "$MODEL" --image "$IMAGE" --prompt "Describe this image." --max-tokens 16 --temperature 0 --verbose; then
  [ "$(cat "$TMP/out")" = "$EXPECTED" ] || fail "--verbose changed stdout: '$(cat "$TMP/out")'"
  grep -q "Prompt: 47 tokens" "$TMP/err" || fail "--verbose: no 'Prompt: 47 tokens' in: $(cat "$TMP/err")"
  grep -q "Generation: 16 tokens" "$TMP/err" || fail "--verbose: no 'Generation: 16 tokens'"
  grep -q "Peak memory:" "$TMP/err" || fail "--verbose: no peak memory"
else
  fail "--verbose run failed: $(cat "$TMP/err")"
fi

# 3. stop strings, also across token boundaries ("requi" spans two "quire" tokens)
for stop in data requi; do
  want="${EXPECTED%%"$stop"*}"
  if gen --model "$MODEL" --image "$IMAGE" --prompt "Describe this image." --max-tokens 16 --temperature 0 --stop "$stop"; then
    [ "$(cat "$TMP/out")" = "$want" ] || fail "--stop $stop: got '$(cat "$TMP/out")' want '$want'"
  else
    fail "--stop $stop failed: $(cat "$TMP/err")"
  fi
done

# 4. fewer tokens: the text is a prefix of the reference (first 11 tokens = 11 x "quire",
#    after the skipped <|vision_end|>)
if gen --model "$MODEL" --image "$IMAGE" --prompt "Describe this image." --max-tokens 12 --temperature 0 --prefill-step-size 7; then
  [ "$(cat "$TMP/out")" = "quirequirequirequirequirequirequirequirequirequirequire" ] ||
    fail "--max-tokens 12 with chunked prefill: '$(cat "$TMP/out")'"
else
  fail "--max-tokens 12 failed: $(cat "$TMP/err")"
fi

# 5. a seed makes sampling reproducible
gen --model "$MODEL" --image "$IMAGE" --prompt "Describe this image." --max-tokens 12 --temperature 1.5 --top-k 50 --seed 7 &&
  cp "$TMP/out" "$TMP/seeded1" &&
  gen --model "$MODEL" --image "$IMAGE" --prompt "Describe this image." --max-tokens 12 --temperature 1.5 --top-k 50 --seed 7 &&
  cmp -s "$TMP/out" "$TMP/seeded1" || fail "same seed, different text (or run failed: $(cat "$TMP/err"))"

# 6. a repo id from the local Hugging Face cache
SNAP="$TMP/hub/models--test-org--tiny-qwen2-vl/snapshots/0123abcd"
mkdir -p "$SNAP" "$TMP/hub/models--test-org--tiny-qwen2-vl/refs"
cp "$MODEL"/* "$SNAP"/
echo 0123abcd >"$TMP/hub/models--test-org--tiny-qwen2-vl/refs/main"
if HF_HUB_CACHE="$TMP/hub" gen --model test-org/tiny-qwen2-vl --image "$IMAGE" --prompt "Describe this image." --max-tokens 16 --temperature 0; then
  [ "$(cat "$TMP/out")" = "$EXPECTED" ] || fail "repo id: '$(cat "$TMP/out")'"
else
  fail "repo id from HF_HUB_CACHE failed: $(cat "$TMP/err")"
fi

# 7. bad input: non-zero exit, a message on stderr, nothing on stdout
expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"
  shift
  if gen "$@"; then
    fail "expected failure for: $*"
  else
    grep -qi -- "$pattern" "$TMP/err" || fail "message for '$*' lacks '$pattern': $(cat "$TMP/err")"
    [ ! -s "$TMP/out" ] || fail "stdout not empty on error for '$*': $(cat "$TMP/out")"
  fi
}
expect_error "no-such-model" --model "$TMP/no-such-model" --prompt hi
expect_error "nobody/nothing" --model nobody/nothing --prompt hi
expect_error "missing.png" --model "$MODEL" --image "$TMP/missing.png" --prompt hi
printf 'not an image at all' >"$TMP/garbage.png"
expect_error "garbage.png" --model "$MODEL" --image "$TMP/garbage.png" --prompt hi
expect_error "--prompt" --model "$MODEL"
expect_error "temperature" --model "$MODEL" --prompt hi --temperature warm
expect_error "top_p" --model "$MODEL" --prompt hi --top-p 2 --temperature 1
expect_error "unknown option" --model "$MODEL" --prompt hi --bogus 1
# prompt longer than the context: the same model with a 32-position context
mkdir -p "$TMP/short"
cp "$MODEL"/* "$TMP/short"/
sed 's/"max_position_embeddings": 32768/"max_position_embeddings": 32/' "$MODEL/config.json" >"$TMP/short/config.json"
expect_error "context" --model "$TMP/short" --image "$IMAGE" --prompt "Describe this image." --max-tokens 4

[ "$fails" = 0 ] && echo "cli_generate: all passed" && exit 0
echo "cli_generate: $fails failed" >&2
exit 1
