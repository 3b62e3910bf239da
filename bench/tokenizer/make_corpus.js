// make_corpus.js — assemble ~1 MB of mixed-language text for the tokenizer
// benchmark from text already in the repository: the golden cases of every
// tokenizer fixture (English, CJK, Cyrillic, Arabic, Devanagari, emoji, code,
// whitespace runs...) and the chat-template fixtures, repeated in a shuffled
// order until the target size. Deterministic (fixed seed).
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const target = Number(process.argv[3] || 1000000);
const out = process.argv[2] || path.join(root, 'bench', 'out', 'tokenizer_corpus.txt');

const texts = new Set();
const fixtures = path.join(root, 'tests', 'fixtures', 'tokenizers');
for (const name of fs.readdirSync(fixtures)) {
  const f = path.join(fixtures, name, 'golden.jsonl');
  if (!fs.existsSync(f)) continue;
  for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
    if (!line) continue;
    const t = JSON.parse(line).text;
    // special-token markup and long repetitions (stress cases) are not ordinary text
    if (t.length > 0 && !/<\|?[a-z_]+\|?>|<(bos|eos|pad|unk|s|\/s)>/.test(t) && !/(.{1,3})\1{9,}/su.test(t)) texts.add(t);
  }
}
const templates = path.join(root, 'tests', 'fixtures', 'templates');
if (fs.existsSync(templates)) {
  for (const f of fs.readdirSync(templates)) {
    if (f.endsWith('.json')) {
      const s = JSON.stringify(JSON.parse(fs.readFileSync(path.join(templates, f), 'utf8')));
      for (const m of s.matchAll(/"content":"((?:[^"\\]|\\.)*)"/g)) texts.add(JSON.parse('"' + m[1] + '"'));
    }
  }
}
const pool = [...texts];
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
let corpus = '';
while (Buffer.byteLength(corpus) < target) corpus += pool[Math.floor(rand() * pool.length)] + (rand() < 0.3 ? '\n' : ' ');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, corpus);
console.error(`${out}: ${Buffer.byteLength(corpus)} bytes from ${pool.length} distinct texts`);
