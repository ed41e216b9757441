/** What the command handlers share. */
import type * as vscode from 'vscode';
import type { TaskMemoryOutput } from '../output';
import type { SessionManager } from '../sessionManager';

export interface CommandContext {
  readonly extension: vscode.ExtensionContext;
  readonly manager: SessionManager;
  readonly output: TaskMemoryOutput;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
