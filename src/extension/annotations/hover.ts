/**
 * Hover on an annotated line: the figures, the allocation stack with links to each frame, and a link
 * to the site in the panel. Answers only for lines that carry an annotation; the Markdown is built in
 * core (every string from the profiled program escaped) and trusts only our two commands.
 */
import type { ProgressUnit } from '../../core/format';
import * as vscode from 'vscode';
import { HOVER_COMMANDS, hoverMarkdown, type FileAnnotation } from '../../core/annotations';
import type { TaskFigure } from './sessionData';

export interface HoverSource {
  modelFor(file: string): FileAnnotation[];
  readonly sessionId: string | undefined;
  readonly tasks: readonly TaskFigure[];
  readonly unit: ProgressUnit;
}

export function annotationHover(
  annotation: FileAnnotation,
  source: Omit<HoverSource, 'modelFor'>,
  cwd?: string,
  hiddenPaths?: readonly string[],
): vscode.MarkdownString {
  const md = new vscode.MarkdownString(hoverMarkdown(annotation, { sessionId: source.sessionId, tasks: source.tasks, unit: source.unit, cwd, hiddenPaths }));
  md.isTrusted = { enabledCommands: [HOVER_COMMANDS.reveal, HOVER_COMMANDS.showSite] };
  md.supportHtml = false;
  return md;
}

export class AnnotationHoverProvider implements vscode.HoverProvider {
  /** `hiddenPaths`: the profiler's own code (the harness), left out of stacks. */
  constructor(
    private readonly source: HoverSource,
    private readonly hiddenPaths: readonly string[] = [],
  ) {}

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const annotation = this.source.modelFor(document.uri.fsPath).find((a) => a.line === position.line);
    if (!annotation) return undefined;
    const cwd = vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath;
    return new vscode.Hover(annotationHover(annotation, this.source, cwd, this.hiddenPaths), document.lineAt(position.line).range);
  }
}
