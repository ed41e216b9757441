/**
 * CodeLens above task functions: "Profile Task" (ProfileFunction with the document's URI and the
 * export name) and, once the active session measured that task, its growth per run and verdict,
 * which opens the panel on the task.
 */
import * as vscode from 'vscode';
import { fileKey } from '../../core/annotations';
import { formatBytesPerRun } from '../../core/format';
import { parseTaskFunctions, taskLanguage, type TaskFunction } from '../../core/taskFunctions';
import { ActiveSessionData, type TaskFigure } from '../annotations/sessionData';
import { Commands, type SessionRegistry } from '../sessionRegistry';

export const CODELENS_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'javascript' },
  { scheme: 'file', language: 'javascriptreact' },
  { scheme: 'file', language: 'typescript' },
  { scheme: 'file', language: 'typescriptreact' },
  { scheme: 'file', language: 'python' },
];

const MAX_REMEMBERED_DOCUMENTS = 50;

const VERDICT_LABEL: Record<string, string> = {
  leak: 'leak',
  plateau: 'plateau',
  'no-leak': 'no leak',
  'allocator-high-water': 'allocator high water',
  inconclusive: 'inconclusive',
};

/** The task the session measured for this function, if any. */
export function taskFor(fn: TaskFunction, file: string, data: Pick<ActiveSessionData, 'tasks' | 'activeSession'>): TaskFigure | undefined {
  const harness = data.activeSession?.options.harness;
  if (harness) {
    // a harness session ran exactly one export of one file
    if (fileKey(harness.file) !== fileKey(file) || harness.exportName !== fn.name) return undefined;
    return data.tasks.find((t) => t.name === fn.name);
  }
  // worker sessions: Celery names tasks `module.function`
  return data.tasks.find((t) => t.name === fn.name || t.name.endsWith(`.${fn.name}`));
}

export class TaskCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changeEmitter.event;

  /** The last lenses of each document that parsed: a file being typed keeps them instead of flickering off. */
  private readonly lastParsed = new Map<string, TaskFunction[]>();

  constructor(private readonly data: ActiveSessionData) {}

  private taskFunctions(document: vscode.TextDocument, language: NonNullable<ReturnType<typeof taskLanguage>>): TaskFunction[] {
    const key = document.uri.toString();
    const parsed = parseTaskFunctions(document.getText(), language);
    if (parsed === undefined) return (this.lastParsed.get(key) ?? []).filter((fn) => fn.line < document.lineCount);
    this.lastParsed.delete(key);
    this.lastParsed.set(key, parsed);
    // A few dozen open files at most; the oldest entry goes first.
    if (this.lastParsed.size > MAX_REMEMBERED_DOCUMENTS) this.lastParsed.delete(this.lastParsed.keys().next().value as string);
    return parsed;
  }

  refresh(): void {
    this.changeEmitter.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const language = taskLanguage(document.languageId);
    if (!language) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const fn of this.taskFunctions(document, language)) {
      if (fn.line >= document.lineCount) continue;
      const range = new vscode.Range(fn.line, 0, fn.line, 0);
      lenses.push(
        new vscode.CodeLens(range, {
          title: '$(pulse) Profile Task',
          tooltip: `Run ${fn.name} repeatedly under the memory profiler`,
          command: Commands.ProfileFunction,
          arguments: [document.uri, fn.name],
        }),
      );
      const task = taskFor(fn, document.uri.fsPath, this.data);
      if (task) {
        lenses.push(
          new vscode.CodeLens(range, {
            title: `kept ${formatBytesPerRun(task.bytesPerRun)} (${VERDICT_LABEL[task.verdict] ?? task.verdict})`,
            tooltip: `${task.runs} measured runs: show ${task.name} in the Task Memory panel`,
            command: Commands.ShowTaskInPanel,
            arguments: this.data.sessionId ? [task.name, this.data.sessionId] : [task.name],
          }),
        );
      }
    }
    return lenses;
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}

export function registerTaskCodeLens(context: vscode.ExtensionContext, registry: SessionRegistry, shared?: ActiveSessionData): TaskCodeLensProvider {
  const data = shared ?? new ActiveSessionData(registry);
  if (!shared) context.subscriptions.push(data);
  const provider = new TaskCodeLensProvider(data);
  context.subscriptions.push(
    provider,
    data.onDidChange((what) => {
      if (what !== 'sites') provider.refresh();
    }),
    vscode.languages.registerCodeLensProvider(CODELENS_SELECTOR, provider),
  );
  return provider;
}
