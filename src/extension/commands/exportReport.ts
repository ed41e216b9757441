/** Export Report: the JSON report (core schema), the `.heapprofile` for DevTools, or a Markdown summary. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { renderMarkdownReport } from '../../core/report';
import type { ProfilingSessionApi } from '../../session/api';

export type ExportFormat = 'json' | 'heapprofile' | 'markdown';

interface FormatInfo {
  label: string;
  detail: string;
  extension: string;
  filter: string;
}

const FORMATS: Record<ExportFormat, FormatInfo> = {
  json: {
    label: 'JSON report',
    detail: 'Tasks, verdicts, retaining sites and targets (taskmem report schema)',
    extension: 'json',
    filter: 'Task Memory report',
  },
  heapprofile: {
    label: 'Heap profile (.heapprofile)',
    detail: 'The last retained sampling profile: open it in Chrome DevTools → Memory',
    extension: 'heapprofile',
    filter: 'Heap profile',
  },
  markdown: { label: 'Markdown summary', detail: 'Verdict, tasks and top sites, for an issue or a pull request', extension: 'md', filter: 'Markdown' },
};

export function isExportFormat(value: unknown): value is ExportFormat {
  return value === 'json' || value === 'heapprofile' || value === 'markdown';
}

/** The file's content in `format`; throws when there is nothing to export. */
export function exportContent(session: ProfilingSessionApi, format: ExportFormat): string {
  const report = session.report();
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2) + '\n';
    case 'markdown':
      return renderMarkdownReport(report, { cwd: session.options.cwd });
    case 'heapprofile': {
      const profile = session.heapProfile();
      if (!profile) throw new Error('no retained profile has been captured yet: wait for a task to finish or use Capture Retained Now');
      return JSON.stringify(profile);
    }
  }
}

/**
 * Asks for what is not given (format, then a file) and writes it. Returns the written file's path,
 * or undefined when the user cancelled.
 */
export async function exportReport(session: ProfilingSessionApi, title: string, format?: ExportFormat, target?: string): Promise<string | undefined> {
  if (!format) {
    const picked = await vscode.window.showQuickPick(
      (Object.keys(FORMATS) as ExportFormat[]).map((f) => ({ label: FORMATS[f].label, detail: FORMATS[f].detail, format: f })),
      { title: `Export ${title}`, placeHolder: 'What to export' },
    );
    if (!picked) return undefined;
    format = picked.format;
  }
  const info = FORMATS[format];
  const content = exportContent(session, format);
  let uri: vscode.Uri | undefined;
  if (target) {
    uri = vscode.Uri.file(path.resolve(session.options.cwd, target));
  } else {
    const base =
      title
        .replace(/[^\w.#-]+/g, '-')
        .replace(/#/g, '-')
        .replace(/^-+|-+$/g, '') || 'taskmem';
    uri = await vscode.window.showSaveDialog({
      title: `Export ${info.label}`,
      defaultUri: vscode.Uri.file(path.join(session.options.cwd, `${base}.${info.extension}`)),
      filters: { [info.filter]: [info.extension] },
      saveLabel: 'Export',
    });
    if (!uri) return undefined;
  }
  await vscode.workspace.fs.writeFile(uri, Buffer.from(content, 'utf8'));
  return uri.fsPath;
}
