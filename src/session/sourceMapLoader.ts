/**
 * Loads the source maps of the scripts that appear in a capture (lazily: a worker parses thousands
 * of scripts, only a few allocate). `sourceMapURL` comes from Debugger.scriptParsed: a data: URL or
 * a path relative to the script.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RawSamplingProfile } from '../core/model';
import { SourceMapStore, decodeDataUrl } from '../core/sourcemaps';
import type { ScriptInfo } from '../runtimes/adapter';

/** Larger maps are skipped with a warning rather than stalling the session. */
const MAX_MAP_BYTES = 64 * 1024 * 1024;

export class SourceMapLoader {
  readonly store = new SourceMapStore();
  private readonly attempted = new Set<string>();

  /** Loads maps for every script referenced by the profile; returns warnings for maps that failed. */
  loadFor(profile: RawSamplingProfile, scripts: ReadonlyMap<string, ScriptInfo>, targetId: string): string[] {
    const warnings: string[] = [];
    const stack = [profile.head];
    const seen = new Set<number>();
    while (stack.length) {
      const node = stack.pop();
      if (!node || seen.has(node.id)) continue;
      seen.add(node.id);
      const scriptId = node.callFrame?.scriptId;
      const key = `${targetId}:${scriptId}`;
      if (scriptId && scriptId !== '0' && !this.attempted.has(key)) {
        this.attempted.add(key);
        const script = scripts.get(scriptId);
        if (script?.sourceMapURL) {
          const problem = this.load(key, script);
          if (problem) warnings.push(problem);
        }
      }
      if (Array.isArray(node.children)) for (const child of node.children) stack.push(child);
    }
    return warnings;
  }

  private load(key: string, script: ScriptInfo): string | undefined {
    const mapRef = script.sourceMapURL as string;
    let text: string | undefined;
    let mapUrl: string;
    if (mapRef.startsWith('data:')) {
      text = decodeDataUrl(mapRef);
      mapUrl = script.url;
      if (text === undefined) return `source map of ${script.url} is an unreadable data URL`;
    } else {
      let base: URL;
      try {
        base = new URL(script.url.startsWith('file:') ? script.url : pathToFileURL(script.url).href);
        const resolved = new URL(mapRef, base);
        if (resolved.protocol !== 'file:') return `source map of ${script.url} is not a local file (${resolved.protocol})`;
        mapUrl = resolved.href;
        const file = fileURLToPath(resolved);
        const stat = fs.statSync(file);
        // A FIFO would block the extension host forever and /dev/zero never ends: regular files only.
        if (!stat.isFile()) return `source map of ${script.url} is not a regular file; sites stay on generated lines`;
        const size = stat.size;
        if (size > MAX_MAP_BYTES) return `source map ${path.basename(file)} is too large (${size} bytes); sites stay on generated lines`;
        text = fs.readFileSync(file, 'utf8');
      } catch (error) {
        // Published packages often point at maps they do not ship; that only costs original lines.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        return `cannot read the source map of ${script.url}: ${(error as Error).message}`;
      }
    }
    const problem = this.store.add(key, script.url, text, mapUrl);
    return problem ? `source map of ${script.url}: ${problem}` : undefined;
  }
}
