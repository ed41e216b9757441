/**
 * Text (terminal) and Markdown (pull request) renderings of a report.
 *
 * Function names, paths, task names and messages come from the profiled program: a hostile one could
 * name a function "\x1b]8;;evil\x07…" to rewrite the user's terminal, or "[x](http://evil)" to add a
 * link to a pull request. Every such string goes through `sanitizeText` / `escapeMarkdown`.
 */
import { formatBytes, formatBytesPerRun, formatDuration, formatPercent, plural, type ProgressUnit } from './format';
import type { VerdictKind } from './model';
import type { ReportMode, ReportSite, TaskmemReport } from './report';
import { explainsVerdict, groupLine } from './why/describe';

export interface TextReportOptions {
  color?: boolean;
  /** Default 10. */
  maxSites?: number;
  /** Paths under it are shown relative to it. */
  cwd?: string;
}

export interface MarkdownReportOptions {
  cwd?: string;
  /** Default 10. */
  maxSites?: number;
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), and two-character escapes.
// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are stripped from what a profiled program named
const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x9b[0-?]*[ -/]*[@-~]|\x1b[@-_]?/g;
// Remaining C0/C1 controls, and bidirectional overrides that reorder what is displayed.
// eslint-disable-next-line no-control-regex -- as above
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Plain, single-line text: no escape sequences, no control characters, no bidi overrides. */
export function sanitizeText(text: string): string {
  return String(text)
    .replace(ANSI_SEQUENCE, '')
    .replace(/[\t\n\r]+/g, ' ')
    .replace(CONTROL, '');
}

