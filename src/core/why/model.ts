/**
 * Why the memory a task keeps is kept: the chains of references from a root of the heap to what the
 * task's runs kept, grouped (same edges and kinds, different indices), ranked by bytes, and the line
 * of user code that stores into the holder. Node reads them from two heap snapshots' difference;
 * Python from `gc.get_referrers` over objects tracemalloc saw a traced task allocate. Both runtimes
 * answer in this shape (docs/PROTOCOL.md, `Taskmem.whyRetained`).
 */

/** How one step of a path holds the next. */
export type RetainerEdgeKind =
  /** A module or closure variable (`const cache = new Map()` at module level, a captured variable, a cell). */
  | 'variable'
  /** A named property or attribute (`obj.history`, `Cls.entries`, a dict key that is a string). */
  | 'property'
  /** An array or list element (indices are folded: `[]`). */
  | 'element'
  /** A Map/Set/dict entry (keys are folded). */
  | 'entry'
  /** An event listener array or function (`emitter.on`). */
  | 'listener'
  /** A reference the runtime holds internally (a timer's callback, an lru_cache's cache, a default argument). */
  | 'internal';

export interface RetainerStep {
  /** The edge from the step before: a variable or property name, `[]`, `{entry}`, … */
  edge: string;
  kind: RetainerEdgeKind;
  /** What is held there: `Map`, `Array`, `Object`, `Order`, `list`, `dict`, `function onOrder`, `module jobs.py`. */
  holder: string;
}

/** The statement of user code that stores into the holder, found on the syntax tree. */
export interface HoldingLine {
  /** A file path (or URL for scripts without one) as the sites name files. */
  file: string;
  /** 1-based. */
  line: number;
  /** What the statement does to the holder: `seenCustomers.set`, `entries.push`, `emitter.on('order')`, `_seen[key] =`. */
  operation: string;
  /**
   * `exact`: the only statement that stores into the holder by its name in that module;
   * `likely`: one of several, the one in a function on the allocation stack (or the first).
   */
  confidence: 'exact' | 'likely';
  /** How many statements store into the holder there (1 when exact). */
  candidates: number;
}

export interface RetainerGroup {
  /** From the root side (a module, a class, a timer list) to the kept objects; indices folded. */
  path: RetainerStep[];
  /** Kept objects in the group (those new since the first reading that hang under this path). */
  objects: number;
  /** Their bytes (self sizes: what would be freed if the holder let go of them). */
  bytes: number;
  /** Bytes per measured run (or per task in a worker). */
  bytesPerRun: number;
  /** Entries the holder gained (distinct references into the kept objects), per run. */
  entriesPerRun: number;
  holdingLine?: HoldingLine;
}

/** A worker or attach session's explanation (on demand): over the tasks finished between two readings of one process. */
export interface SessionWhy extends WhyRetained {
  /** Tasks finished between the two readings (all names). */
  tasks: number;
  /** The process (pid) whose heap was read. */
  pid: number;
}

export interface WhyRetained {
  /** Runs (or tasks) between the two readings. */
  runs: number;
  groups: RetainerGroup[];
  /** Bytes of all kept objects, grouped or not. */
  keptBytes: number;
  /** How long the target was paused to read its heap (snapshots, referrer walks), in ms. */
  pauseMs: number;
  /** Set when the walk stopped at its bound (objects visited, time): the groups are from what it saw. */
  truncated?: string;
}
