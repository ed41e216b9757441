/** Progress notifications for harness runs and captures; Cancel stops the session. */
import * as vscode from 'vscode';
import type { ProfilingSessionApi, SessionProgress } from '../session/api';

function progressText(p: SessionProgress): string {
  return p.total !== undefined && p.done !== undefined && !p.message.includes(`/${p.total}`) ? `${p.message} (${p.done}/${p.total})` : p.message;
}

/** Shows the session's progress until it ends. */
export function showSessionProgress(session: ProfilingSessionApi, title: string): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Task Memory: ${title}`, cancellable: true },
    (progress, token) =>
      new Promise<void>((resolve) => {
        let reported = 0;
        const subscriptions = [
          token.onCancellationRequested(() => void session.stop('stopped by user')),
          session.onProgress((p) => {
            let increment: number | undefined;
            if (p.total && p.done !== undefined) {
              const percent = Math.min(100, (100 * p.done) / p.total);
              if (percent > reported) {
                increment = percent - reported;
                reported = percent;
              }
            }
            progress.report({ message: progressText(p), increment });
          }),
        ];
        void session.done.finally(() => {
          for (const s of subscriptions) s.dispose();
          resolve();
        });
      }),
  );
}

/** Runs a retained capture with a notification; Cancel stops the session (a capture cannot be undone halfway). */
export function captureWithProgress(session: ProfilingSessionApi, title: string): Thenable<void> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Task Memory: capturing retained heap of ${title}`, cancellable: true },
    async (progress, token) => {
      const cancel = token.onCancellationRequested(() => void session.stop('stopped by user during a capture'));
      const onProgress = session.onProgress((p) => progress.report({ message: progressText(p) }));
      try {
        progress.report({ message: 'Full GC and sampling profile… (Cancel stops the session)' });
        await session.captureNow();
      } finally {
        cancel.dispose();
        onProgress.dispose();
      }
    },
  );
}

/**
 * Why retained in a worker: a notification while the heap is read (it pauses the process), then what
 * happened. The first press reads a baseline and says to ask again once tasks ran; the second shows
 * the explanation in the panel. A heap snapshot cannot be stopped halfway, so there is no Cancel.
 */
export async function whyWithProgress(session: ProfilingSessionApi, title: string): Promise<void> {
  const step = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Task Memory: why is it kept (${title})`, cancellable: false },
    async (progress) => {
      const onProgress = session.onProgress((p) => progress.report({ message: progressText(p) }));
      try {
        progress.report({ message: 'Reading the heap (the process is paused meanwhile)…' });
        return await session.whyRetained();
      } finally {
        onProgress.dispose();
      }
    },
  );
  if (step.step === 'baseline') {
    void vscode.window.showInformationMessage(
      `Task Memory: the heap of pid ${step.pid} is read (paused ${Math.round(step.pauseMs)} ms). Let the worker run tasks, then ask "Why Is It Kept?" again: the panel shows what they kept and the lines that hold it.`,
    );
  } else {
    const top = step.why.groups[0];
    void vscode.window.showInformationMessage(
      top
        ? `Task Memory: over ${step.why.tasks} tasks, ${top.holdingLine ? top.holdingLine.operation : 'a holder'} keeps the most; the panel shows the paths.`
        : `Task Memory: over ${step.why.tasks} tasks, no holder gained entries steadily.`,
    );
  }
}
