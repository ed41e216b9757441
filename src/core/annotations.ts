/**
 * Editor annotations as pure data: which lines of a file carry retained memory, the text shown after
 * them, their heat level, the lighter marks on the user lines that call into a site, how they move
 * with edits, and the hover's Markdown. No `vscode`: the extension turns these into decorations.
 *
 * Honesty about precision: a Node site's line is the first line of the function V8 credited (it
 * attributes per function), so its text says "in f()" and the hover says so; only Python sites
 * (tracemalloc) name the allocating line itself.
 */
import { formatBytes, formatBytesPerRun, formatPercent, plural, type ProgressUnit } from './format';
import type { CallerLine, Frame, RetainedSite } from './model';
import type { ReportSite } from './report';
import { escapeMarkdown, sanitizeText } from './reportRender';
import { holderHoverMarkdown, holderText, type HolderMark } from './holderAnnotations';

/** 0 low, 1 medium, 2 high, 3 critical. */
export type HeatLevel = 0 | 1 | 2 | 3;
export const HEAT_NAMES = ['low', 'medium', 'high', 'critical'] as const;

/** Share of retained memory → heat level: <5% low, <20% medium, <50% high, else critical. */
export function heatLevel(share: number): HeatLevel {
  if (!(share >= 0.05)) return 0;
  if (share < 0.2) return 1;
  if (share < 0.5) return 2;
  return 3;
}

export interface CallerMark {
  /** The site this line calls into. */
  site: RetainedSite;
  caller: CallerLine;
}

export interface FileAnnotation {
  /**
   * 'site': memory allocated here (or in this function); 'caller': a user line calling into a site;
   * 'holder': the statement that stores kept memory into what holds it (why retained).
   */
  kind: 'site' | 'caller' | 'holder';
  /** 0-based line in the document as it is now (moved by edits). */
  line: number;
  /** 1-based line at capture time. */
  capturedLine: number;
  heat: HeatLevel;
  /** Shown after the line. */
  text: string;
  /** Bytes on this line: the sites' for 'site', the calls' for 'caller'. */
  bytes: number;
  share: number;
  /** Sites on this line, heaviest first (empty for 'caller'). */
  sites: RetainedSite[];
  /** Sites this line calls into (for 'caller'; a site line may call into others too). */
  calls: CallerMark[];
  /** What this line holds (why retained), heaviest first; a site or caller line may hold too. */
  holders?: HolderMark[];
  /** The file was edited since the capture (lines shifted to follow the edits). */
  fileChanged?: boolean;
  /** A site line whose memory does not grow with the runs: drawn without the heat colours. */
  notGrowing?: boolean;
}

export interface SiteIndex {
  sites: Map<string, RetainedSite[]>;
  callers: Map<string, CallerMark[]>;
  holders: Map<string, HolderMark[]>;
}

export interface AnnotationOptions {
  /** Leave out sites below this share (default 0: every site). */
  minShare?: number;
  /** Longest function name shown after a line (default 24). */
  maxNameLength?: number;
  /** Include caller marks (default true). */
  callers?: boolean;
  /** What growth is counted per (default 'run'; worker sessions: 'task'). */
  unit?: ProgressUnit;
}

/** Comparable file key: forward slashes, lower-case drive letter. */
export function fileKey(file: string): string {
  const slashes = file.replace(/\\/g, '/');
  return /^[A-Za-z]:\//.test(slashes) ? slashes[0].toLowerCase() + slashes.slice(1) : slashes;
}

