/**
 * Human-readable figures for reports, the panel and hovers. Pure; safe to bundle for the webview.
 */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** IEC units: whole bytes below 1 KiB, one decimal above ("1.5 KiB", "4.2 MiB"). Keeps the sign. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  const sign = bytes < 0 ? '-' : '';
  const abs = Math.abs(bytes);
  if (Math.round(abs) < 1024) {
    const whole = Math.round(abs);
    // Avoid "-0 B" for tiny negative values.
    return `${whole === 0 ? '' : sign}${whole} B`;
  }
  let value = abs / 1024;
  let unit = 0;
  // Move up a unit when rounding to one decimal would print "1024.0".
  while (unit < UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${sign}${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Growth per run with the sign always shown: "+41.0 KiB/run", "-512 B/run", "±0 B/run". */
export function formatBytesPerRun(bytes: number, unit: ProgressUnit = 'run'): string {
  if (!Number.isFinite(bytes)) return 'n/a';
  if (Math.abs(bytes) < 0.5) return `±0 B/${unit}`;
  return `${bytes > 0 ? '+' : ''}${formatBytes(bytes)}/${unit}`;
}

/** What growth is counted per: a harness run, or a task of a worker (any name, or one name). */
export type ProgressUnit = 'run' | 'task';

/** "+2.0 KiB per task": growth in a sentence. */
export function formatGrowthPer(bytes: number, unit: ProgressUnit): string {
  return formatBytesPerRun(bytes, unit).replace(`/${unit}`, ` per ${unit}`);
}

/** A 0..1 fraction as a percentage: "38%", "4.2%" below 10%, "<0.1%" for tiny positive values. */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return 'n/a';
  const sign = fraction < 0 ? '-' : '';
  const pct = Math.abs(fraction) * 100;
  if (pct === 0) return '0%';
  if (pct < 0.05) return `${sign}<0.1%`;
  const oneDecimal = Math.round(pct * 10) / 10;
  if (oneDecimal < 10) return `${sign}${oneDecimal.toFixed(1)}%`;
  return `${sign}${Math.round(pct)}%`;
}

/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (Math.round(abs) < 1000) return `${sign}${Math.round(abs)} ms`;
  if (Math.round(abs / 100) < 600) return `${sign}${(abs / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(abs / 1000);
  if (totalSeconds < 3600) {
    const minutes = Math.floor(totalSeconds / 60);
    return `${sign}${minutes} min ${pad2(totalSeconds % 60)} s`;
  }
  const totalMinutes = Math.round(abs / 60_000);
  return `${sign}${Math.floor(totalMinutes / 60)} h ${pad2(totalMinutes % 60)} min`;
}

/** A long span in the unit a person plans in: "40 s", "12 min", "5.5 h", "2.3 days", "7 weeks". */
export function formatSpan(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'n/a';
  const units: ReadonlyArray<readonly [number, string]> = [
    [365 * 86_400, 'years'],
    [7 * 86_400, 'weeks'],
    [86_400, 'days'],
    [3_600, 'h'],
    [60, 'min'],
  ];
  for (const [size, name] of units) {
    const value = seconds / size;
    if (value >= 2 || (size === 60 && value >= 1)) return `${value >= 10 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)} ${name}`;
  }
  return `${Math.round(seconds)} s`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Runs a worker owner thinks in when a leak is projected forward. */
export const PROJECTION_RUNS = 100_000;

/** "+564 B per run: +53.8 MiB per 100,000 runs" — the size of a leak in a worker owner's terms. */
export function formatProjection(bytesPerRun: number, unit = 'run'): string {
  if (!Number.isFinite(bytesPerRun)) return 'n/a';
  const sign = bytesPerRun > 0 ? '+' : '';
  return `${sign}${formatBytes(bytesPerRun)} per ${unit}: ${sign}${formatBytes(bytesPerRun * PROJECTION_RUNS)} per ${PROJECTION_RUNS.toLocaleString('en-US')} ${unit}s`;
}

/** "1 run", "2,000 runs": a count with its noun, plural when it is not one. */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}
