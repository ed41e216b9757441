/**
 * Decorations for retained sites: one decoration type per style (four heat levels, caller marks,
 * the reveal flash), created once and rebuilt only when our settings change; per-file models built
 * lazily from a per-capture index, moved with edits, drawn for the visible editors in one frame.
 */
import * as vscode from 'vscode';
import {
  buildFileAnnotations,
  fileKey,
  HEAT_NAMES,
  indexSitesByFile,
  lineEdit,
  shiftAnnotations,
  type FileAnnotation,
  type LineEdit,
  type SiteIndex,
} from '../../core/annotations';
import type { ProgressUnit } from '../../core/format';
import type { RetainedSite } from '../../core/model';
import type { HolderMark } from '../../core/holderAnnotations';

export const ANNOTATION_COLORS = {
  heat: HEAT_NAMES.map((name) => `taskMemory.heat.${name}`),
  heatBorder: 'taskMemory.heat.border',
  caller: 'taskMemory.callerBackground',
  foreground: 'taskMemory.annotationForeground',
  ruler: 'taskMemory.overviewRuler',
  flash: 'taskMemory.flashBackground',
} as const;

/**
 * Columns the text after a line may reach. A panel beside the editor leaves it about 57 columns at
 * 1600 px with the side bar open (measured in code-server): text past them is cut off, so a longer
 * line's text goes into a CodeLens above it instead ({@link inlineText}), which is never cut.
 */
export const INLINE_COLUMNS = 56;

/** Where a line's annotation text goes: after it, when line and text fit in {@link INLINE_COLUMNS}; else above it. */
export function inlineText(lineText: string, text: string, tabSize = 4): boolean {
  let columns = 0;
  for (const ch of lineText.trimEnd()) columns = ch === '\t' ? columns + tabSize - (columns % tabSize) : columns + 1;
  // The margin before the text is 1.5em: two columns.
  return columns + 2 + [...text].length <= INLINE_COLUMNS;
}

/** The decoration types, one per style. */
export class DecorationStyles implements vscode.Disposable {
  heat: vscode.TextEditorDecorationType[] = [];
  caller!: vscode.TextEditorDecorationType;
  /** A line that stores kept memory into its holder (why retained): an edge mark, its text, no heat. */
  holder!: vscode.TextEditorDecorationType;

  constructor() {
    this.create();
  }

  private create(): void {
    const after: vscode.ThemableDecorationAttachmentRenderOptions = {
      color: new vscode.ThemeColor(ANNOTATION_COLORS.foreground),
      margin: '0 0 0 1.5em',
      fontStyle: 'italic',
    };
    this.heat = ANNOTATION_COLORS.heat.map((color, level) =>
      vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: new vscode.ThemeColor(color),
        borderColor: new vscode.ThemeColor(ANNOTATION_COLORS.heatBorder),
        borderStyle: 'solid',
        borderWidth: level >= 2 ? '0 0 0 3px' : '0 0 0 2px',
        overviewRulerColor: new vscode.ThemeColor(ANNOTATION_COLORS.ruler),
        overviewRulerLane: vscode.OverviewRulerLane.Right,
        after,
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      }),
    );
    this.caller = vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor(ANNOTATION_COLORS.caller),
      after: { ...after, fontStyle: 'normal' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.holder = vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      borderColor: new vscode.ThemeColor(ANNOTATION_COLORS.heatBorder),
      borderStyle: 'dashed',
      borderWidth: '0 0 0 2px',
      overviewRulerColor: new vscode.ThemeColor(ANNOTATION_COLORS.ruler),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
      after: { ...after, fontStyle: 'normal' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
  }

  /** Rebuilds the types (after a settings change); editors must be redrawn. */
  recreate(): void {
    this.disposeTypes();
    this.create();
  }

  get all(): vscode.TextEditorDecorationType[] {
    return [...this.heat, this.caller, this.holder];
  }

  private disposeTypes(): void {
    for (const t of this.all) t.dispose();
  }

  dispose(): void {
    this.disposeTypes();
  }
}

/** Per-file annotation models for the current sites, with the edits made since the session began. */
export class AnnotationModel {
  private index: SiteIndex | undefined;
  private readonly models = new Map<string, FileAnnotation[]>();
  /** Edits per file since the session started: replayed on every new capture. */
  private readonly edits = new Map<string, LineEdit[]>();

