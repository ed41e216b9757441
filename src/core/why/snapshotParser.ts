/**
 * A streaming reader of V8's `.heapsnapshot` JSON, as `HeapProfiler.addHeapSnapshotChunk` delivers
 * it: the node and edge arrays go straight into typed arrays as chunks arrive, so a large heap is
 * never one string nor one parsed JSON tree (a 200 MB heap's snapshot is ~10 million numbers).
 * Only `strings` is parsed as JSON, once, at the end. The other sections (allocation traces,
 * locations) are skipped.
 *
 * Why our own: `@vscode/v8-heap-parser` (WASM) takes the whole snapshot as one buffer and offers no
 * walk over all node ids or edges, which a diff needs; memlab's heap analysis depends on puppeteer.
 * The format is small and documented by V8 (`meta` names the fields).
 */
import { HeapGraph, type SnapshotMeta } from './heapGraph';

type Section = 'header' | 'between' | 'nodes' | 'edges' | 'strings' | 'done';

/** Grows like a vector; V8 states the counts in the header, so it is usually allocated once. */
class NumberBuffer {
  private data: Uint32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Uint32Array(Math.max(16, capacity));
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  finish(): Uint32Array {
    return this.data.length === this.length ? this.data : this.data.slice(0, this.length);
  }
}

const MARKERS: Array<{ text: string; section: Section }> = [
  { text: '"nodes":[', section: 'nodes' },
  { text: '"edges":[', section: 'edges' },
  { text: '"strings":[', section: 'strings' },
];
const LONGEST_MARKER = Math.max(...MARKERS.map((m) => m.text.length));

export class SnapshotParser {
  private section: Section = 'header';
  private header = '';
  /** The end of the text seen while skipping sections, to find a marker split across chunks. */
  private tail = '';
  private meta: SnapshotMeta | undefined;
  private nodes: NumberBuffer | undefined;
  private edges: NumberBuffer | undefined;
  private current = -1;
  private stringsText: string[] = [];
  /** Characters read, for progress. */
  charsRead = 0;

  push(chunk: string): void {
    this.charsRead += chunk.length;
    let at = 0;
    while (at < chunk.length && this.section !== 'done') {
      switch (this.section) {
        case 'header':
          at = this.readHeader(chunk, at);
          break;
        case 'between':
          at = this.skipToMarker(chunk, at);
          break;
        case 'nodes':
        case 'edges':
          at = this.readNumbers(chunk, at);
          break;
        case 'strings':
          this.stringsText.push(at === 0 ? chunk : chunk.slice(at));
          at = chunk.length;
          break;
      }
    }
  }

  finish(): HeapGraph {
    if (!this.meta || !this.nodes || !this.edges || this.section !== 'strings') {
      throw new Error(`the heap snapshot ended early (in its ${this.section === 'header' ? 'header' : `${this.section} section`})`);
    }
    // What follows `"strings":[` is the array's rest and the object's closing brace.
    const text = this.stringsText.join('');
    this.stringsText = [];
    const end = text.lastIndexOf(']');
    if (end < 0) throw new Error('the heap snapshot ended early (in its strings)');
    const strings = JSON.parse(`[${text.slice(0, end + 1)}`) as unknown;
    if (!Array.isArray(strings)) throw new Error('the heap snapshot has no string table');
    return new HeapGraph(this.meta, this.nodes.finish(), this.edges.finish(), strings as string[]);
  }

  private readHeader(chunk: string, at: number): number {
    this.header += at === 0 ? chunk : chunk.slice(at);
    const marker = this.header.indexOf('"nodes":[');
    if (marker < 0) return chunk.length;
    // `{"snapshot":{...},` then the nodes: close the object to read the header as JSON.
    const head = this.header.slice(0, marker).replace(/,\s*$/, '');
    const parsed = JSON.parse(`${head}}`) as { snapshot?: { meta?: SnapshotMeta; node_count?: number; edge_count?: number } };
    const meta = parsed.snapshot?.meta;
    if (!meta?.node_fields || !meta.edge_fields) throw new Error('the heap snapshot has no meta (node_fields, edge_fields)');
    this.meta = meta;
    this.nodes = new NumberBuffer((parsed.snapshot?.node_count ?? 0) * meta.node_fields.length);
    this.edges = new NumberBuffer((parsed.snapshot?.edge_count ?? 0) * meta.edge_fields.length);
    const rest = this.header.slice(marker + '"nodes":['.length);
    this.header = '';
    this.section = 'nodes';
    // Continue in this chunk where the header ended.
    return chunk.length - rest.length;
  }

  private skipToMarker(chunk: string, at: number): number {
    const text = this.tail + (at === 0 ? chunk : chunk.slice(at));
    for (const marker of MARKERS) {
      const found = text.indexOf(marker.text);
      if (found < 0) continue;
      this.tail = '';
      this.section = marker.section;
      const consumedOfText = found + marker.text.length;
      return Math.max(at, chunk.length - (text.length - consumedOfText));
    }
    this.tail = text.slice(-LONGEST_MARKER);
    return chunk.length;
  }

  private readNumbers(chunk: string, at: number): number {
    const target = this.section === 'nodes' ? this.nodes! : this.edges!;
    let current = this.current;
    for (let i = at; i < chunk.length; i++) {
      const code = chunk.charCodeAt(i);
      if (code >= 48 && code <= 57) {
        current = current < 0 ? code - 48 : current * 10 + (code - 48);
      } else if (code === 44 /* , */) {
        if (current >= 0) target.push(current);
        current = -1;
      } else if (code === 93 /* ] */) {
        if (current >= 0) target.push(current);
        this.current = -1;
        this.section = 'between';
        return i + 1;
      }
      // whitespace and newlines between numbers are skipped
    }
    this.current = current;
    return chunk.length;
  }
}