/** Groups sites by their file, caller marks by the caller's file and holding lines by theirs, once per capture. */
export function indexSitesByFile(sites: readonly RetainedSite[], holders: readonly HolderMark[] = []): SiteIndex {
  const index: SiteIndex = { sites: new Map(), callers: new Map(), holders: new Map() };
  for (const mark of holders) push(index.holders, fileKey(mark.group.holdingLine.file), mark);
  for (const site of sites) {
    if (site.file !== '' && site.line >= 1) push(index.sites, fileKey(site.file), site);
    for (const caller of site.callers) {
      if (caller.file !== '' && caller.line >= 1) push(index.callers, fileKey(caller.file), { site, caller });
    }
  }
  return index;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function shortName(name: string, max: number): string {
  const clean = sanitizeText(name);
  return clean.length > max ? `${clean.slice(0, Math.max(1, max - 1))}…` : clean;
}

/**
 * Sites whose growth per run was measured and is not above zero: memory kept (a cache filled once,
 * module state) that does not grow with the runs. Such a line is not painted like a leak.
 */
export function notGrowing(sites: readonly RetainedSite[]): boolean {
  return sites.length > 0 && sites.every((s) => s.bytesPerRun !== undefined && Number.isFinite(s.bytesPerRun) && s.bytesPerRun <= 0);
}

/**
 * The text after the line, short enough to stay in view beside a half-width panel:
 * `▲ 4.2 MiB kept · +41.0 KiB/run`; `● 1.1 MiB kept · not growing` for memory kept that does not
 * grow. The share, the function and the stack are in the hover.
 */
export function siteText(sites: readonly RetainedSite[], unit: ProgressUnit = 'run'): string {
  const bytes = sites.reduce((sum, s) => sum + s.retainedBytes, 0);
  const steady = notGrowing(sites);
  const parts = [`${steady ? '●' : '▲'} ${formatBytes(bytes)} kept`];
  const growth = sites.filter((s) => s.bytesPerRun !== undefined && Number.isFinite(s.bytesPerRun));
  if (steady) parts.push('not growing');
  else if (growth.length > 0)
    parts.push(
      formatBytesPerRun(
        growth.reduce((sum, s) => sum + (s.bytesPerRun ?? 0), 0),
        unit,
      ),
    );
  return parts.join(' · ');
}

/** `→ 3.1 MiB via enrich()` (the first callee; the others are in the hover). */
export function callerText(calls: readonly CallerMark[], maxNameLength = 24): string {
  const bytes = calls.reduce((sum, c) => sum + c.caller.bytes, 0);
  const names = unique(calls.map((c) => `${shortName(c.caller.via, maxNameLength)}()`));
  return `→ ${formatBytes(bytes)} via ${names[0]}${names.length > 1 ? ` +${names.length - 1}` : ''}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The annotations of one file: one per line, site marks before caller marks on the same line. */
export function buildFileAnnotations(sites: readonly RetainedSite[] | SiteIndex, file: string, options: AnnotationOptions = {}): FileAnnotation[] {
  const index = Array.isArray(sites) ? indexSitesByFile(sites) : (sites as SiteIndex);
  const key = fileKey(file);
  const minShare = options.minShare ?? 0;
  const maxName = options.maxNameLength ?? 24;
  const byLine = new Map<number, { sites: RetainedSite[]; calls: CallerMark[] }>();
  const at = (line: number): { sites: RetainedSite[]; calls: CallerMark[] } => {
    let entry = byLine.get(line);
    if (!entry) byLine.set(line, (entry = { sites: [], calls: [] }));
    return entry;
  };
  for (const site of index.sites.get(key) ?? []) {
    if (site.share >= minShare) at(site.line).sites.push(site);
  }
  if (options.callers !== false) {
    for (const mark of index.callers.get(key) ?? []) {
      if (mark.site.share < minShare) continue;
      // a recursive site calling itself from its own line is already marked
      if (mark.site.line === mark.caller.line && fileKey(mark.site.file) === key) continue;
      at(mark.caller.line).calls.push(mark);
    }
  }
  const out: FileAnnotation[] = [];
  for (const [line, entry] of byLine) {
    entry.sites.sort((a, b) => b.retainedBytes - a.retainedBytes || (a.key < b.key ? -1 : 1));
    entry.calls.sort((a, b) => b.caller.bytes - a.caller.bytes);
    if (entry.sites.length > 0) {
      const share = entry.sites.reduce((sum, s) => sum + s.share, 0);
      out.push({
        kind: 'site',
        line: line - 1,
        capturedLine: line,
        heat: heatLevel(share),
        text: siteText(entry.sites, options.unit),
        bytes: entry.sites.reduce((sum, s) => sum + s.retainedBytes, 0),
        share,
        sites: entry.sites,
        calls: entry.calls,
        ...(notGrowing(entry.sites) ? { notGrowing: true } : {}),
      });
    } else {
      const share = entry.calls.reduce((sum, c) => sum + (c.site.retainedBytes > 0 ? (c.site.share * c.caller.bytes) / c.site.retainedBytes : 0), 0);
      out.push({
        kind: 'caller',
        line: line - 1,
        capturedLine: line,
        heat: heatLevel(share),
        text: callerText(entry.calls, maxName),
        bytes: entry.calls.reduce((sum, c) => sum + c.caller.bytes, 0),
        share,
        sites: [],
        calls: entry.calls,
      });
    }
  }
  addHolders(out, index.holders.get(key) ?? [], options.unit);
  return out.sort((a, b) => a.line - b.line);
}

/** Holding lines join the line's own annotation, or get one of their own. */
function addHolders(out: FileAnnotation[], marks: readonly HolderMark[], unit: ProgressUnit | undefined): void {
  const byLine = new Map<number, HolderMark[]>();
  for (const mark of marks) {
    const line = mark.group.holdingLine.line;
    byLine.set(line, [...(byLine.get(line) ?? []), mark]);
  }
  for (const [line, holders] of byLine) {
    const existing = out.find((a) => a.capturedLine === line);
    if (existing) {
      existing.holders = holders;
      existing.text = `${existing.text} · ${holderText(holders, unit)}`;
      continue;
    }
    out.push({
      kind: 'holder',
      line: line - 1,
      capturedLine: line,
      heat: 0,
      text: holderText(holders, unit),
      bytes: 0,
      share: 0,
      sites: [],
      calls: [],
      holders,
    });
  }
}

/** A text change in VS Code's terms (0-based), reduced to whole lines by {@link lineEdit}. */
export interface TextChange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

export interface LineEdit {
  /** First old line replaced (0-based). */
  start: number;
  /** Last old line replaced, inclusive; `start - 1` when no old line was touched (pure insertion). */
  end: number;
  /** Lines that replace them. */
  newLineCount: number;
}

/**
 * Which old lines a change rewrote. `insertedAtLineEnd`: the change was an insertion at the end of
 * its line (the caller knows: the document's line `startLine + n - 1` equals the text's last part).
 * Enter at the end or start of a line and deleting whole lines leave the neighbouring lines intact.
 */
export function lineEdit(change: TextChange, insertedAtLineEnd = false): LineEdit {
  const parts = change.text.split(/\r\n|\r|\n/);
  const empty = change.startLine === change.endLine && change.startCharacter === change.endCharacter;
  if (empty && parts.length > 1 && insertedAtLineEnd && parts[0] === '') {
    return { start: change.startLine + 1, end: change.startLine, newLineCount: parts.length - 1 };
  }
  if (change.startCharacter === 0 && change.endCharacter === 0 && parts[parts.length - 1] === '' && (change.endLine > change.startLine || parts.length > 1)) {
    return { start: change.startLine, end: change.endLine - 1, newLineCount: parts.length - 1 };
  }
  return { start: change.startLine, end: change.endLine, newLineCount: parts.length };
}

/**
 * Moves annotations after an edit that replaced old lines `editStartLine..editEndLine` (0-based,
 * inclusive; `end = start - 1` for none) by `newLineCount` lines: annotations on replaced lines are
 * dropped, later ones shift by the difference, and all that remain are marked `fileChanged`.
 */
export function shiftAnnotations(annotations: readonly FileAnnotation[], editStartLine: number, editEndLine: number, newLineCount: number): FileAnnotation[] {
  const delta = newLineCount - (editEndLine - editStartLine + 1);
  const out: FileAnnotation[] = [];
  for (const a of annotations) {
    if (a.line < editStartLine) out.push({ ...a, fileChanged: true });
    else if (a.line > editEndLine) out.push({ ...a, line: a.line + delta, fileChanged: true });
  }
  return out;
}

export interface HoverContext {
  sessionId?: string;
  /** Shown before file paths: paths inside it are printed relative. */
  cwd?: string;
  /** Tasks of the session, for "per run" figures: `processOrder +41.0 KiB/run (leak)`. */
  tasks?: ReadonlyArray<{ name: string; bytesPerRun: number; verdict: string }>;
  /** Frames shown per stack (default 5). */
  maxFrames?: number;
  /** What growth is counted per (default 'run'; worker sessions: 'task'). */
  unit?: ProgressUnit;
  /** Folders of the profiler's own code (its harness): frames there are left out of stacks. */
  hiddenPaths?: readonly string[];
}

function hiddenFrame(frame: Frame, hiddenPaths: readonly string[] | undefined): boolean {
  if (frame.category === 'profiler') return true;
  const f = fileKey(frame.file);
  return (hiddenPaths ?? []).some((dir) => {
    const d = fileKey(dir).replace(/\/+$/, '');
    return d !== '' && f.startsWith(d + '/');
  });
}

/** Command ids the hover links to; the MarkdownString trusts exactly these. */
export const HOVER_COMMANDS = { reveal: 'taskMemory.revealSource', showSite: 'taskMemory.showSiteInPanel' } as const;

/** `command:id?args` with every character that could end a Markdown link destination encoded. */
export function commandUri(command: string, args: readonly unknown[]): string {
  const encoded = encodeURIComponent(JSON.stringify(args)).replace(/[()'!*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `command:${command}?${encoded}`;
}

function relative(file: string, cwd?: string): string {
  if (!cwd) return file;
  const base = fileKey(cwd).replace(/\/+$/, '');
  const f = fileKey(file);
  return base !== '' && f.startsWith(base + '/') ? file.slice(base.length + 1) : file;
}

function frameLink(frame: Frame, ctx: HoverContext): string {
  const name = escapeMarkdown(frame.function);
  if (frame.file === '') return `${name} _(native)_`;
  const where = escapeMarkdown(`${relative(frame.file, ctx.cwd)}:${frame.line}`);
  return `[${name}](${commandUri(HOVER_COMMANDS.reveal, [frame.file, frame.line])}) — ${where}`;
}

/** The hover of one annotated line, as trusted Markdown (links only to {@link HOVER_COMMANDS}). */
export function hoverMarkdown(annotation: FileAnnotation, ctx: HoverContext = {}): string {
  const md: string[] = [];
  const maxFrames = ctx.maxFrames ?? 5;
  // A worker's site grows per task of the whole worker, not per task of the name it belongs to.
  const perWorkerTask = ctx.unit === 'task' && (ctx.tasks?.length ?? 0) > 1;
  if (annotation.fileChanged) md.push('_The file changed since the capture: marks follow the edits, edited lines lost theirs._', '');
  if (annotation.holders) md.push(...holderHoverMarkdown(annotation.holders, ctx.unit));
  // Compact: a hover that needs scrolling hides its last sections (the stack's caller, the tasks).
  for (const site of annotation.sites) {
    const figures = [`**${formatBytes(site.retainedBytes)}** kept`, `${formatPercent(site.share)} of retained memory`];
    if (site.bytesPerRun !== undefined && Number.isFinite(site.bytesPerRun))
      figures.push(`${formatBytesPerRun(site.bytesPerRun, ctx.unit)} over the captures${perWorkerTask ? ' (per task of any name)' : ''}`);
    md.push(`**Task Memory** · ${figures.join(' · ')} after a full GC`, '');
    const where =
      site.precision === 'function'
        ? `Allocated in ${escapeMarkdown(site.function)}() — V8 attributes per function: this is the function's first line, not the allocating line. ${plural(site.count, 'heap sample')} (scaled estimate).`
        : `Allocated on this line in ${escapeMarkdown(site.function)}(), ${plural(site.count, 'live block')}.`;
    md.push(
      `${where} [Show in panel](${commandUri(HOVER_COMMANDS.showSite, ctx.sessionId ? [site.key, ctx.sessionId] : [site.key])} "Show this site in the Task Memory panel")`,
      '',
    );
    const frames = (site.stacks[0]?.frames ?? []).filter((frame) => !hiddenFrame(frame, ctx.hiddenPaths));
    if (frames.length > 0) {
      md.push('Allocation stack (innermost first):', '');
      frames.slice(0, maxFrames).forEach((frame, i) => md.push(`${i + 1}. ${frameLink(frame, ctx)}`));
      if (frames.length > maxFrames) md.push(`${maxFrames + 1}. … ${frames.length - maxFrames} more frames (in the panel)`);
      md.push('');
    }
    md.push('---', '');
  }
  if (annotation.calls.length > 0) {
    md.push(annotation.kind === 'caller' ? '**Task Memory** · calls into retained memory' : 'This line also calls into:', '');
    for (const { site, caller } of annotation.calls) {
      const target = escapeMarkdown(`${relative(site.file, ctx.cwd)}:${site.line}`);
      md.push(`- ${formatBytes(caller.bytes)} via [${escapeMarkdown(caller.via)}()](${commandUri(HOVER_COMMANDS.reveal, [site.file, site.line])}) — ${target}`);
    }
    md.push('');
  }
  if (ctx.tasks && ctx.tasks.length > 0) {
    md.push(
      annotation.sites.length > 0
        ? 'Tasks in this session (measured; the site figures above are estimates from heap samples):'
        : 'Tasks in this session (measured):',
      '',
    );
    for (const t of ctx.tasks) md.push(`- ${escapeMarkdown(t.name)}: ${formatBytesPerRun(t.bytesPerRun, ctx.unit)} (${escapeMarkdown(t.verdict)})`);
    md.push('');
  }
  while (md.length > 0 && (md[md.length - 1] === '' || md[md.length - 1] === '---')) md.pop();
  return md.join('\n');
}

/** Report sites (a finished session's report) in the shape the annotations use. */
export function sitesFromReport(sites: readonly ReportSite[]): RetainedSite[] {
  return sites.map((s) => ({
    key: `${s.file}:${s.line}:${s.function}`,
    function: s.function,
    file: s.file,
    line: s.line,
    column: s.column,
    category: s.category,
    precision: s.precision,
    retainedBytes: s.retainedBytes,
    count: s.count,
    share: s.share,
    bytesPerRun: s.bytesPerRun ?? undefined,
    stacks: s.stack.length > 0 ? [{ frames: s.stack, bytes: s.retainedBytes }] : [],
    callers: s.callers,
  }));
}
