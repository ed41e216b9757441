/**
 * The report: what the CLI's `--json` writes and what the panel and text/Markdown output render.
 * Schema documented in docs/REPORT-SCHEMA.md; bump `schemaVersion` on any incompatible change.
 */
import type { CallerLine, Frame, FrameCategory, GrowthFit, LeakMemory, TargetInfo, TaskRun, TaskSummary, Verdict, VerdictKind } from './model';
import { formatBytes } from './format';
import { progressUnit } from './reportRender';
import { compareSites, type SiteAggregation } from './sites';
import { judgeOverall } from './verdict';
import type { RecyclingAdvice } from './recyclingAdvisor';
import type { SessionWhy, WhyRetained } from './why/model';

export type ReportMode = 'harness' | 'worker' | 'attach';

export interface ReportTask {
  name: string;
  runs: number;
  bytesPerRun: number;
  verdict: VerdictKind;
  confidence: number;
  summary: string;
  /** For a leak: where the growing memory lives (heap, outside-heap: Node Buffers/ArrayBuffers, native: C code). */
  memory?: LeakMemory;
  /** The figures behind the task's verdict. */
  evidence: string[];
  fit?: GrowthFit;
  series: TaskRun[];
  sampledRuns?: number;
  /** Why the memory is kept: retainer paths, ranked, with the lines that hold them (harness). */
  why?: WhyRetained;
}

export interface ReportSite {
  file: string;
  line: number;
  column: number;
  function: string;
  retainedBytes: number;
  bytesPerRun: number | null;
  share: number;
  count: number;
  category: FrameCategory;
  precision: 'function' | 'line';
  stack: Frame[];
  callers: CallerLine[];
}

export interface TaskmemReport {
  schemaVersion: 1;
  tool: { name: 'taskmem'; version: string };
  mode: ReportMode;
  /** What was profiled, human readable. */
  command: string;
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  /** 'completed' | 'target exited (code 1)' | 'stopped by user' | ... */
  endReason: string;
  /** Overall verdict. */
  verdict: Verdict;
  tasks: ReportTask[];
  sites: ReportSite[];
  /** Bytes per frame category: user/dependency are the listed sites, runtime/profiler are not listed. */
  grouped: Record<FrameCategory, number>;
  targets: TargetInfo[];
  settings: Record<string, string | number | boolean>;
  /** Worker and attach: where the tasks came from ("HTTP requests (…)", "fixed time windows …"). */
  taskSource?: string;
  /** Honest caveats: sampling scaled, targets that crashed, windows used instead of marks... */
  notes: string[];
  warnings: string[];
  /** Worker sessions: recycling limits from what was measured (--max-tasks-per-child, --max-memory-per-child). */
  recycling?: RecyclingAdvice;
  /** Worker and attach sessions: why the memory is kept, when it was asked for (two readings of one process). */
  why?: SessionWhy;
}

export interface ReportInput {
  mode: ReportMode;
  command: string;
  startedAt: Date | number;
  durationMs: number;
  endReason: string;
  tasks: TaskSummary[];
  aggregation: SiteAggregation | undefined;
  targets: TargetInfo[];
  settings: Record<string, string | number | boolean>;
  notes?: string[];
  warnings?: string[];
  taskSource?: string;
  toolVersion: string;
  /** Sites kept in the report (default 200; the rest are summed up in a note). */
  maxSites?: number;
  recycling?: RecyclingAdvice;
  why?: SessionWhy;
}

export const REPORT_SCHEMA_VERSION = 1 as const;
export const DEFAULT_REPORT_MAX_SITES = 200;

function isoDate(value: Date | number): string {
  const date = value instanceof Date ? value : new Date(value);
  // An invalid date must not make the whole report throw.
  return Number.isFinite(date.getTime()) ? date.toISOString() : new Date(0).toISOString();
}

export function buildReport(input: ReportInput): TaskmemReport {
  const notes = [...(input.notes ?? [])];
  const aggregation = input.aggregation;
  const allSites = aggregation ? [...aggregation.sites].sort(compareSites) : [];
  const maxSites = Math.max(0, input.maxSites ?? DEFAULT_REPORT_MAX_SITES);
  const shown = allSites.slice(0, maxSites);
  if (allSites.length > shown.length) {
    const rest = allSites.slice(shown.length).reduce((sum, s) => sum + s.retainedBytes, 0);
    notes.push(`${allSites.length - shown.length} smaller sites (${formatBytes(rest)}) are left out of this report.`);
  }
  if (!aggregation) notes.push('No retained heap profile was captured, so there are no sites.');

  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'taskmem', version: input.toolVersion },
    mode: input.mode,
    command: input.command,
    startedAt: isoDate(input.startedAt),
    durationMs: input.durationMs,
    endReason: input.endReason,
    verdict: judgeOverall(input.tasks, progressUnit(input.mode)),
    tasks: input.tasks.map((task) => {
      const out: ReportTask = {
        name: task.name,
        runs: task.runs,
        bytesPerRun: task.bytesPerRun,
        verdict: task.verdict.kind,
        confidence: task.verdict.confidence,
        summary: task.verdict.summary,
        evidence: [...task.verdict.evidence],
        series: task.series.map((run) => ({ ...run })),
      };
      if (task.verdict.memory) out.memory = task.verdict.memory;
      if (task.fit) out.fit = { ...task.fit };
      if (task.sampledRuns !== undefined) out.sampledRuns = task.sampledRuns;
      if (task.why) out.why = { ...task.why, groups: task.why.groups.map((g) => ({ ...g, path: g.path.map((s) => ({ ...s })) })) };
      return out;
    }),
    sites: shown.map((site) => ({
      file: site.file,
      line: site.line,
      column: site.column,
      function: site.function,
      retainedBytes: site.retainedBytes,
      bytesPerRun: site.bytesPerRun ?? null,
      share: site.share,
      count: site.count,
      category: site.category,
      precision: site.precision,
      stack: heaviestStack(site.stacks),
      callers: site.callers.map((c) => ({ ...c })),
    })),
    grouped: aggregation ? { ...aggregation.byCategory } : { user: 0, dependency: 0, runtime: 0, profiler: 0 },
    targets: input.targets.map((t) => ({ ...t, argv: [...t.argv] })),
    settings: { ...input.settings },
    ...(input.taskSource ? { taskSource: input.taskSource } : {}),
    notes,
    warnings: [...(input.warnings ?? [])],
    ...(input.why ? { why: { ...input.why, groups: input.why.groups.map((g) => ({ ...g, path: g.path.map((s) => ({ ...s })) })) } } : {}),
    ...(input.recycling ? { recycling: { ...input.recycling, lines: [...input.recycling.lines], warnings: [...input.recycling.warnings] } } : {}),
  };
}

function heaviestStack(stacks: ReadonlyArray<{ frames: Frame[]; bytes: number }>): Frame[] {
  let best: { frames: Frame[]; bytes: number } | undefined;
  for (const stack of stacks) if (!best || stack.bytes > best.bytes) best = stack;
  return best ? best.frames.map((f) => ({ ...f })) : [];
}

export { renderMarkdownReport, renderTextReport, sanitizeText, escapeMarkdown } from './reportRender';
export type { TextReportOptions, MarkdownReportOptions } from './reportRender';
