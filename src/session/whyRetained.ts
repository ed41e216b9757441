/**
 * "Why is it kept" for a harness session: the target's answer (retainer groups) completed with the
 * holding lines the runtime could not give (Node: found on the syntax tree of the task's module and
 * of the user files on its allocation stacks). Reads those files; the analysis itself is in core.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SiteAggregation } from '../core/sites';
import { findJsHoldingLine, type SourceFile } from '../core/why/jsHoldingLine';
import type { WhyRetained } from '../core/why/model';
import type { Target } from './target';

const JS_LANGUAGES: Record<string, SourceFile['language']> = {
  '.js': 'javascript',
  '.cjs': 'javascript',
  '.mjs': 'javascript',
  '.jsx': 'javascript',
  '.ts': 'typescript',
  '.cts': 'typescript',
  '.mts': 'typescript',
  '.tsx': 'typescript',
};
/** Files searched for holding lines at most (the task's module first, then the heaviest sites'). */
const MAX_FILES = 12;

function readSource(file: string): SourceFile | undefined {
  const language = JS_LANGUAGES[path.extname(file).toLowerCase()];
  if (!language) return undefined;
  try {
    return { file, text: fs.readFileSync(file, 'utf8'), language };
  } catch {
    return undefined;
  }
}

/** The task's module and the user files on its allocation stacks, with the stack lines in each. */
function searchScope(taskFile: string | undefined, sites: SiteAggregation | undefined): { files: SourceFile[]; stackLines: Map<string, number[]> } {
  const stackLines = new Map<string, number[]>();
  const names = taskFile ? [taskFile] : [];
  for (const site of sites?.sites ?? []) {
    for (const stack of site.stacks) {
      for (const frame of stack.frames) {
        if (frame.category !== 'user' || !frame.file) continue;
        if (!names.includes(frame.file)) names.push(frame.file);
        const lines = stackLines.get(frame.file) ?? [];
        lines.push(frame.line);
        stackLines.set(frame.file, lines);
      }
    }
  }
  const files = names
    .slice(0, MAX_FILES)
    .map(readSource)
    .filter((f): f is SourceFile => f !== undefined);
  return { files, stackLines };
}

export async function explainRetained(
  target: Target,
  runs: number,
  taskFile: string | undefined,
  sites: SiteAggregation | undefined,
  progress: (done: number, total: number) => void,
): Promise<WhyRetained> {
  const why = await target.whyRetained(runs, progress);
  if (why.groups.every((g) => g.holdingLine)) return why;
  const scope = searchScope(taskFile, sites);
  return {
    ...why,
    groups: why.groups.map((group) => {
      if (group.holdingLine) return group;
      const line = findJsHoldingLine(group.path, scope.files, scope.stackLines);
      return line ? { ...group, holdingLine: line } : group;
    }),
  };
}
