/**
 * A V8 heap snapshot as flat arrays, read through the field layout its `meta` declares (node and edge
 * fields are not fixed across V8 versions). Node `i` is the i-th node (not its offset in the array).
 */

export interface SnapshotMeta {
  node_fields: string[];
  /** `node_types[0]` lists the names of the `type` field's values; the other entries are field kinds. */
  node_types: Array<string[] | string>;
  edge_fields: string[];
  edge_types: Array<string[] | string>;
}

export class HeapGraph {
  readonly nodeCount: number;
  private readonly nodeFieldCount: number;
  private readonly edgeFieldCount: number;
  private readonly typeOffset: number;
  private readonly nameOffset: number;
  private readonly idOffset: number;
  private readonly selfSizeOffset: number;
  private readonly edgeCountOffset: number;
  private readonly edgeTypeOffset: number;
  private readonly edgeNameOffset: number;
  private readonly edgeToOffset: number;
  private readonly nodeTypes: string[];
  private readonly edgeTypes: string[];
  /** First edge of each node, as an edge number; `firstEdge[nodeCount]` is the edge count. */
  private readonly firstEdge: Uint32Array;
  /** Edge type numbers whose `name_or_index` is an index, not a string. */
  private readonly indexedEdgeTypes: Set<number>;

  constructor(
    meta: SnapshotMeta,
    private readonly nodes: Uint32Array,
    private readonly edges: Uint32Array,
    private readonly strings: string[],
  ) {
    const field = (fields: string[], name: string): number => {
      const at = fields.indexOf(name);
      if (at < 0) throw new Error(`the heap snapshot's meta has no "${name}" field`);
      return at;
    };
    this.nodeFieldCount = meta.node_fields.length;
    this.edgeFieldCount = meta.edge_fields.length;
    this.typeOffset = field(meta.node_fields, 'type');
    this.nameOffset = field(meta.node_fields, 'name');
    this.idOffset = field(meta.node_fields, 'id');
    this.selfSizeOffset = field(meta.node_fields, 'self_size');
    this.edgeCountOffset = field(meta.node_fields, 'edge_count');
    this.edgeTypeOffset = field(meta.edge_fields, 'type');
    this.edgeNameOffset = field(meta.edge_fields, 'name_or_index');
    this.edgeToOffset = field(meta.edge_fields, 'to_node');
    this.nodeTypes = asNames(meta.node_types[this.typeOffset]);
    this.edgeTypes = asNames(meta.edge_types[this.edgeTypeOffset]);
    this.indexedEdgeTypes = new Set(['element', 'hidden'].map((t) => this.edgeTypes.indexOf(t)).filter((t) => t >= 0));
    this.nodeCount = Math.floor(nodes.length / this.nodeFieldCount);
    this.firstEdge = new Uint32Array(this.nodeCount + 1);
    let edge = 0;
    for (let i = 0; i < this.nodeCount; i++) {
      this.firstEdge[i] = edge;
      edge += nodes[i * this.nodeFieldCount + this.edgeCountOffset];
    }
    this.firstEdge[this.nodeCount] = edge;
    if (edge * this.edgeFieldCount !== edges.length) {
      throw new Error(`the heap snapshot's edges do not match its nodes (${edges.length / this.edgeFieldCount} edges, the nodes count ${edge})`);
    }
  }

  id(node: number): number {
    return this.nodes[node * this.nodeFieldCount + this.idOffset];
  }
  type(node: number): string {
    return this.nodeTypes[this.nodes[node * this.nodeFieldCount + this.typeOffset]] ?? 'unknown';
  }
  name(node: number): string {
    return this.strings[this.nodes[node * this.nodeFieldCount + this.nameOffset]] ?? '';
  }
  selfSize(node: number): number {
    return this.nodes[node * this.nodeFieldCount + this.selfSizeOffset];
  }
  /** Edges of `node` as edge numbers [from, to). */
  edgeRange(node: number): [number, number] {
    return [this.firstEdge[node], this.firstEdge[node + 1]];
  }
  edgeType(edge: number): string {
    return this.edgeTypes[this.edges[edge * this.edgeFieldCount + this.edgeTypeOffset]] ?? 'unknown';
  }
  /** An edge's name, or its index as a string for elements and hidden edges. */
  edgeName(edge: number): string {
    const type = this.edges[edge * this.edgeFieldCount + this.edgeTypeOffset];
    const value = this.edges[edge * this.edgeFieldCount + this.edgeNameOffset];
    return this.indexedEdgeTypes.has(type) ? String(value) : (this.strings[value] ?? '');
  }
  edgeTarget(edge: number): number {
    return this.edges[edge * this.edgeFieldCount + this.edgeToOffset] / this.nodeFieldCount;
  }
  /** The ids of all nodes, sorted: what a later snapshot of the same process is compared with. */
  sortedIds(): Uint32Array {
    const ids = new Uint32Array(this.nodeCount);
    for (let i = 0; i < this.nodeCount; i++) ids[i] = this.id(i);
    return ids.sort();
  }
}

function asNames(value: string[] | string | undefined): string[] {
  return Array.isArray(value) ? value : [];
}

/** Whether `id` is in `sorted` (binary search). */
export function hasId(sorted: Uint32Array, id: number): boolean {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const value = sorted[mid];
    if (value === id) return true;
    if (value < id) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}
