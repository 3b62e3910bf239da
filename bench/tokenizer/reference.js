// reference.js — the Hugging Face tokenizers library (Rust core, Node
// binding) on the same corpus: tokenizer.json load time and single-call
// encode throughput (each the best of N), plus the id count and FNV-1a
// hash of the ids so that the run also checks both produce the same ids.
// usage: node reference.js DIR CORPUS [REPEAT]
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [dir, corpusFile, repeatArg] = process.argv.slice(2);
  const repeat = Number(repeatArg || 5);
  const text = fs.readFileSync(corpusFile, 'utf8');
  const bytes = Buffer.byteLength(text);
  let tok, t0, loadMs = Infinity;
  for (let r = 0; r < repeat; r++) {
    t0 = process.hrtime.bigint();
    tok = Tokenizer.fromFile(dir + '/tokenizer.json');
    loadMs = Math.min(loadMs, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  let best = Infinity, ids = [];
  for (let r = 0; r < repeat; r++) {
    t0 = process.hrtime.bigint();
    const enc = await tok.encode(text, null, { addSpecialTokens: false });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    ids = enc.getIds();
    if (ms < best) best = ms;
  }
  let h = 0xcbf29ce484222325n;
  for (const id of ids) h = BigInt.asUintN(64, (h ^ BigInt(id >>> 0)) * 0x100000001b3n);
  console.log(JSON.stringify({ load_ms: +loadMs.toFixed(1), encode_ms: +best.toFixed(1), bytes,
    mb_per_s: +(bytes / 1e6 / (best / 1e3)).toFixed(2), ids: ids.length, ids_hash: h.toString(16).padStart(16, '0') }));
}
main().catch((e) => { console.error(e); process.exit(1); });
