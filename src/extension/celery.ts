/**
 * Celery workers for Profile Task: whether a Python file defines a Celery app or Celery tasks, and
 * the worker choices to run it (`python -m celery -A <module> worker -P prefork|solo`) in worker
 * mode. Pure (no `vscode`), unit-tested in test/unit/extension-celery.test.ts.
 */
import * as path from 'node:path';
import { findTaskFunctions } from '../core/taskFunctions';
import type { ProfileChoice } from './choices';

export type CeleryPool = 'prefork' | 'solo';

/** Prefork with two children: the pool users run, small enough to profile. */
export const PREFORK_CONCURRENCY = 2;

/** Blanks string contents and drops the `#` comment of a line (roughly: not a tokenizer). */
function codeOf(line: string): string {
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') {
        out += '  ';
        i++;
      } else if (c === quote) {
        out += c;
        quote = undefined;
      } else out += ' ';
    } else if (c === '"' || c === "'") {
      out += c;
      quote = c;
    } else if (c === '#') break;
    else out += c;
  }
  return out;
}

/** A Celery app (`Celery(`) or Celery tasks (`@app.task`, `@shared_task`) in Python source. */
export function definesCelery(text: string): boolean {
  if (findTaskFunctions(text, 'python').some((f) => f.kind === 'celery-task')) return true;
  return text.split('\n').some((line) => /(?:^|[^\w.]|\bcelery\.)Celery\s*\(/.test(codeOf(line)));
}

/**
 * What `-A` names and where the worker runs for a file: its module name in its folder (tasks.py →
 * `tasks`, run in the file's folder). A package's `__init__.py` or `celery.py` (`proj/celery.py`,
 * the Django layout) is the package (`-A proj`, run in the package's parent), which also keeps a
 * module named `celery` from shadowing Celery itself.
 */
export function celeryApp(file: string, folderIsPackage: boolean): { module: string; cwd: string } {
  const dir = path.dirname(file);
  const stem = path.basename(file).replace(/\.pyw?$/i, '');
  if (folderIsPackage && (stem === '__init__' || stem === 'celery')) return { module: path.basename(dir), cwd: path.dirname(dir) };
  return { module: stem, cwd: dir };
}

/** `[python, -m, celery, -A, module, worker, -P, pool, (-c 2), --loglevel, INFO]`. */
export function celeryWorkerCommand(python: string, module: string, pool: CeleryPool): string[] {
  const concurrency = pool === 'prefork' ? ['-c', String(PREFORK_CONCURRENCY)] : [];
  return [python, '-m', 'celery', '-A', module, 'worker', '-P', pool, ...concurrency, '--loglevel', 'INFO'];
}

/** "celery -A tasks worker -P prefork -c 2". */
export function celeryWorkerLabel(module: string, pool: CeleryPool): string {
  return `celery -A ${module} worker -P ${pool}${pool === 'prefork' ? ` -c ${PREFORK_CONCURRENCY}` : ''}`;
}

/**
 * The worker choices for a Python file that defines Celery (prefork, then solo); none otherwise.
 * argv[0] is `python`, replaced at launch by the resolved interpreter (`pythonCommand`).
 */
export function celeryWorkerChoices(file: string, text: string, python: string, folderIsPackage = false): ProfileChoice[] {
  if (!definesCelery(text)) return [];
  const { module, cwd } = celeryApp(file, folderIsPackage);
  return (['prefork', 'solo'] as const).map((pool) => ({
    kind: 'worker',
    label: celeryWorkerLabel(module, pool),
    command: celeryWorkerCommand(python, module, pool),
    shell: false,
    cwd,
    runtime: 'python',
    pythonCommand: true,
  }));
}
