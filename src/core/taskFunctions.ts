/**
 * Finds the functions a user may profile as a task (CodeLens "Profile Task", the quick pick):
 * exported functions in JavaScript/TypeScript modules (on the syntax tree: jsTaskFunctions.ts) and
 * module-level or Celery task functions in Python (on its token stream: pyTaskFunctions.ts).
 */
import { findJsTaskFunctions } from './jsTaskFunctions';
import { findPythonTaskFunctions } from './pyTaskFunctions';

export type TaskLanguage = 'javascript' | 'typescript' | 'python';

export interface TaskFunction {
  /** The name the harness calls: the export name (JS/TS) or the function name (Python). */
  name: string;
  /** 0-based line the lens goes above (the declaration, or the first decorator in Python). */
  line: number;
  kind: 'function' | 'celery-task';
}

/**
 * Task functions in a document, in line order; `undefined` when the file does not parse (while it is being typed: a caller with an earlier result keeps showing it).
 */
export function parseTaskFunctions(text: string, languageId: TaskLanguage): TaskFunction[] | undefined {
  if (languageId === 'python') return findPythonTaskFunctions(text);
  return findJsTaskFunctions(text, languageId);
}

/** Task functions in a document, in line order (none when it does not parse). */
export function findTaskFunctions(text: string, languageId: TaskLanguage): TaskFunction[] {
  return parseTaskFunctions(text, languageId) ?? [];
}

/** Language ids (VS Code's) that {@link findTaskFunctions} understands. */
export function taskLanguage(languageId: string): TaskLanguage | undefined {
  switch (languageId) {
    case 'javascript':
    case 'javascriptreact':
      return 'javascript';
    case 'typescript':
    case 'typescriptreact':
      return 'typescript';
    case 'python':
      return 'python';
    default:
      return undefined;
  }
}

/** The language of a file by its name, for files that are not open in an editor. */
export function taskLanguageOfFile(fileName: string): TaskLanguage | undefined {
  if (/\.(?:[cm]?ts|tsx)$/i.test(fileName)) return 'typescript';
  if (/\.(?:[cm]?js|jsx)$/i.test(fileName)) return 'javascript';
  if (/\.py$/i.test(fileName)) return 'python';
  return undefined;
}
