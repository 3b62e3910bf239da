#!/usr/bin/env bash
# cli_template.sh — `vlm template` end to end: stdin JSON mode against the
# Jinja2 goldens, bos/eos from tokenizer_config.json, --date for
# strftime_now, a raising template (exit 1, message on stderr, nothing on
# stdout), and --prompt mode reproducing the reference rendered prompt of
# the e2e Qwen2-VL fixture. Usage: cli_template.sh path/to/vlm (cwd tests/).
set -u
VLM="$1"
T=fixtures/templates
G=$T/goldens
fails=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

check() { # name, got-file, want-file
    if cmp -s "$2" "$3"; then echo "[ ok ] $1"; else echo "[FAIL] $1"; diff "$2" "$3" | head -20; fails=$((fails + 1)); fi
}

# A model folder holding only a chat_template.jinja and tokenizer_config.json.
folder() { # template-name bos eos
    mkdir -p "$work/$1"
    cp "$T/$1.jinja" "$work/$1/chat_template.jinja"
    printf '{"bos_token": "%s", "eos_token": {"content": "%s", "special": true}}\n' "$2" "$3" \
        > "$work/$1/tokenizer_config.json"
}

# 1. stdin mode, bos_token from tokenizer_config.json (gemma3 prints it)
folder gemma3 '<bos>' '<end_of_turn>'
MSGS='[{"role": "system", "content": "You are a terse assistant."}, {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What animal is this?"}]}, {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]}, {"role": "user", "content": [{"type": "text", "text": "What colour is it?"}]}]'
echo "{\"messages\": $MSGS, \"add_generation_prompt\": true}" | "$VLM" template "$work/gemma3" > "$work/out1"
check "stdin gemma3 multi_turn_system_str" "$work/out1" "$G/gemma3/multi_turn_system_str.agp1.txt"

# 2. --date fixes strftime_now (llama 3.2 vision prints "Today Date: 01 Jan 2025")
folder llama3_2_vision '<|begin_of_text|>' '<|eot_id|>'
echo '{"messages": [{"role": "user", "content": "What is the capital of France?"}], "add_generation_prompt": true}' |
    "$VLM" template "$work/llama3_2_vision" --date 2025-01-01 > "$work/out2"
check "--date llama3_2_vision user_text_str" "$work/out2" "$G/llama3_2_vision/user_text_str.agp1.txt"

# 3. JSON bos_token overrides tokenizer_config.json
echo '{"messages": [{"role": "user", "content": "Hi"}], "bos_token": "[B]"}' |
    "$VLM" template "$work/gemma3" > "$work/out3"
if grep -q '^\[B\]<start_of_turn>user' "$work/out3"; then echo "[ ok ] bos override"; else echo "[FAIL] bos override"; cat "$work/out3"; fails=$((fails + 1)); fi

# 4. raise_exception: exit status 1, message on stderr, empty stdout
folder gemma '<bos>' '<eos>'
echo "{\"messages\": $MSGS}" | "$VLM" template "$work/gemma" > "$work/out4" 2> "$work/err4"
rc=$?
if [ $rc -ne 0 ] && [ ! -s "$work/out4" ] && grep -q "TemplateError: System role not supported" "$work/err4"; then
    echo "[ ok ] raise_exception"
else
    echo "[FAIL] raise_exception rc=$rc"; cat "$work/err4"; fails=$((fails + 1))
fi

# 5. --prompt mode on the e2e Qwen2-VL folder (chat_template.json + config.json)
"$VLM" template $T/e2e_qwen2_vl --prompt "Describe this image." --num-images 1 > "$work/out5"
check "--prompt e2e_qwen2_vl rendered_prompt" "$work/out5" "$T/e2e_qwen2_vl/rendered_prompt.txt"

# 6. malformed input and a missing folder fail cleanly
echo '{"messages": [' | "$VLM" template "$work/gemma3" > /dev/null 2>&1 && { echo "[FAIL] bad JSON accepted"; fails=$((fails + 1)); } || echo "[ ok ] bad JSON rejected"
"$VLM" template "$work/nowhere" < /dev/null > /dev/null 2>&1 && { echo "[FAIL] missing folder accepted"; fails=$((fails + 1)); } || echo "[ ok ] missing folder rejected"

echo "$fails failed"
[ $fails -eq 0 ]
