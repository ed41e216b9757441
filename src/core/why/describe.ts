/** How "why it is kept" reads in words: one copy for the text and Markdown reports, the panel and the hovers. */
import { formatBytesPerRun, type ProgressUnit } from '../format';
import type { VerdictKind } from '../model';
import type { HoldingLine, RetainerGroup, RetainerStep } from './model';

/** Verdicts under which the kept memory is worth explaining (a clean task's few new objects are not). */
export function explainsVerdict(verdict: VerdictKind): boolean {
  return verdict === 'leak' || verdict === 'plateau' || verdict === 'inconclusive';
}

/** `scope > seenCustomers (Map) > {entry} (Object, string)`. */
export function pathText(path: readonly RetainerStep[]): string {
  return path.map((step, i) => (i === 0 && step.edge === '' ? step.holder : `${step.edge} (${step.holder})`)).join(' > ');
}

/** `seenCustomers.set at holders.js:13` (with `likely` when one of several). */
export function holdingText(line: HoldingLine, displayFile: (file: string) => string): string {
  const sure = line.confidence === 'exact' ? '' : ` (likely: ${line.candidates} statements store there)`;
  return `${line.operation} at ${displayFile(line.file)}:${line.line}${sure}`;
}

/** `1.0 entry`, `2.5 entries`, `12 entries`: how many entries a holder gains per run or task. */
export function formatEntries(entriesPerRun: number): string {
  const count = entriesPerRun >= 10 ? String(Math.round(entriesPerRun)) : entriesPerRun.toFixed(1);
  // The word follows the figure shown: 0.98 reads "1.0 entry".
  return `${count} ${count === '1.0' ? 'entry' : 'entries'}`;
}

/** One line per group: its growth, what holds it and where. */
export function groupLine(group: RetainerGroup, unit: ProgressUnit, displayFile: (file: string) => string): string {
  const entries = `${formatEntries(group.entriesPerRun)}/${unit}`;
  const where = group.holdingLine ? holdingText(group.holdingLine, displayFile) : 'no line of the task’s code stores there';
  return `${formatBytesPerRun(group.bytesPerRun, unit)} (${entries}) kept by ${pathText(group.path)}; ${where}`;
}
