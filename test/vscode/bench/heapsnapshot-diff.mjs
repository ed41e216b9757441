// Compares two V8 heap snapshots (.heapsnapshot, e.g. the extension host's before/after from
// exthostHeap.bench.ts with TASKMEM_EXTHOST_HEAP_SNAPSHOTS=1) by constructor name: count and self
// size of each, the largest growth first. Also lists the strings that grew most often (log lines,
// ids, source text kept by a registry show up there).
//   node test/vscode/bench/heapsnapshot-diff.mjs before.heapsnapshot after.heapsnapshot [--top 40]
import { readFileSync } from 'node:fs';

function load(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const width = fields.length;
  const types = meta.node_types[0];
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const byName = new Map();
  const strings = new Map();
  const nodes = snap.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    const name = snap.strings[nodes[i + iName]];
    const size = nodes[i + iSize];
    const key = type === 'object' || type === 'closure' ? `${name} (${type})` : `(${type})`;
    const e = byName.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += size;
    byName.set(key, e);
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
      const text = name.slice(0, 80);
      const s = strings.get(text) ?? { count: 0, size: 0 };
      s.count++;
      s.size += size;
      strings.set(text, s);
    }
  }
  return { byName, strings, total: [...byName.values()].reduce((a, e) => a + e.size, 0) };
}

function diff(a, b) {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys]
    .map((k) => {
      const x = a.get(k) ?? { count: 0, size: 0 };
      const y = b.get(k) ?? { count: 0, size: 0 };
      return { key: k, dCount: y.count - x.count, dSize: y.size - x.size, count: y.count, size: y.size };
    })
    .sort((p, q) => q.dSize - p.dSize);
}

const [beforeFile, afterFile] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const topIndex = process.argv.indexOf('--top');
const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 40;
if (!beforeFile || !afterFile) {
  console.error('usage: node test/vscode/bench/heapsnapshot-diff.mjs before.heapsnapshot after.heapsnapshot [--top N]');
  process.exit(2);
}
const before = load(beforeFile);
const after = load(afterFile);
console.log(`self size total: before ${before.total} B, after ${after.total} B, growth ${after.total - before.total} B\n`);
console.log('growth by constructor (Δ self size, Δ count, count after):');
for (const r of diff(before.byName, after.byName).slice(0, top))
  console.log(`${String(r.dSize).padStart(10)} B  ${String(r.dCount).padStart(7)}  ${String(r.count).padStart(8)}  ${r.key}`);
console.log('\nstrings whose count grew most:');
for (const r of diff(before.strings, after.strings)
  .sort((p, q) => q.dCount - p.dCount)
  .slice(0, 20))
  console.log(`${String(r.dCount).padStart(7)} × ${JSON.stringify(r.key)}`);
