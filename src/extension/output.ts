/** The "Task Memory" output channel: our own lines are time-stamped, the target's output is raw. */
import * as vscode from 'vscode';

export class TaskMemoryOutput implements vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel('Task Memory');
  private atLineStart = true;

  /** A line of ours: "[12:03:04] message". */
  log(message: string): void {
    if (!this.atLineStart) this.channel.appendLine('');
    const time = new Date().toTimeString().slice(0, 8);
    this.channel.appendLine(`[${time}] ${message}`);
    this.atLineStart = true;
  }

  /** What the profiled program printed, as it printed it. */
  target(text: string): void {
    if (!text) return;
    this.channel.append(text);
    this.atLineStart = text.endsWith('\n');
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

export const OPEN_OUTPUT = 'Open Output';

/** An error message with an "Open Output" button that does what it says. */
export async function showError(output: TaskMemoryOutput, message: string): Promise<void> {
  output.log(`ERROR ${message}`);
  const pick = await vscode.window.showErrorMessage(message, OPEN_OUTPUT);
  if (pick === OPEN_OUTPUT) output.show();
}
