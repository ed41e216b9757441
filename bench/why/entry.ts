// "Why retained" bench: each variant runs in its own process (`node bench/.build/why-entry.cjs
// <variant> …`, spawned by bench/run.mjs), so the peak RSS it prints is its own.
//   product <ws-url> <wait-ms>  HeapSnapshotReader.baseline(), wait, explain(): the product's diff
//   read <file>                 readFileSync + JSON.parse of a snapshot file: what a tool reading the file does
//   v8 <ws-url>                 takeHeapSnapshot with the chunks only counted: V8's own share
//   write <ws-url> <file>       takes the snapshot the `read` variant reads (preparation, not a variant)
// Each prints one `TASKMEM_BENCH {…}` line.
import { createWriteStream, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CdpConnection } from '../../src/cdp/connection';
import { WebSocketTransport } from '../../src/cdp/transport';
import { HeapSnapshotReader } from '../../src/runtimes/node/heapSnapshot';

const TICK_MS = 5;

/** The bundle's own path, for bench/run.mjs to spawn. */
export const entryFile = (): string => __filename;

/** Longest gap between two 5 ms ticks, minus the 5 ms: how long the event loop could not answer. */
function stallMonitor(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - TICK_MS);
    last = now;
  }, TICK_MS);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last - TICK_MS);
    },
  };
}

/** The process's high-water RSS (includes its worker threads), MiB. */
const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function connect(url: string): Promise<CdpConnection> {
  return new CdpConnection(await WebSocketTransport.connect(url));
}

async function product(url: string, waitMs: number): Promise<Record<string, unknown>> {
  const client = await connect(url);
  const reader = new HeapSnapshotReader(client);
  const rssBeforeMiB = peakRssMiB();
  try {
    const monitor = stallMonitor();
    const t0 = performance.now();
    await reader.baseline();
    const baselineMs = performance.now() - t0;
    const stallBaselineMs = monitor.stop();
    await tick(waitMs);
    const diffMonitor = stallMonitor();
    const t1 = performance.now();
    const why = await reader.explain(1, () => undefined);
    const diffMs = performance.now() - t1;
    const stallDiffMs = diffMonitor.stop();
    const top = why.groups[0];
    return {
      diffMs,
      baselineMs,
      pauseMs: why.pauseMs,
      stallMs: Math.max(stallBaselineMs, stallDiffMs),
      stallBaselineMs,
      stallDiffMs,
      rssBeforeMiB,
      peakRssMiB: peakRssMiB(),
      groups: why.groups.length,
      keptBytes: why.keptBytes,
      topPath: top?.path.map((step) => ({ edge: step.edge, holder: step.holder })),
      topObjects: top?.objects,
      topBytes: top?.bytes,
    };
  } finally {
    reader.dispose();
    client.close();
  }
}

async function readFile(file: string): Promise<Record<string, unknown>> {
  const monitor = stallMonitor();
  await tick(TICK_MS * 2);
  const t0 = performance.now();
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { node_count: number } };
  const readMs = performance.now() - t0;
  await tick(TICK_MS * 2);
  return { readMs, nodes: snapshot.snapshot.node_count, stallMs: monitor.stop(), peakRssMiB: peakRssMiB() };
}

async function v8Only(url: string): Promise<Record<string, unknown>> {
  const client = await connect(url);
  let chunks = 0;
  let chars = 0;
  const counting = client.on('HeapProfiler.addHeapSnapshotChunk', (event) => {
    chunks++;
    chars += event.chunk.length;
  });
  try {
    const t0 = performance.now();
    // The same parameters as the product's reader.
    await client.send('HeapProfiler.takeHeapSnapshot', { reportProgress: true, captureNumericValue: false });
    return { v8Ms: performance.now() - t0, chunks, chars, peakRssMiB: peakRssMiB() };
  } finally {
    counting.dispose();
    client.close();
  }
}

async function write(url: string, file: string): Promise<Record<string, unknown>> {
  const client = await connect(url);
  const out = createWriteStream(file);
  let head = '';
  let chars = 0;
  const chunks = client.on('HeapProfiler.addHeapSnapshotChunk', (event) => {
    if (head.length < 4096) head += event.chunk;
    chars += event.chunk.length;
    out.write(event.chunk);
  });
  try {
    const t0 = performance.now();
    await client.send('HeapProfiler.takeHeapSnapshot', { reportProgress: true, captureNumericValue: false });
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    // The snapshot's header says how many nodes it has.
    const nodes = Number(/"node_count":(\d+)/.exec(head)?.[1] ?? NaN);
    return { writeMs: performance.now() - t0, chars, nodes };
  } finally {
    chunks.dispose();
    client.close();
  }
}

async function main(args: string[]): Promise<void> {
  const [variant, a, b] = args;
  const result =
    variant === 'product'
      ? await product(a, Number(b))
      : variant === 'read'
        ? await readFile(a)
        : variant === 'v8'
          ? await v8Only(a)
          : variant === 'write'
            ? await write(a, b)
            : undefined;
  if (!result) throw new Error(`unknown variant ${variant}`);
  console.log(`TASKMEM_BENCH ${JSON.stringify(result)}`);
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(1);
    },
  );
