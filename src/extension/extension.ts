/**
 * Entry point: wires the session manager, commands, status bar, output channel and the panel
 * serializer. Everything is a Disposable registered on the context; deactivate() stops every
 * running session (and the process trees it launched).
 */
import * as vscode from 'vscode';
import { registerAnnotations, type AnnotationsApi } from './annotations';
import { registerCommands } from './commands/register';
import { TaskMemoryOutput } from './output';
import { registerMemoryPanelSerializer, MemoryPanel } from './panel/memoryPanel';
import { SessionManager } from './sessionManager';
import type { SessionRegistry } from './sessionRegistry';
import { SessionStatusBar } from './statusBar';

/** What activate() returns: for tests and other extensions. */
export interface TaskMemoryApi {
  readonly sessions: SessionRegistry;
  readonly annotations: AnnotationsApi;
  /** Whether the memory panel of a session is open. */
  hasPanel(sessionId: string): boolean;
}

let manager: SessionManager | undefined;

export function activate(context: vscode.ExtensionContext): TaskMemoryApi {
  const output = new TaskMemoryOutput();
  const sessions = new SessionManager(context.extensionUri, output);
  manager = sessions;
  context.subscriptions.push(
    output,
    sessions,
    new SessionStatusBar(sessions),
    ...registerCommands({ extension: context, manager: sessions, output }),
    // Panels restored after a window reload are read-only unless their session still runs.
    registerMemoryPanelSerializer(context.extensionUri),
  );
  const annotations = registerAnnotations(context, sessions);
  return {
    sessions,
    annotations,
    hasPanel: (sessionId) => MemoryPanel.forSession(sessionId) !== undefined,
  };
}

export async function deactivate(): Promise<void> {
  const current = manager;
  manager = undefined;
  await current?.stopAll();
}
