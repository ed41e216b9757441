/** Pure formatting helpers for the panel (no DOM); byte figures come from core/format.ts, one copy for every view. */
import { formatBytes as formatCoreBytes, formatBytesPerRun as formatCoreBytesPerRun, type ProgressUnit } from '../core/format';

/** 1536 → "1.5 KiB": the same figures as the reports, the CLI and the hovers; "—" when there is none. */
export function formatBytes(bytes: number | undefined | null): string {
  return bytes === undefined || bytes === null || !Number.isFinite(bytes) ? '—' : formatCoreBytes(bytes);
}

/** Signed bytes per run or task: "+1.2 MiB/run", "-12 B/task", "±0 B/run"; "—" when there is none. */
export function formatBytesPerRun(bytes: number | undefined | null, unit: ProgressUnit = 'run'): string {
  return bytes === undefined || bytes === null || !Number.isFinite(bytes) ? '—' : formatCoreBytesPerRun(bytes, unit);
}

/** Axis ticks: compact binary units ("512 KiB", "1.5 GiB"). */
export function formatBytesAxis(bytes: number): string {
  if (!Number.isFinite(bytes)) return '';
  if (bytes === 0) return '0';
  return formatBytes(bytes);
}

/** 0.4213 → "42.1%". */
export function formatShare(share: number | undefined | null): string {
  if (share === undefined || share === null || !Number.isFinite(share)) return '—';
  const p = share * 100;
  return `${p >= 10 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/**
 * Time-axis tick labels: under a minute, as many decimals as the ticks need to read apart (ticks
 * 0.25 s apart are "0.25s", "0.5s", not two "0.3s"); a minute and more as formatElapsed.
 */
export function formatElapsedTicks(splits: readonly number[]): string[] {
  if (splits.some((v) => Math.abs(v) >= 60)) return splits.map(formatElapsed);
  for (let decimals = 0; decimals <= 3; decimals++) {
    const exact = splits.every((v) => !Number.isFinite(v) || Math.abs(Number(v.toFixed(decimals)) - v) < 1e-9);
    if (exact || decimals === 3)
      return splits.map((v) => (Number.isFinite(v) ? `${v < 0 ? '−' : ''}${Number(Math.abs(v).toFixed(decimals)).toString()}s` : ''));
  }
  return splits.map(formatElapsed);
}

/** Seconds since session start for the time axis: 42 → "42s", 75 → "1:15", 3725 → "1:02:05". */
export function formatElapsed(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  const neg = seconds < 0;
  let s = Math.abs(seconds);
  if (s < 60) {
    const text = Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`;
    return neg ? `−${text}` : text;
  }
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  const text = `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
  return neg ? `−${text}` : text;
}

/** 12345 → "12,345"; counts on the count axis. */
export function formatCount(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return Math.round(n).toLocaleString('en-US');
}

/** Last two path segments: "/home/u/proj/src/jobs/enrich.ts" → "jobs/enrich.ts". Works for URLs too. */
export function shortPath(file: string): string {
  if (!file) return '(no file)';
  const clean = file.replace(/^file:\/\//, '').replace(/[?#].*$/, '');
  const parts = clean.split(/[\\/]/).filter(Boolean);
  if (parts.length <= 2) return parts.join('/') || clean;
  return parts.slice(-2).join('/');
}

/** "enrich.ts:42": the file name only; the full path is in the tooltip and the expanded row. */
export function formatLocation(file: string, line: number): string {
  const parts = shortPath(file).split('/');
  return `${parts[parts.length - 1] ?? file}:${line}`;
}

/** Display name for a function; V8 reports anonymous functions as "". */
export function displayFunction(name: string): string {
  return name && name.trim() ? name : '(anonymous)';
}

/** Truncates long text for a cell, keeping the full text for the tooltip. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}
