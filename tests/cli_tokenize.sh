#!/bin/bash
# cli_tokenize.sh — `vlm tokenize` / `vlm detokenize` on the e2e Qwen2-VL
# tokenizer folder; expected ids and texts are the reference values in
# fixtures/tokenizers/e2e_qwen2_vl/manifest.json (HF tokenizers, mlx-vlm).
set -u
vlm=$1
dir=fixtures/tokenizers/e2e_qwen2_vl
fail=0
expect() { # name, got, want
  if [ "$2" != "$3" ]; then echo "FAIL $1: got [$2] want [$3]"; fail=1; else echo "ok   $1"; fi
}

got=$(printf '%s\n' '"Describe this image."' | "$vlm" tokenize "$dir")
expect "tokenize prompt" "$got" "[35,288,740,65,68,419,732,424,13]"

# the rendered chat prompt (special tokens inside); one output line per input
# line; Qwen's post-processor adds nothing
got=$(printf '%s\n%s\n' '"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe this image.<|im_end|>\n<|im_start|>assistant\n"' '""' | "$vlm" tokenize "$dir" --add-special)
expect "tokenize specials" "$got" "$(printf '[1001,82,612,198,56,283,525,264,305,301,79,69,360,438,82,380,517,13,1002,198,1001,872,198,1009,1012,1010,35,288,740,65,68,419,732,424,13,1002,198,1001,395,380,517,198]\n[]')"

gen='[1010,984,984,984,984,984,984,984,984,984,984,984,691,691,691,691]'
text='"quirequirequirequirequirequirequirequirequirequirequiredatadatadatadata"'
got=$(echo "$gen" | "$vlm" detokenize "$dir" --skip-special)
expect "detokenize skip-special" "$got" "$text"
got=$(echo "$gen" | "$vlm" detokenize "$dir" --skip-special --stream)
expect "detokenize stream" "$got" "$text"
got=$(echo "$gen" | "$vlm" detokenize "$dir")
expect "detokenize with specials" "$got" "\"<|vision_end|>${text:1}"

# JSON escapes both ways
got=$(printf '%s\n' '[198,197,1]' | "$vlm" detokenize "$dir")
expect "detokenize escapes" "$got" '"\n\t\""'

# bad input: a clear message and a non-zero status, never a crash
if printf '%s\n' '42' | "$vlm" tokenize "$dir" 2>/tmp/vlm_cli_tok.$$; then
  echo "FAIL tokenize accepted a non-string"; fail=1
else
  grep -q "expected a JSON string" /tmp/vlm_cli_tok.$$ && echo "ok   tokenize rejects non-string" || { echo "FAIL message"; fail=1; }
fi
if printf '%s\n' '[1, "x"]' | "$vlm" detokenize "$dir" 2>/dev/null; then
  echo "FAIL detokenize accepted a non-id"; fail=1
else
  echo "ok   detokenize rejects non-id"
fi
if "$vlm" tokenize fixtures/no_such_dir </dev/null 2>/dev/null; then
  echo "FAIL missing folder accepted"; fail=1
else
  echo "ok   missing folder refused"
fi
rm -f /tmp/vlm_cli_tok.$$
exit $fail
