#!/bin/sh
# run.sh — tokenizer benchmark (not a test): encode throughput in MB/s on
# ~1 MB of mixed-language text and tokenizer.json load time (each the best
# of `repeat`; vlm's load includes tokenizer_config.json), vlm against the
# Hugging Face tokenizers library (Rust, Node binding `tokenizers` from npm,
# one single-threaded encode call), in the same run on the same machine.
# Each line also reports the id count and a hash of the ids: they must agree.
# usage: bench/tokenizer/run.sh [path/to/vlm] [repeat]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vlm=${1:-$root/build/vlm}
repeat=${2:-5}
out=$root/bench/out/tokenizer
mkdir -p "$out"
[ -d "$here/node_modules/tokenizers" ] || (cd "$here" && npm install --no-audit --no-fund >/dev/null)
node "$here/make_corpus.js" "$out/corpus.txt" 1000000
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
for name in qwen3 gemma3; do
  dir=$out/$name
  if [ ! -f "$dir/tokenizer.json" ]; then
    mkdir -p "$dir"
    xz -dc "$root/tests/fixtures/tokenizers/$name/tokenizer.json.xz" > "$dir/tokenizer.json"
    xz -dc "$root/tests/fixtures/tokenizers/$name/tokenizer_config.json.xz" > "$dir/tokenizer_config.json"
  fi
  ours=$("$vlm" tokenize "$dir" --bench "$out/corpus.txt" --repeat "$repeat")
  ref=$(cd "$here" && node reference.js "$dir" "$out/corpus.txt" "$repeat")
  echo "$name vlm: $ours"
  echo "$name hf:  $ref"
  node -e '
    const a = JSON.parse(process.argv[1]), b = JSON.parse(process.argv[2]);
    console.log(`${process.argv[3]}: encode ${a.mb_per_s} vs ${b.mb_per_s} MB/s = ${(a.mb_per_s / b.mb_per_s).toFixed(2)}x, ` +
      `load ${a.load_ms} vs ${b.load_ms} ms, ids ${a.ids_hash === b.ids_hash && a.ids === b.ids ? "identical" : "DIFFER"}`);
  ' "$ours" "$ref" "$name"
done
