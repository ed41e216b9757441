/**
 * Resolves a profile's distinct call frames (see profileIndex.ts) into report frames: source maps
 * applied, categories, and a `file:line:function` key shared by frames that map to the same place.
 * Each distinct frame is resolved once, so the source mapper is asked once per distinct frame.
 */
import { classifyFrame, urlToPath, V8_PSEUDO_FRAMES } from './frames';
import type { Frame, FrameCategory, SourceMapper } from './model';
import type { RawFrame, Steps } from './profileIndex';

export interface ResolvedFrame {
  frame: Frame;
  /** `file:line:function`. */
  key: string;
  /** V8 pseudo frames such as (root): kept out of stacks. */
  pseudo: boolean;
}

/** Categories as small numbers, so per-node passes compare integers. */
export const USER = 0;
export const DEPENDENCY = 1;
export const RUNTIME = 2;
export const PROFILER = 3;
const CODES: Record<FrameCategory, number> = { user: USER, dependency: DEPENDENCY, runtime: RUNTIME, profiler: PROFILER };

export interface ResolvedFrames {
  /** Per distinct frame. */
  resolved: ResolvedFrame[];
  /** Per distinct frame: USER, DEPENDENCY, RUNTIME or PROFILER. */
  category: Uint8Array;
  /** Per distinct frame: the number of its key; equal keys, equal numbers. */
  keyOf: Int32Array;
  /** Number of distinct keys. */
  keyCount: number;
}

export interface ResolveOptions {
  mapper?: SourceMapper;
  profilerPaths?: string[];
}

const PSEUDO_NAME = /^\(.*\)$/;

/** Paths and categories per distinct url and file: a profile's thousands of frames share a few dozen. */
class FileCache {
  private readonly paths = new Map<string, string>();
  private readonly categories = new Map<string, FrameCategory>();

  constructor(private readonly options: ResolveOptions) {}

  path(url: string): string {
    let path = this.paths.get(url);
    if (path === undefined) this.paths.set(url, (path = urlToPath(url)));
    return path;
  }

  /** classifyFrame, whose answer depends on the name only for V8's pseudo frames. */
  category(file: string, name: string): FrameCategory {
    if (V8_PSEUDO_FRAMES.has(name)) return classifyFrame(file, name, { profilerPaths: this.options.profilerPaths ?? [] });
    let category = this.categories.get(file);
    if (category === undefined) this.categories.set(file, (category = classifyFrame(file, name, { profilerPaths: this.options.profilerPaths ?? [] })));
    return category;
  }
}

function resolveFrame(raw: RawFrame, options: ResolveOptions, files: FileCache): ResolvedFrame {
  const { scriptId, url, line, column } = raw;
  let file = files.path(url);
  let outLine = line + 1;
  let outColumn = column + 1;
  let name = raw.name;
  const mapper = options.mapper;
  if (mapper && url !== '') {
    let original: ReturnType<SourceMapper['original']>;
    try {
      original = mapper.original(scriptId, url, line, column);
    } catch {
      original = undefined; // a broken map must not cost us the whole profile
    }
    if (original) {
      file = original.file;
      outLine = original.line;
      outColumn = original.column;
      if (name === '' && original.name) name = original.name;
    }
  }
  if (name === '') name = '(anonymous)';
  const category = files.category(file, name);
  return {
    frame: { function: name, file, line: outLine, column: outColumn, category },
    key: `${file}:${outLine}:${name}`,
    pseudo: file === '' && PSEUDO_NAME.test(name),
  };
}

/**
 * Resolves every distinct frame, in order (the mapper sees frames in order of first appearance).
 * Yields every few frames: a lookup may decode a whole source map.
 */
export function* resolveFrames(frames: readonly RawFrame[], options: ResolveOptions): Steps<ResolvedFrames> {
  const resolved: ResolvedFrame[] = [];
  const category = new Uint8Array(frames.length);
  const keyOf = new Int32Array(frames.length);
  const keyIds = new Map<string, number>();
  const files = new FileCache(options);
  for (let f = 0; f < frames.length; f++) {
    if ((f & 63) === 63) yield;
    const r = resolveFrame(frames[f], options, files);
    resolved.push(r);
    category[f] = CODES[r.frame.category];
    let id = keyIds.get(r.key);
    if (id === undefined) keyIds.set(r.key, (id = keyIds.size));
    keyOf[f] = id;
  }
  return { resolved, category, keyOf, keyCount: keyIds.size };
}
