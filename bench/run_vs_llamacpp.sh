#!/usr/bin/env bash
# run_vs_llamacpp.sh — vlm vs llama.cpp on Qwen2-VL-2B's language model, same
# machine, same run, same thread count, same bits.
#
# vlm runs `vlm bench --model` on random-weight MLX checkpoints at the real
# Qwen2-VL-2B-Instruct dimensions (`vlm bench --make-random`); llama.cpp runs
# llama-bench on random-weight GGUFs of the same language model
# (shared/peer/setup.sh: Q4_0 / Q8_0 / F16 — MLX 4-bit affine is 4.5
# bits/weight like Q4_0, 8-bit is 8.5 like Q8_0, bf16 vs F16 are both 16).
# Both do prefill 512 and decode 128. The memory bandwidth of a shared host
# drifts, so each pair runs back to back and the read bandwidth is measured
# in the same run (membw from the peer kit, and vlm's own probe over its
# weights); "decode % roofline" = decode tok/s x bytes read per token / read
# bandwidth, shown as vlm (own probe) / vlm (membw) (llama.cpp (membw)).
#
# usage: bench/run_vs_llamacpp.sh [--threads N] [--bits "4 8 16"] [--reps R]
# env:   VLM (default build/vlm), VLM_PEER_DIR (default ~/.cache/vlm-peer),
#        VLM_BENCH_DIR for the random checkpoints (default ~/.cache/vlm-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=$(nproc)
BITS="4 8 16"
REPS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --bits) BITS="$2"; shift 2 ;;
    --reps) REPS="$2"; shift 2 ;;
    *) echo "usage: $0 [--threads N] [--bits \"4 8 16\"] [--reps R]" >&2; exit 2 ;;
  esac
done
VLM=${VLM:-build/vlm}
PEER=${VLM_PEER_DIR:-$HOME/.cache/vlm-peer}
CKPT=${VLM_BENCH_DIR:-$HOME/.cache/vlm-bench}
SHARED=${VLM_SHARED:-../shared}

[ -x "$VLM" ] || make -s
# The peer kit builds llama-bench first; its last steps (peakflops needs AVX-512,
# all six GGUFs) may fail or be slow, so only what this comparison needs is required.
if [ ! -x "$PEER/bin/llama-bench" ]; then
  [ -f "$SHARED/peer/setup.sh" ] || { echo "no llama.cpp peer in $PEER and no $SHARED/peer/setup.sh" >&2; exit 1; }
  bash "$SHARED/peer/setup.sh" "$PEER" || echo "(peer setup ended early; continuing with what it built)" >&2
fi
[ -x "$PEER/bin/llama-bench" ] || { echo "llama-bench missing in $PEER/bin" >&2; exit 1; }
gguf() {  # gguf BITS -> path of the matching random-weight GGUF, written if missing
  local f="$PEER/models/qwen2-2b-$(gguf_type "$1").gguf"
  if [ ! -f "$f" ]; then
    mkdir -p "$PEER/models"
    /usr/bin/python3 "$SHARED/peer/gen_gguf.py" --size 2b --type "$(gguf_type "$1")" \
      --vocab "$PEER/llama.cpp-src/models/ggml-vocab-qwen2.gguf" --out "$f" >&2
  fi
  echo "$f"
}

gguf_type() { case "$1" in 4) echo q4_0 ;; 8) echo q8_0 ;; 16) echo f16 ;; esac; }
# MB a GGUF decode step reads: its tensor data (tied embedding = output once).
gguf_decode_mb() { local f; f=$(gguf "$1"); awk -v s="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", s / 1e6 }'; }
json_num() { sed -n "s/.*\"$2\": *\([0-9.eE+-]*\).*/\1/p" <<<"$1"; }

# llama-bench -o json prints one object per test; pick avg_ts of pp and tg.
llama_rates() {  # llama_rates MODEL -> "prefill decode"
  local out
  out=$(LD_LIBRARY_PATH="$PEER/bin" "$PEER/bin/llama-bench" -m "$1" -t "$THREADS" -p 512 -n 128 -r "$REPS" -o jsonl 2>/dev/null)
  local pp tg
  pp=$(grep '"n_prompt": 512' <<<"$out" | sed -n 's/.*"avg_ts": *\([0-9.]*\).*/\1/p' | head -1)
  tg=$(grep '"n_gen": 128' <<<"$out" | sed -n 's/.*"avg_ts": *\([0-9.]*\).*/\1/p' | head -1)
  echo "${pp:-nan} ${tg:-nan}"
}

membw() { OMP_NUM_THREADS="$THREADS" OMP_PROC_BIND=spread "$PEER/bin/membw" 512 12 2>/dev/null | sed -n 's/^RESULT read *best \([0-9.]*\).*/\1/p'; }

printf "%-5s | %-24s | %-22s | %-18s | %-22s | %-20s | %s\n" bits "vlm prefill / decode t/s" "llama.cpp pp / tg t/s" "vlm/llama pp / tg" "decode % roofline" "peak RSS MB (x)" "read GB/s"
for b in $BITS; do
  dir="$CKPT/qwen2-vl-2b-$b"
  [ -f "$dir/model.safetensors" ] || "$VLM" bench --make-random qwen2-vl-2b --bits "$b" --out "$dir" >&2
  bw=$(membw || echo nan)
  v=$("$VLM" bench --model "$dir" --threads "$THREADS" --json)
  read -r lpp ltg < <(llama_rates "$(gguf "$b")")
  vpp=$(json_num "$v" prefill_tok_s); vtg=$(json_num "$v" decode_tok_s)
  roof=$(json_num "$v" decode_roofline_pct); rss=$(json_num "$v" peak_rss_mb); rx=$(json_num "$v" rss_over_weights_kv)
  mb=$(json_num "$v" decode_bytes_per_token_mb); probe=$(json_num "$v" read_gb_s)
  ratio=$(awk -v a="$vpp" -v b="$lpp" -v c="$vtg" -v d="$ltg" 'BEGIN { printf "%.2f / %.2f", a / b, c / d }')
  # roofline against vlm's own probe and against membw; llama.cpp's against membw (GGUF bytes per token)
  roofs=$(awk -v r="$roof" -v t="$vtg" -v m="$mb" -v bw="$bw" -v lt="$ltg" -v lb="$(gguf_decode_mb "$b")" \
    'BEGIN { if (bw > 0) printf "%s / %.0f (llama %.0f)", r, 100 * t * m / (bw * 1e3), 100 * lt * lb / (bw * 1e3); else printf "%s", r }')
  printf "%-5s | %-24s | %-22s | %-18s | %-22s | %-20s | %s\n" "$b" "$vpp / $vtg" "$lpp / $ltg" "$ratio" "$roofs" "$rss ($rx)" "$probe / $bw"
  echo "  vlm: $v" >&2
done
