/**
 * Source maps for generated scripts (tsc, tsx, ts-node, bundlers). Pure: callers fetch the map text
 * (file, or inline data URL via `decodeDataUrl`) and pass it in with where it came from.
 */
import { FlattenMap, GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, originalPositionFor, type TraceMap } from '@jridgewell/trace-mapping';
import { urlToPath } from './frames';
import { decodeMappings, findSegment, type DecodedMappings } from './mappings';
import type { SourceMapper, SourcePosition } from './model';

interface Entry {
  map: TraceMap;
  generatedUrl: string;
  /** The `mappings` text of a plain (not sectioned) map, until it is decoded on first use. */
  encoded?: string;
  /** Decoded into flat arrays; undefined while not needed yet, or when the library does the lookups. */
  decoded?: DecodedMappings;
}

type Position = SourcePosition & { name?: string };

export class SourceMapStore implements SourceMapper {
  private readonly byScript = new Map<string, Entry>();
  /** Fallback when a frame's scriptId is unknown (profiles merged from several targets). */
  private readonly byPath = new Map<string, Entry>();

  /**
   * Adds the map of one script. `mapUrl` is where the map lives (file URL or path): relative `sources`
   * resolve against it, after `sourceRoot`. Returns an error message instead of throwing.
   */
  add(scriptId: string, generatedUrl: string, mapText: string, mapUrl: string): string | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(mapText);
    } catch (error) {
      // V8's message quotes the text it choked on: never echo what a reference pointed at (any file).
      const position = /position (\d+)/.exec(error instanceof Error ? error.message : '');
      return `invalid source map JSON (${mapUrl})${position ? ` at position ${position[1]}` : ''}`;
    }
    const problem = checkMapShape(parsed);
    if (problem) return `invalid source map (${mapUrl}): ${problem}`;
    let map: TraceMap;
    try {
      map = FlattenMap(parsed as Parameters<typeof FlattenMap>[0], toResolvableUrl(mapUrl));
    } catch (error) {
      return `invalid source map (${mapUrl}): ${error instanceof Error ? error.message : String(error)}`;
    }
    const entry: Entry = { map, generatedUrl };
    // Plain maps are decoded by us, lazily (decodeMappings): only maps whose scripts show up cost anything.
    const plain = parsed as Record<string, unknown>;
    if (typeof plain.mappings === 'string' && !('sections' in plain) && !('_decodedMemo' in plain) && Array.isArray(map.resolvedSources)) {
      entry.encoded = plain.mappings;
    }
    this.byScript.set(scriptId, entry);
    if (generatedUrl !== '') this.byPath.set(urlToPath(generatedUrl), entry);
    return undefined;
  }

  has(scriptId: string): boolean {
    return this.byScript.has(scriptId);
  }

  get size(): number {
    return this.byScript.size;
  }

  clear(): void {
    this.byScript.clear();
    this.byPath.clear();
  }

  /** 0-based `line`/`column` in; 1-based out. Undefined without a map or a mapping on that line. */
  original(scriptId: string, url: string, line: number, column: number): Position | undefined {
    const entry = this.byScript.get(scriptId) ?? (url !== '' ? this.byPath.get(urlToPath(url)) : undefined);
    if (!entry || !Number.isFinite(line) || line < 0) return undefined;
    const col = Number.isFinite(column) && column >= 0 ? column : 0;
    if (entry.encoded !== undefined) {
      entry.decoded = decodeMappings(entry.encoded);
      entry.encoded = undefined;
    }
    if (entry.decoded && Number.isInteger(line)) return fromDecoded(entry.map, entry.decoded, line, col);
    // GREATEST_LOWER_BOUND returns the exact column when mapped; V8's function start columns point at
    // `function` or the name, which may sit before or after a segment, so try the next one as well.
    for (const bias of [GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND] as const) {
      const hit = originalPositionFor(entry.map, { line: line + 1, column: col, bias });
      if (hit.source === null) continue;
      const position: Position = {
        file: sourceToFile(hit.source),
        line: hit.line,
        column: hit.column + 1,
      };
      if (hit.name !== null) position.name = hit.name;
      return position;
    }
    return undefined;
  }
}

/** `original` on flat arrays: the same two tries and the same result as `originalPositionFor`. */
function fromDecoded(map: TraceMap, decoded: DecodedMappings, line: number, column: number): Position | undefined {
  for (const greatestLowerBound of [true, false]) {
    const segment = findSegment(decoded, line, column, greatestLowerBound);
    if (segment === -1 || decoded.length[segment] === 1) continue;
    const at = segment * 5;
    const source = map.resolvedSources[decoded.fields[at + 1]];
    // A source index past `sources` (a broken map): no mapping rather than an undefined file.
    if (typeof source !== 'string') continue;
    const position: Position = { file: sourceToFile(source), line: decoded.fields[at + 2] + 1, column: decoded.fields[at + 3] + 1 };
    // As the library: a name slot that holds null (or nothing) is no name.
    const name: string | null = decoded.length[segment] === 5 ? map.names[decoded.fields[at + 4]] : null;
    if (name !== null) position.name = name;
    return position;
  }
  return undefined;
}

function checkMapShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const map = value as Record<string, unknown>;
  if (map.version !== 3 && map.version !== '3') return `unsupported version ${String(JSON.stringify(map.version)).slice(0, 40)}`;
  if (Array.isArray(map.sections)) return undefined;
  if (typeof map.mappings !== 'string') return 'no "mappings" string';
  if (!Array.isArray(map.sources)) return 'no "sources" array';
  if (map.names !== undefined && !Array.isArray(map.names)) return '"names" is not an array';
  return undefined;
}

/** Windows paths become file URLs so the resolver sees forward slashes and a scheme. */
function toResolvableUrl(mapUrl: string): string {
  if (/^[A-Za-z]:[\\/]/.test(mapUrl)) return `file:///${mapUrl.replace(/\\/g, '/')}`;
  if (mapUrl.startsWith('\\\\')) return `file:${mapUrl.replace(/\\/g, '/')}`;
  return mapUrl;
}

function sourceToFile(source: string): string {
  return /^file:/i.test(source) ? urlToPath(source) : source;
}

/**
 * Decodes `data:[<mediatype>][;charset=…][;base64],<data>` (inline source maps). Undefined when the
 * string is not a data URL or does not decode.
 */
export function decodeDataUrl(url: string): string | undefined {
  if (!/^data:/i.test(url)) return undefined;
  const comma = url.indexOf(',');
  if (comma === -1) return undefined;
  const meta = url.slice(5, comma).toLowerCase();
  const data = url.slice(comma + 1);
  if (meta.split(';').includes('base64')) {
    try {
      const binary = atob(data.replace(/\s+/g, ''));
      const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return undefined;
    }
  }
  try {
    return decodeURIComponent(data);
  } catch {
    return undefined;
  }
}
