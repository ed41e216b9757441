/**
 * Heap snapshots through the inspector, read as they stream: `HeapProfiler.takeHeapSnapshot` sends
 * the snapshot as `addHeapSnapshotChunk` events before it answers, and each chunk goes into the
 * parser as it arrives (the whole text is never held). The snapshot's own full GC runs first.
 */
import type { CdpClient } from '../../cdp/connection';
import type { HeapGraph } from '../../core/why/heapGraph';
import { SnapshotParser } from '../../core/why/snapshotParser';

export async function takeHeapSnapshot(client: CdpClient, progress: (done: number, total: number) => void): Promise<HeapGraph> {
  const parser = new SnapshotParser();
  let failure: Error | undefined;
  const chunks = client.on('HeapProfiler.addHeapSnapshotChunk', (event) => {
    if (failure) return;
    try {
      parser.push(event.chunk);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
  });
  const steps = client.on('HeapProfiler.reportHeapSnapshotProgress', (event) => progress(event.done, event.total));
  try {
    await client.send('HeapProfiler.takeHeapSnapshot', { reportProgress: true, captureNumericValue: false });
  } finally {
    chunks.dispose();
    steps.dispose();
  }
  if (failure) throw failure;
  return parser.finish();
}
