/**
 * Workspace Trust: profiling runs the workspace's code (its files, npm scripts, tasks, launch
 * configurations) or connects to a process's inspector, so none of it happens in Restricted Mode.
 */
import * as vscode from 'vscode';

export const MANAGE_TRUST = 'Manage Workspace Trust';

/** True when the workspace is trusted; otherwise says why not and offers to manage trust. */
export async function requireTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const pick = await vscode.window.showWarningMessage(
    `Task Memory cannot ${action} in Restricted Mode: profiling runs this workspace's code (or attaches to a process) with full access to your machine. Trust the workspace to profile it.`,
    MANAGE_TRUST,
  );
  if (pick === MANAGE_TRUST) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}