/** Sanitized, then safe inside a Markdown table cell: no HTML, links, emphasis, code or mentions. */
export function escapeMarkdown(text: string): string {
  return sanitizeText(text)
    .replace(/([\\`|*_[\]~#])/g, '\\$1')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@/g, '&#64;');
}

const HEADLINE: Record<VerdictKind, string> = {
  leak: 'LEAK',
  plateau: 'PLATEAU',
  'no-leak': 'NO LEAK',
  'allocator-high-water': 'ALLOCATOR HIGH WATER',
  inconclusive: 'INCONCLUSIVE',
};

const COLOR: Record<VerdictKind, string> = {
  leak: '\x1b[31m',
  plateau: '\x1b[33m',
  'allocator-high-water': '\x1b[33m',
  'no-leak': '\x1b[32m',
  inconclusive: '',
};
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

/** `file` relative to `cwd` when inside it (either separator), else as is. */
export function displayPath(file: string, cwd?: string): string {
  if (!cwd) return file;
  const base = cwd.replace(/[\\/]+$/, '');
  if (base !== '' && file.startsWith(base) && (file[base.length] === '/' || file[base.length] === '\\')) {
    return file.slice(base.length + 1);
  }
  return file;
}

function location(site: ReportSite, cwd?: string): string {
  if (site.file === '') return '(no file)';
  return `${displayPath(site.file, cwd)}:${site.line}`;
}

/** Harness sessions count growth per run of the task; workers per task they finished. */
export function progressUnit(mode: ReportMode): ProgressUnit {
  return mode === 'harness' ? 'run' : 'task';
}

function perRun(bytes: number | null, unit: ProgressUnit): string {
  return bytes === null ? '' : formatBytesPerRun(bytes, unit);
}

/** Cells padded to their column's widest cell; the last column is left unpadded. */
function padRows(rows: string[][], rightAligned: ReadonlySet<number>): string[][] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row.map((cell, i) => {
      if (rightAligned.has(i)) return cell.padStart(widths[i]);
      return i === row.length - 1 ? cell : cell.padEnd(widths[i]);
    }),
  );
}

export function renderTextReport(report: TaskmemReport, options?: TextReportOptions): string {
  const color = options?.color === true;
  const paint = (code: string, text: string): string => (color && code !== '' ? `${code}${text}${RESET}` : text);
  const maxSites = Math.max(0, options?.maxSites ?? 10);
  const cwd = options?.cwd;
  const unit = progressUnit(report.mode);
  const lines: string[] = [];
  const kind = report.verdict.kind;
  lines.push(`${paint(COLOR[kind] + BOLD, HEADLINE[kind])}: ${sanitizeText(report.verdict.summary)}`);

  if (report.tasks.length > 0) {
    lines.push('', 'Tasks');
    const rows = report.tasks.map((t) => [
      sanitizeText(t.name),
      plural(t.runs, unit),
      formatBytesPerRun(t.bytesPerRun, unit),
      `${t.verdict} (${formatPercent(t.confidence)})`,
    ]);
    padRows(rows, new Set([1, 2])).forEach((cells, i) => {
      const task = report.tasks[i];
      // Colour after padding so the widths stay right.
      cells[3] = cells[3].replace(task.verdict, paint(COLOR[task.verdict], task.verdict));
      lines.push(`  ${cells.join('  ')}`.trimEnd());
    });
  }

  if (report.sites.length > 0) {
    lines.push('', 'Top retaining sites');
    const shown = report.sites.slice(0, maxSites);
    const rows = shown.map((s) => [
      formatBytes(s.retainedBytes),
      formatPercent(s.share),
      perRun(s.bytesPerRun, unit),
      sanitizeText(s.function),
      sanitizeText(location(s, cwd)),
    ]);
    for (const cells of padRows(rows, new Set([0, 1, 2]))) lines.push(`  ${cells.join('  ')}`.trimEnd());
    const hidden = report.sites.slice(shown.length);
    if (hidden.length > 0) {
      const bytes = hidden.reduce((sum, s) => sum + s.retainedBytes, 0);
      lines.push(paint(DIM, `  … ${plural(hidden.length, 'more site')} (${formatBytes(bytes)})`));
    }
  }
  const unlisted = (['runtime', 'profiler'] as const).filter((c) => report.grouped[c] > 0);
  if (unlisted.length > 0) {
    lines.push(`  Not listed: ${unlisted.map((c) => `${c} ${formatBytes(report.grouped[c])}`).join(', ')}`);
  }

  lines.push('', `Advice: ${sanitizeText(report.verdict.advice)}`);
  const lead = report.sites[0];
  if (lead && (kind === 'leak' || kind === 'plateau')) {
    // Point at the line to open first; Node sites are function starts, so say "in".
    const where = lead.precision === 'function' ? `in ${sanitizeText(lead.function)}()` : `${sanitizeText(lead.function)}`;
    lines.push(`Start with: ${where} at ${sanitizeText(location(lead, cwd))}, ${formatPercent(lead.share)} of what is retained.`);
  }
  if (report.taskSource) lines.push(`Tasks were: ${sanitizeText(report.taskSource)}`);
  const why = whyLines(report, cwd);
  if (why.length > 0) lines.push('', 'Why it is kept', ...why.map((line) => `  - ${sanitizeText(line)}`));
  if (report.verdict.evidence.length > 0) {
    lines.push('', 'Evidence', ...report.verdict.evidence.map((line) => `  - ${sanitizeText(line)}`));
  }
  const recycling = recyclingLines(report);
  if (recycling.length > 0) lines.push('', 'Recycling', ...recycling.map((line) => `  ${sanitizeText(line)}`));
  if (report.notes.length > 0) {
    lines.push('', 'Notes');
    for (const note of report.notes) lines.push(`  - ${sanitizeText(note)}`);
  }
  if (report.warnings.length > 0) {
    lines.push('', paint(COLOR['plateau'], 'Warnings'));
    for (const warning of report.warnings) lines.push(`  - ${sanitizeText(warning)}`);
  }
  lines.push(
    '',
    paint(
      DIM,
      `${report.mode}: ${sanitizeText(report.command)} · ${formatDuration(report.durationMs)} · ` +
        `${sanitizeText(report.endReason)} · taskmem ${sanitizeText(report.tool.version)}`,
    ),
  );
  return `${lines.join('\n')}\n`;
}

export function renderMarkdownReport(report: TaskmemReport, options?: MarkdownReportOptions): string {
  const cwd = options?.cwd;
  const maxSites = Math.max(0, options?.maxSites ?? 10);
  const md = escapeMarkdown;
  const unit = progressUnit(report.mode);
  const Unit = unit === 'run' ? 'Run' : 'Task';
  const out: string[] = [];
  out.push(`### Task Memory Profiler: ${HEADLINE[report.verdict.kind]}`, '', md(report.verdict.summary), '');

  if (report.tasks.length > 0) {
    out.push(`| Task | ${Unit}s | Per ${unit} | Verdict | Confidence |`, '| --- | ---: | ---: | --- | ---: |');
    for (const t of report.tasks) {
      out.push(
        `| ${md(t.name)} | ${t.runs.toLocaleString('en-US')} | ${formatBytesPerRun(t.bytesPerRun, unit)} | ${t.verdict} | ${formatPercent(t.confidence)} |`,
      );
    }
    out.push('');
  }

  if (report.sites.length > 0) {
    out.push('**Top retaining sites**', '');
    out.push(`| Retained | Share | Per ${unit} | Function | Location |`, '| ---: | ---: | ---: | --- | --- |');
    for (const s of report.sites.slice(0, maxSites)) {
      out.push(
        `| ${formatBytes(s.retainedBytes)} | ${formatPercent(s.share)} | ${perRun(s.bytesPerRun, unit)} | ${md(s.function)} | ${md(location(s, cwd))} |`,
      );
    }
    if (report.sites.length > maxSites) out.push('', `_${report.sites.length - maxSites} more sites in the JSON report._`);
    out.push('');
  }

  out.push(`**Advice:** ${md(report.verdict.advice)}`, '');
  if (report.taskSource) out.push(`**Tasks were:** ${md(report.taskSource)}`, '');
  const bullets = (title: string, items: readonly string[]): void => {
    if (items.length === 0) return;
    out.push(`**${title}**`, '');
    for (const item of items) out.push(`- ${md(item)}`);
    out.push('');
  };
  bullets('Why it is kept', whyLines(report, cwd));
  bullets('Evidence', report.verdict.evidence);
  bullets('Recycling', recyclingLines(report));
  bullets('Notes', report.notes);
  bullets('Warnings', report.warnings);
  out.push(
    `<sub>${report.mode}: ${md(report.command)} · ${formatDuration(report.durationMs)} · ${md(report.endReason)} · ` +
      `taskmem ${md(report.tool.version)}</sub>`,
  );
  return `${out.join('\n')}\n`;
}

/** The retainer groups of the tasks whose kept memory is worth explaining, heaviest first. */
function whyLines(report: TaskmemReport, cwd: string | undefined): string[] {
  const unit = progressUnit(report.mode);
  const lines: string[] = [];
  for (const task of report.tasks) {
    if (!task.why || !explainsVerdict(task.verdict)) continue;
    const prefix = report.tasks.length > 1 ? `${task.name}: ` : '';
    for (const group of task.why.groups.slice(0, 3)) lines.push(`${prefix}${groupLine(group, unit, (file) => displayPath(file, cwd))}`);
    if (task.why.groups.length === 0) lines.push(`${prefix}no holder gained entries steadily over the runs (what was kept is spread thin, or is V8's own)`);
  }
  const why = report.why;
  if (why) {
    lines.push(
      `over ${why.tasks.toLocaleString('en-US')} tasks in pid ${why.pid} (the heap read twice; the second reading paused it ${Math.round(why.pauseMs)} ms):`,
    );
    for (const group of why.groups.slice(0, 3)) lines.push(groupLine(group, unit, (file) => displayPath(file, cwd)));
    if (why.groups.length === 0) lines.push('no holder gained entries steadily over those tasks');
  }
  return lines;
}

/** The recycling advisor's figures, limits to paste, warnings and what it does not fix. */
function recyclingLines(report: TaskmemReport): string[] {
  const advice = report.recycling;
  if (!advice) return [];
  const source = { setting: 'your limit', cgroup: 'cgroup limit per child', 'ram-per-child': 'RAM per child' }[advice.limitSource];
  return [
    `fresh child ${formatBytes(advice.freshRssBytes)}, the worker grows ${formatBytes(advice.growthPerTaskBytes)} per task, worst task +${formatBytes(advice.worstTaskBytes)}, limit ${formatBytes(advice.limitBytes)} (${source})`,
    ...(advice.pace && advice.maxTasksPerChild !== undefined ? [`a child every ${advice.maxTasksPerChild.toLocaleString('en-US')} tasks: ${advice.pace}`] : []),
    ...advice.lines.map((line) => `paste: ${line}`),
    ...advice.warnings.map((warning) => `warning: ${warning}`),
    advice.note,
  ];
}
