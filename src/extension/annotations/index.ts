/**
 * Editor annotations: registers the decorations, the hover, the ToggleAnnotations and RevealSource
 * commands and the task code lenses, and follows the active session. The extension calls only
 * `registerAnnotations(context, registry)`; everything it creates goes into context.subscriptions.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { FileAnnotation } from '../../core/annotations';
import { registerTaskCodeLens } from '../codelens';
import { Commands, type SessionRegistry } from '../sessionRegistry';
import { AnnotationModel, clearEditor, DecorationStyles, renderEditor } from './decorations';
import { AnnotationHoverProvider } from './hover';
import { SourceRevealer } from './revealSource';
import { ActiveSessionData } from './sessionData';

export const ANNOTATIONS_SETTING = 'annotations.enabled';
const SECTION = 'taskMemory';

/** What tests (and the extension's exports) can read. */
export interface AnnotationsApi {
  /** The annotations currently drawn for a file (absolute path); empty when off or none. */
  modelFor(file: string): FileAnnotation[];
  readonly enabled: boolean;
  /** Fired after the visible editors were redrawn. */
  readonly onDidRender: vscode.Event<void>;
}

function readEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<unknown>(ANNOTATIONS_SETTING) !== false;
}

/** Writes the setting where it is currently decided (folder, workspace or user settings). */
async function writeEnabled(value: boolean): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const inspected = config.inspect<boolean>(ANNOTATIONS_SETTING);
  const target =
    inspected?.workspaceFolderValue !== undefined
      ? vscode.ConfigurationTarget.WorkspaceFolder
      : inspected?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
  await config.update(ANNOTATIONS_SETTING, value, target);
}

class AnnotationController implements vscode.Disposable, AnnotationsApi {
  private readonly model = new AnnotationModel();
  private readonly styles = new DecorationStyles();
  private readonly renderEmitter = new vscode.EventEmitter<void>();
  readonly onDidRender = this.renderEmitter.event;
  private isEnabled = readEnabled();
  private frame: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly data: ActiveSessionData) {
    this.disposables.push(
      this.styles,
      this.renderEmitter,
      data.onDidChange((what) => {
        if (what === 'session') this.model.reset();
        if (what !== 'tasks') this.model.setSites(data.sites, data.unit, data.holders);
        this.schedule();
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.isEnabled && this.model.applyChange(e.document, e.contentChanges)) this.schedule();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        this.isEnabled = readEnabled();
        this.styles.recreate();
        this.schedule();
      }),
    );
    this.model.setSites(data.sites, data.unit, data.holders);
    this.schedule();
  }

  get enabled(): boolean {
    return this.isEnabled;
  }
  get sessionId(): string | undefined {
    return this.data.sessionId;
  }
  get tasks(): ActiveSessionData['tasks'] {
    return this.data.tasks;
  }
  get unit(): ActiveSessionData['unit'] {
    return this.data.unit;
  }

  modelFor(file: string): FileAnnotation[] {
    return this.isEnabled ? this.model.modelFor(file) : [];
  }

  async toggle(): Promise<boolean> {
    const next = !this.isEnabled;
    this.isEnabled = next; // draw at once; the configuration event confirms it
    this.schedule();
    await writeEnabled(next);
    return next;
  }

  /** Redraws every visible editor in the next frame (coalesces bursts of captures and edits). */
  private schedule(): void {
    if (this.frame) return;
    this.frame = setTimeout(() => {
      this.frame = undefined;
      this.render();
    }, 16);
  }

  private render(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const model = editor.document.uri.scheme === 'file' ? this.modelFor(editor.document.uri.fsPath) : [];
      if (model.length === 0) clearEditor(editor, this.styles);
      else renderEditor(editor, model, this.styles);
    }
    this.renderEmitter.fire();
  }

  dispose(): void {
    if (this.frame) clearTimeout(this.frame);
    for (const d of this.disposables) d.dispose();
  }
}

/** Where the harness that calls the user's task lives (bundled, and its sources when mapped). */
function profilerFolders(context: vscode.ExtensionContext): string[] {
  const root = context.extensionUri.fsPath;
  return root ? [path.join(root, 'dist'), path.join(root, 'src', 'launch')] : [];
}

export function registerAnnotations(context: vscode.ExtensionContext, registry: SessionRegistry): AnnotationsApi {
  const data = new ActiveSessionData(registry);
  const controller = new AnnotationController(data);
  const revealer = new SourceRevealer();
  context.subscriptions.push(
    data,
    controller,
    revealer,
    vscode.commands.registerCommand(Commands.ToggleAnnotations, () => controller.toggle()),
    vscode.commands.registerCommand(Commands.RevealSource, (file: unknown, line: unknown) => {
      if (typeof file !== 'string' && !(file instanceof vscode.Uri)) return undefined;
      return revealer.reveal(file, typeof line === 'number' ? line : Number(line ?? 1));
    }),
    vscode.languages.registerHoverProvider({ scheme: 'file' }, new AnnotationHoverProvider(controller, profilerFolders(context))),
  );
  registerTaskCodeLens(context, registry, data, controller);
  return controller;
}
