/**
 * Source maps for generated scripts (tsc, tsx, ts-node, bundlers). Pure: callers fetch the map text
 * (file, or inline data URL via `decodeDataUrl`) and pass it in with where it came from.
 */
import { FlattenMap, GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND, originalPositionFor, type TraceMap } from '@jridgewell/trace-mapping';
import { urlToPath } from './frames';
import type { SourceMapper, SourcePosition } from './model';

interface Entry {
  map: TraceMap;
  generatedUrl: string;
}

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
  original(scriptId: string, url: string, line: number, column: number): (SourcePosition & { name?: string }) | undefined {
    const entry = this.byScript.get(scriptId) ?? (url !== '' ? this.byPath.get(urlToPath(url)) : undefined);
    if (!entry || !Number.isFinite(line) || line < 0) return undefined;
    const col = Number.isFinite(column) && column >= 0 ? column : 0;
    // GREATEST_LOWER_BOUND returns the exact column when mapped; V8's function start columns point at
    // `function` or the name, which may sit before or after a segment, so try the next one as well.
    for (const bias of [GREATEST_LOWER_BOUND, LEAST_UPPER_BOUND] as const) {
      const hit = originalPositionFor(entry.map, { line: line + 1, column: col, bias });
      if (hit.source === null) continue;
      const position: SourcePosition & { name?: string } = {
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
