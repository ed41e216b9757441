/** Attach to Process: an inspector URL or port, or a Node PID (its inspector is opened with SIGUSR1). */
import * as vscode from 'vscode';
import { parseAttachInput, type ProfileChoice } from '../choices';
import type { ProfilingSessionApi } from '../../session/api';
import type { CommandContext } from './context';
import { launch } from './profileTask';

/** `arg` (automation): the same text the input box takes ("9229", "ws://…", "pid 1234"). */
export async function attachToProcess(ctx: CommandContext, arg?: unknown): Promise<ProfilingSessionApi | undefined> {
  let text = typeof arg === 'string' ? arg : typeof arg === 'number' ? String(arg) : undefined;
  if (text === undefined) {
    text = await vscode.window.showInputBox({
      title: 'Task Memory: attach to a process',
      prompt:
        'A Node or Python inspector on this machine: ws://127.0.0.1:PORT/ID, http://127.0.0.1:PORT, a port, or "pid 1234" for a Node process (its inspector is opened on port 9229).',
      placeHolder: '9229   ·   ws://127.0.0.1:9229/…   ·   pid 1234',
      validateInput: (value) => {
        const parsed = parseAttachInput(value);
        return typeof parsed === 'string' ? parsed : undefined;
      },
    });
    if (text === undefined) return undefined;
  }
  const attach = parseAttachInput(text);
  if (typeof attach === 'string') {
    void vscode.window.showErrorMessage(`Task Memory: ${attach}`);
    return undefined;
  }
  const label = attach.pid ? `attach pid ${attach.pid}` : `attach ${attach.url ?? attach.port}`;
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const choice: ProfileChoice = { kind: 'attach', label, attach, cwd };
  return launch(ctx, choice);
}