  private unit: ProgressUnit = 'run';

  setSites(sites: readonly RetainedSite[], unit: ProgressUnit = 'run', holders: readonly HolderMark[] = []): void {
    this.index = sites.length > 0 || holders.length > 0 ? indexSitesByFile(sites, holders) : undefined;
    this.unit = unit;
    this.models.clear();
  }

  /** A new session: forget sites and edits. */
  reset(): void {
    this.index = undefined;
    this.models.clear();
    this.edits.clear();
  }

  get hasSites(): boolean {
    return this.index !== undefined;
  }

  private hasMarks(key: string): boolean {
    return this.index !== undefined && (this.index.sites.has(key) || this.index.callers.has(key) || this.index.holders.has(key));
  }

  modelFor(file: string): FileAnnotation[] {
    if (!this.index) return [];
    const key = fileKey(file);
    let model = this.models.get(key);
    if (!model) {
      if (!this.hasMarks(key)) return [];
      model = buildFileAnnotations(this.index, file, { unit: this.unit });
      for (const e of this.edits.get(key) ?? []) model = shiftAnnotations(model, e.start, e.end, e.newLineCount);
      this.models.set(key, model);
    }
    return model;
  }

  /** Applies a document change; true when annotations of that file moved or went away. */
  applyChange(document: vscode.TextDocument, changes: readonly vscode.TextDocumentContentChangeEvent[]): boolean {
    if (!this.index || changes.length === 0) return false;
    const key = fileKey(document.uri.fsPath);
    if (!this.hasMarks(key)) return false;
    const list = this.edits.get(key) ?? [];
    let model = this.modelFor(document.uri.fsPath);
    for (const change of changes) {
      const text = {
        startLine: change.range.start.line,
        startCharacter: change.range.start.character,
        endLine: change.range.end.line,
        endCharacter: change.range.end.character,
        text: change.text,
      };
      const edit = lineEdit(text, changes.length === 1 && insertedAtLineEnd(document, change));
      list.push(edit);
      model = shiftAnnotations(model, edit.start, edit.end, edit.newLineCount);
    }
    this.edits.set(key, list);
    this.models.set(key, model);
    return true;
  }
}

/** After the change: the inserted text's last part is the whole of its line (nothing followed it). */
function insertedAtLineEnd(document: vscode.TextDocument, change: vscode.TextDocumentContentChangeEvent): boolean {
  if (!change.range.isEmpty) return false;
  const parts = change.text.split(/\r\n|\r|\n/);
  const lastLine = change.range.start.line + parts.length - 1;
  return parts.length > 1 && lastLine < document.lineCount && document.lineAt(lastLine).text === parts[parts.length - 1];
}

/** Draws models into editors: all visible editors in one frame, editors without marks cleared. */
export function renderEditor(editor: vscode.TextEditor, model: readonly FileAnnotation[], styles: DecorationStyles): void {
  const heat: vscode.DecorationOptions[][] = styles.heat.map(() => []);
  const callers: vscode.DecorationOptions[] = [];
  const holders: vscode.DecorationOptions[] = [];
  const document = editor.document;
  const tabSize = typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 4;
  for (const a of model) {
    if (a.line < 0 || a.line >= document.lineCount) continue;
    const line = document.lineAt(a.line);
    // A long line keeps its heat; its text is in the CodeLens above it (../codelens).
    const option: vscode.DecorationOptions = inlineText(line.text, a.text, tabSize)
      ? { range: new vscode.Range(line.range.end, line.range.end), renderOptions: { after: { contentText: `\u00a0${a.text}` } } }
      : { range: new vscode.Range(line.range.end, line.range.end), renderOptions: { after: { contentText: '' } } };
    // Kept memory that does not grow is drawn like a caller mark: no heat, nothing that reads as a leak.
    if (a.kind === 'site' && !a.notGrowing) heat[a.heat].push(option);
    else if (a.kind === 'holder') holders.push(option);
    else callers.push(option);
  }
  styles.heat.forEach((type, level) => editor.setDecorations(type, heat[level]));
  editor.setDecorations(styles.caller, callers);
  editor.setDecorations(styles.holder, holders);
}

export function clearEditor(editor: vscode.TextEditor, styles: DecorationStyles): void {
  for (const type of styles.all) editor.setDecorations(type, []);
}
