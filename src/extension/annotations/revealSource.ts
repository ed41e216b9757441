/**
 * RevealSource (file, 1-based line): opens the document, centres the line and flashes it briefly.
 * Used by the hover's stack links and by the panel.
 */
import * as vscode from 'vscode';

export const FLASH_MS = 1500;

export class SourceRevealer implements vscode.Disposable {
  private readonly flash = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('taskMemory.flashBackground'),
  });
  private timer: NodeJS.Timeout | undefined;
  private flashed: vscode.TextEditor | undefined;

  async reveal(file: string | vscode.Uri, line: number): Promise<vscode.TextEditor | undefined> {
    const uri = typeof file === 'string' ? (/^[a-z][\w+.-]+:\/\//i.test(file) ? vscode.Uri.parse(file) : vscode.Uri.file(file)) : file;
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(uri);
    } catch (error) {
      void vscode.window.showWarningMessage(`Task Memory: cannot open ${uri.fsPath || uri.toString()}: ${(error as Error).message}`);
      return undefined;
    }
    const index = Math.min(Math.max(0, Math.floor(Number.isFinite(line) ? line : 1) - 1), Math.max(0, document.lineCount - 1));
    const start = new vscode.Position(index, document.lineAt(index).firstNonWhitespaceCharacterIndex);
    const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(start, start), preserveFocus: false });
    editor.revealRange(new vscode.Range(start, start), vscode.TextEditorRevealType.InCenter);
    this.clearFlash();
    editor.setDecorations(this.flash, [new vscode.Range(index, 0, index, 0)]);
    this.flashed = editor;
    this.timer = setTimeout(() => this.clearFlash(), FLASH_MS);
    return editor;
  }

  private clearFlash(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flashed?.setDecorations(this.flash, []);
    this.flashed = undefined;
  }

  dispose(): void {
    this.clearFlash();
    this.flash.dispose();
  }
}
