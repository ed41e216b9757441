/**
 * Attach to Process: a Node program or an attachable Python process (started with the agent's
 * environment) picked from the running ones, or typed: an inspector URL or port, or a PID (a Node
 * process's inspector is opened with SIGUSR1, and closed again when the session stops).
 */
import * as vscode from 'vscode';
import { parseAttachInput, type ProfileChoice } from '../choices';
import type { ProfilingSessionApi } from '../../session/api';
import { runningNodePrograms } from '../../session/attach';
import { attachableEnvironment, attachableProcesses, attachableShellLines } from '../../launch/attachable';
import type { CommandContext } from './context';
import { launch } from './launch';

interface ProcessItem extends vscode.QuickPickItem {
  /** The input-box text this item stands for; undefined: type one. */
  text?: string;
  /** Copy the environment that makes Python processes attachable. */
  copiesPythonEnvironment?: boolean;
}

/** Python processes need the agent from their start: the lines to start them with, on the clipboard. */
async function copyPythonEnvironment(): Promise<void> {
  const lines = attachableShellLines(attachableEnvironment());
  await vscode.env.clipboard.writeText(lines.join('\n') + '\n');
  void vscode.window.showInformationMessage(
    'Task Memory: the environment for attachable Python processes is on the clipboard. Paste it in the shell (or the service definition) that starts the worker; once it runs, it is listed here.',
  );
}

/** The running Node programs and attachable Python processes to pick from, and a last item to type a port, URL or pid. */
async function pickProcess(): Promise<string | undefined | null> {
  const programs = await runningNodePrograms();
  const pythons = attachableProcesses();
  const items: ProcessItem[] = [
    ...pythons.map((python) => ({
      label: `$(server-process) ${python.title ?? python.argv.join(' ')}`,
      description: `pid ${python.pid} · Python`,
      detail: 'started with the agent (taskmem env): attaching connects to it; it runs on when the session stops',
      text: `pid ${python.pid}`,
    })),
    ...programs.map((program) => ({
      label: `$(server-process) ${program.command}`,
      description: `pid ${program.pid}`,
      detail: program.inspectorOpen
        ? 'inspector open: attaching uses it and leaves it open'
        : 'no inspector yet: it is opened (SIGUSR1) and closed again when the session stops',
      text: `pid ${program.pid}`,
    })),
  ];
  items.push({ label: '$(edit) Enter a port, ws:// URL or pid…', alwaysShow: true });
  items.push({
    label: '$(copy) Make Python processes attachable…',
    detail: 'copies the environment to start them with (Python has no inspector to open later)',
    alwaysShow: true,
    copiesPythonEnvironment: true,
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Task Memory: attach to a process',
    placeHolder: 'Pick a process, or type an inspector port, ws:// URL or pid',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  if (picked.copiesPythonEnvironment) {
    await copyPythonEnvironment();
    return undefined;
  }
  return picked.text ?? null;
}

/** `arg` (automation): the same text the input box takes ("9229", "ws://…", "pid 1234"). */
export async function attachToProcess(ctx: CommandContext, arg?: unknown): Promise<ProfilingSessionApi | undefined> {
  let text = typeof arg === 'string' ? arg : typeof arg === 'number' ? String(arg) : undefined;
  if (text === undefined) {
    // null: no program listed, or the user wants to type one.
    const picked = await pickProcess();
    if (picked === undefined) return undefined;
    if (picked !== null) text = picked;
  }
  if (text === undefined) {
    text = await vscode.window.showInputBox({
      title: 'Task Memory: attach to a process',
      prompt:
        'A Node inspector on this machine: ws://127.0.0.1:PORT/ID, http://127.0.0.1:PORT, a port, or "pid 1234" for a Node process (its inspector is opened on port 9229 and closed again when the session stops).',
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
