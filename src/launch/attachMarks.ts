/**
 * Injected into a Node process the session attached to (taskmem attach, Attach to Process), which has
 * no bootloader: evaluated through the inspector with the console's command-line API, whose
 * `require` loads the built-in modules. It defines one function; the session calls it with the GC
 * budget, and calls what it returns when it lets go, so nothing of ours stays in the process.
 */
import { installTaskMarks } from './taskMarks';

declare const globalThis: { __taskmemAttachMarks?: (gcBudget: number, autoTasks?: boolean) => string; __taskmemDetachMarks?: () => void };

globalThis.__taskmemAttachMarks ??= (gcBudget: number, autoTasks = true): string => {
  if (globalThis.__taskmemDetachMarks) return 'already installed';
  const uninstall = installTaskMarks(gcBudget, { requests: autoTasks, jobs: autoTasks });
  globalThis.__taskmemDetachMarks = () => {
    uninstall();
    delete globalThis.__taskmemDetachMarks;
  };
  return 'installed';
};
