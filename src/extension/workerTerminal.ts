/**
 * A worker profiled from the extension (an npm script, a VS Code task, a command line) gets a
 * terminal of its own, as it would when run without the profiler: a pseudoterminal that shows what
 * the program prints. Ctrl+C stops the session; closing the terminal while the session runs stops
 * it too (as closing a task's terminal ends the task). The output channel keeps our own log.
 */
import * as vscode from 'vscode';

/** What a terminal that was never opened keeps (VS Code opens it a moment after it is created). */
const MAX_PENDING_CHARS = 1 << 20;

export class WorkerTerminal implements vscode.Disposable {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly terminal: vscode.Terminal;
  private opened = false;
  private closed = false;
  private pending = '';

  /** `stop` is called on Ctrl+C and when the user closes the terminal. */
  constructor(title: string, stop: () => void) {
    const pty: vscode.Pseudoterminal = {
      onDidWrite: this.writeEmitter.event,
      open: () => {
        this.opened = true;
        if (this.pending) this.writeEmitter.fire(this.pending);
        this.pending = '';
      },
      close: () => {
        if (this.closed) return;
        this.closed = true;
        stop();
      },
      handleInput: (data) => {
        if (data === '\x03') {
          this.write('^C\n');
          stop();
        }
      },
    };
    this.terminal = vscode.window.createTerminal({ name: `Task Memory: ${title}`, pty, iconPath: new vscode.ThemeIcon('pulse') });
    // Shown without taking focus: the panel opens at the same time.
    this.terminal.show(true);
  }

  /** What the program printed; a terminal wants CR LF. */
  write(text: string): void {
    if (this.closed || !text) return;
    const out = text.replace(/\r?\n/g, '\r\n');
    if (this.opened) this.writeEmitter.fire(out);
    else this.pending = (this.pending + out).slice(-MAX_PENDING_CHARS);
  }

  /** A line of ours, set apart from the program's output. */
  note(message: string): void {
    this.write(`\n\x1b[2m[Task Memory] ${message}\x1b[0m\n`);
  }

  dispose(): void {
    this.closed = true;
    this.terminal.dispose();
    this.writeEmitter.dispose();
  }
}
