/**
 * CodeLens above task functions: "Profile Task" (ProfileFunction with the document's URI and the
 * export name) and, once the active session measured that task, its growth per run and verdict,
 * which opens the panel on the task. Above a retaining line too long for its annotation to stay in
 * view after it: the annotation's text (../annotations/decorations.ts `inlineText`).
 */
import * as vscode from 'vscode';
import { fileKey, type FileAnnotation } from '../../core/annotations';
import { inlineText } from '../annotations/decorations';
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

  constructor(
    private readonly data: ActiveSessionData,
    private readonly annotations?: { modelFor(file: string): FileAnnotation[] },
  ) {}

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
            title: `kept ${formatBytesPerRun(task.bytesPerRun, this.data.unit)} (${VERDICT_LABEL[task.verdict] ?? task.verdict})`,
            tooltip: `${task.runs} measured runs: show ${task.name} in the Task Memory panel`,
            command: Commands.ShowTaskInPanel,
            arguments: this.data.sessionId ? [task.name, this.data.sessionId] : [task.name],
          }),
        );
      }
    }
    return [...lenses, ...this.annotationLenses(document)];
  }

  /** The annotations of lines too long for their text: the text as a lens above the line. */
  private annotationLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.annotations || document.uri.scheme !== 'file') return [];
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
    const tabSize = typeof editor?.options.tabSize === 'number' ? editor.options.tabSize : 4;
    const out: vscode.CodeLens[] = [];
    for (const a of this.annotations.modelFor(document.uri.fsPath)) {
      if (a.line < 0 || a.line >= document.lineCount || inlineText(document.lineAt(a.line).text, a.text, tabSize)) continue;
      const range = new vscode.Range(a.line, 0, a.line, 0);
      const site = a.sites[0];
      const call = a.calls[0];
      const command: vscode.Command = site
        ? {
            title: a.text,
            tooltip: 'Retained after a full GC (hover the line for the stack): show this site in the Task Memory panel',
            command: Commands.ShowSiteInPanel,
            arguments: this.data.sessionId ? [site.key, this.data.sessionId] : [site.key],
          }
        : call
          ? {
              title: a.text,
              tooltip: 'Open the retaining site this line calls into',
              command: Commands.RevealSource,
              arguments: [call.site.file, call.site.line],
            }
          : // A holding line: the hover says what it keeps and through which path; the lens is its text.
            { title: a.text, tooltip: 'This line stores kept memory into what holds it: hover the line for the path', command: '' };
      out.push(new vscode.CodeLens(range, command));
    }
    return out;
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}

export function registerTaskCodeLens(
  context: vscode.ExtensionContext,
  registry: SessionRegistry,
  shared?: ActiveSessionData,
  annotations?: { modelFor(file: string): FileAnnotation[]; readonly onDidRender: vscode.Event<void> },
): TaskCodeLensProvider {
  const data = shared ?? new ActiveSessionData(registry);
  if (!shared) context.subscriptions.push(data);
  const provider = new TaskCodeLensProvider(data, annotations);
  context.subscriptions.push(
    provider,
    data.onDidChange((what) => {
      if (what !== 'sites') provider.refresh();
    }),
    // Annotation lenses follow the drawn annotations (new sites, edits, the setting).
    ...(annotations ? [annotations.onDidRender(() => provider.refresh())] : []),
    vscode.languages.registerCodeLensProvider(CODELENS_SELECTOR, provider),
  );
  return provider;
}
