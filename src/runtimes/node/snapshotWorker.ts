/**
 * A worker thread that reads heap snapshots for the session: chunks arrive as the inspector sends
 * them, the graph and its analysis live here, so neither the extension host's event loop (the
 * breadth-first walk of a 6-million-node heap takes ~1 s) nor its memory (~1 GB for such a heap)
 * carries them. Only the baseline's ids are kept between two snapshots.
 */
import { parentPort } from 'node:worker_threads';
import { analyseSnapshots } from '../../core/why/retainerPaths';
import { SnapshotParser } from '../../core/why/snapshotParser';
import type { SnapshotWorkerReply, SnapshotWorkerRequest } from './snapshotMessages';

let parser: SnapshotParser | undefined;
let failure: Error | undefined;
let baselineIds: Uint32Array | undefined;

function reply(message: SnapshotWorkerReply): void {
  parentPort?.postMessage(message);
}

function handle(message: SnapshotWorkerRequest): void {
  switch (message.type) {
    case 'begin':
      parser = new SnapshotParser();
      failure = undefined;
      return;
    case 'chunk':
      if (!parser || failure) return;
      try {
        parser.push(message.text);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
      return;
    case 'end': {
      const reading = parser;
      parser = undefined;
      try {
        if (failure) throw failure;
        if (!reading) throw new Error('no heap snapshot was being read');
        const graph = reading.finish();
        if (message.role === 'baseline') {
          baselineIds = graph.sortedIds();
          reply({ type: 'baseline', nodes: graph.nodeCount });
          return;
        }
        if (!baselineIds) throw new Error('no baseline heap snapshot was taken');
        reply({ type: 'explained', why: analyseSnapshots(baselineIds, graph, message.runs), nodes: graph.nodeCount });
      } catch (error) {
        reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
  }
}

parentPort?.on('message', (message: SnapshotWorkerRequest) => handle(message));
