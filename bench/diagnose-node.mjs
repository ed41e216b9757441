// Profile the profiler: which part of a default `taskmem run` costs what on an allocation-heavy
// Node worker. Each variant launches bench/workloads/alloc-heavy.js the way the session does
// (NODE_OPTIONS=--require dist/bootloader.js, registration file, inspector client) and turns on one
// more piece of the default worker setup; all variants run interleaved, several rounds.
//   node bench/diagnose-node.mjs [--quick] [--rounds N]
// Exported: diagnoseNode({quick, rounds, log}) → {variants: [{name, loopMs: [...], ratio: {...}}]}
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { loadTs } from './lib/bundle.mjs';
import { parseBench } from './lib/proc.mjs';
import { pairedRatios, roundOrder, summary } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const WORKLOAD = join(here, 'workloads', 'alloc-heavy.js');
const BOOTLOADER = join(repo, 'dist', 'bootloader.js');
const MEMORY = '(() => { const m = process.memoryUsage(); return [m.heapUsed, m.heapTotal, m.rss, m.external, m.arrayBuffers]; })()';
const WORKER_SAMPLING = 256 * 1024;
/** The product's CDP client, bundled once (bench/diagnose/entry.ts). */
let inspectorClient;
const connectInspector = async (url) => (await (inspectorClient ??= loadTs(join(here, 'diagnose', 'entry.ts')))).connectInspector(url);

/**
 * Each variant = one more piece of what a default `taskmem run` does to a Node worker, in the order
 * the session adds them, plus a few single-piece variants.
 */
export const VARIANTS = [
  { name: 'attached (inspector + client, Runtime.enable)', runtime: true },
  { name: '+ Debugger.enable (the harness keeps it; workers only around captures)', runtime: true, debugger: true },
  { name: 'attached + sampling 256 KiB', runtime: true, sampling: WORKER_SAMPLING },
  { name: '+ stats 10 Hz', runtime: true, sampling: WORKER_SAMPLING, statsMs: 100 },
  { name: '+ task marks, no measuring (unmeasured tasks only counted)', runtime: true, sampling: WORKER_SAMPLING, statsMs: 100, marks: true, gcBudget: 0 },
  {
    name: '+ measured tasks within a 1% GC budget (= default worker setup)',
    runtime: true,
    sampling: WORKER_SAMPLING,
    statsMs: 100,
    marks: true,
    gcBudget: 0.01,
  },
  { name: 'default, but a 5% GC budget', runtime: true, sampling: WORKER_SAMPLING, statsMs: 100, marks: true, gcBudget: 0.05 },
  { name: 'default, but every task measured (--gc-budget 100)', runtime: true, sampling: WORKER_SAMPLING, statsMs: 100, marks: true, gcBudget: 1 },
];

async function waitForRegistration(dir, child) {
  for (let i = 0; i < 1000; i++) {
    const file = readdirSync(dir).find((name) => name.endsWith('.json'));
    if (file) return JSON.parse(readFileSync(join(dir, file), 'utf8'));
    if (child.exitCode !== null) throw new Error('exited before registering');
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no registration');
}

async function runVariant(variant, workloadArgs) {
  const dir = mkdtempSync(join(tmpdir(), 'taskmem-diag-'));
  const env = { ...process.env };
  if (variant) {
    Object.assign(env, {
      NODE_OPTIONS: `--require ${BOOTLOADER}`,
      TASKMEM_IPC_DIR: dir,
      TASKMEM_TOKEN: randomBytes(8).toString('hex'),
      TASKMEM_PRECISE: '0',
      TASKMEM_GC_BUDGET: String(variant.gcBudget ?? 0),
    });
  }
  const child = spawn(process.execPath, [WORKLOAD, ...workloadArgs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((r) => child.on('close', r));
  let counting;
  let client;
  let polling;
  try {
    if (variant) {
      const registration = await waitForRegistration(dir, child);
      counting = await connectInspector(registration.url);
      client = counting.connection;
      client.on('Runtime.executionContextDestroyed', () => client.close());
      const setup = [client.send('Runtime.enable')];
      if (variant.debugger) setup.push(client.send('Debugger.enable', {}));
      if (variant.sampling) setup.push(client.send('HeapProfiler.enable'));
      if (variant.marks) setup.push(client.send('Runtime.addBinding', { name: '__taskmemEmit' }));
      await Promise.all(setup);
      if (variant.sampling)
        await client.send('HeapProfiler.startSampling', {
          samplingInterval: variant.sampling,
          includeObjectsCollectedByMajorGC: false,
          includeObjectsCollectedByMinorGC: false,
        });
      await client.send('Runtime.runIfWaitingForDebugger');
      if (variant.statsMs) {
        const poll = async () => {
          try {
            await client.send('Runtime.evaluate', { expression: MEMORY, returnByValue: true, silent: true });
            polling = setTimeout(poll, variant.statsMs);
          } catch {
            // target gone
          }
        };
        polling = setTimeout(poll, variant.statsMs);
      }
    }
    const code = await exited;
    if (code !== 0) throw new Error(`workload exited with ${code}: ${stderr.slice(-500)}`);
    const bench = parseBench(stdout);
    if (!bench) throw new Error(`no TASKMEM_BENCH line: ${stdout.slice(-300)} ${stderr.slice(-300)}`);
    return { loopMs: bench.loopMs, events: counting?.events() ?? 0 };
  } finally {
    clearTimeout(polling);
    client?.close();
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function diagnoseNode({ quick = false, rounds, log = () => {} } = {}) {
  const n = rounds ?? (quick ? 2 : 5);
  const workloadArgs = quick ? ['150'] : ['300'];
  const names = ['bare', ...VARIANTS.map((v) => v.name)];
  const byName = Object.fromEntries(names.map((name) => [name, { loopMs: [], events: [] }]));
  for (let r = 0; r < n; r++) {
    for (const name of roundOrder(names, r)) {
      const variant = VARIANTS.find((v) => v.name === name);
      const result = await runVariant(variant, workloadArgs);
      byName[name].loopMs.push(result.loopMs);
      byName[name].events.push(result.events);
    }
    log(`  diagnosis round ${r + 1}/${n}`);
  }
  return {
    workload: `bench/workloads/alloc-heavy.js ${workloadArgs.join(' ')}`,
    rounds: n,
    variants: names.map((name) => ({
      name,
      loopMs: byName[name].loopMs,
      loop: summary(byName[name].loopMs),
      eventsPerRun: summary(byName[name].events).median,
      ratio: name === 'bare' ? null : pairedRatios(byName[name].loopMs, byName.bare.loopMs),
    })),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const i = process.argv.indexOf('--rounds');
  const result = await diagnoseNode({ quick, rounds: i > 0 ? Number(process.argv[i + 1]) : undefined, log: (m) => console.error(m) });
  console.log(`| Variant (${result.workload}, ${result.rounds} interleaved rounds) | loop ms (median) | vs bare (median, min–max) | CDP events/run |`);
  console.log('|---|---|---|---|');
  for (const v of result.variants) {
    const ratio = v.ratio ? `${v.ratio.median.toFixed(3)} (${v.ratio.min.toFixed(3)}–${v.ratio.max.toFixed(3)})` : '1';
    console.log(`| ${v.name} | ${v.loop.median.toFixed(0)} | ${ratio} | ${v.eventsPerRun} |`);
  }
}
