import type * as vscode from 'vscode';

export function activate(_context: vscode.ExtensionContext): void {
  // Commands, panel and decorations are registered here as they land.
}

export function deactivate(): void {}
