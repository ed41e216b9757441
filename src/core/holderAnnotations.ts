/**
 * Editor marks on the lines that hold kept memory (why retained): the statement that stores into a
 * retainer path's holder, for each task whose kept memory is worth explaining. Pure data, beside the
 * allocation marks of ./annotations: a line that both allocates and holds carries both.
 */
import { formatBytesPerRun, type ProgressUnit } from './format';
import type { VerdictKind } from './model';
import { escapeMarkdown } from './reportRender';
import { explainsVerdict, formatEntries, pathText } from './why/describe';
import type { RetainerGroup, WhyRetained } from './why/model';

export interface HolderMark {
  task: string;
  group: RetainerGroup & { holdingLine: NonNullable<RetainerGroup['holdingLine']> };
}

/** The holding lines of the tasks whose verdict is worth explaining, heaviest group first. */
export function holderMarks(tasks: ReadonlyArray<{ name: string; verdict: VerdictKind; why?: WhyRetained }>): HolderMark[] {
  const marks: HolderMark[] = [];
  for (const task of tasks) {
    if (!task.why || !explainsVerdict(task.verdict)) continue;
    for (const group of task.why.groups) {
      if (group.holdingLine) marks.push({ task: task.name, group: { ...group, holdingLine: group.holdingLine } });
    }
  }
  return marks.sort((a, b) => b.group.bytesPerRun - a.group.bytesPerRun);
}

/** `◆ keeps +632 B/run: seenCustomers.set` (the heaviest mark on the line; `+1` more when several). */
export function holderText(marks: readonly HolderMark[], unit: ProgressUnit = 'run'): string {
  const top = marks[0];
  if (!top) return '';
  const more = marks.length > 1 ? ` (+${marks.length - 1})` : '';
  return `◆ keeps ${formatBytesPerRun(top.group.bytesPerRun, unit)}: ${top.group.holdingLine.operation}${more}`;
}

/** The hover's section for a holding line: what it keeps, the path that keeps it, how sure the line is. */
export function holderHoverMarkdown(marks: readonly HolderMark[], unit: ProgressUnit = 'run'): string[] {
  const md: string[] = [];
  for (const { task, group } of marks.slice(0, 3)) {
    const line = group.holdingLine;
    md.push(
      `**Task Memory** · this line holds **${formatBytesPerRun(group.bytesPerRun, unit)}** (${formatEntries(group.entriesPerRun)} per ${unit}) that ${escapeMarkdown(task)} keeps, through \`${escapeMarkdown(line.operation)}\``,
      '',
      `Kept by: ${escapeMarkdown(pathText(group.path))}`,
      '',
      line.confidence === 'exact'
        ? 'The only statement of this module that stores into that holder.'
        : `One of ${line.candidates} statements that store into that holder (the one nearest the allocation stack).`,
      '',
      '---',
      '',
    );
  }
  return md;
}
