/**
 * The engine's advice names command-line options (`--runs 60`). In VS Code the same knobs are
 * settings, and the command line means nothing: the extension shows the advice in its own terms.
 * One table, so a new option is named the same way in both.
 */
import type { Verdict } from './model';
import type { RecyclingAdvice } from './recyclingAdvisor';

/** Each option the advice may name, and the setting that does the same in the extension. */
export const OPTION_SETTINGS: Readonly<Record<string, string>> = {
  '--runs': 'taskMemory.runs',
  '--warmup': 'taskMemory.warmup',
  '--sampling-interval': 'taskMemory.samplingIntervalBytes',
  '--gc-budget': 'taskMemory.taskGcBudgetPercent',
  '--memory-limit': 'taskMemory.memoryLimitMiB',
  '--no-auto-tasks': 'taskMemory.autoTasks',
  '--precise': 'taskMemory.preciseAttribution',
  '--malloc-trim': 'taskMemory.pythonMallocTrim',
  '--sample-every': 'taskMemory.pythonSampleEvery',
  '--interval': 'taskMemory.statsIntervalMs',
};

/** Commands of the CLI and the action that does the same in the extension. */
const COMMAND_ACTIONS: ReadonlyArray<readonly [RegExp, string]> = [[/`taskmem task`/g, '"Task Memory: Profile Task" on its function']];

const OPTION = new RegExp(`(${Object.keys(OPTION_SETTINGS).join('|')})(?![\\w-])(?:[ =](\\d+))?`, 'g');

/** `--runs 60` → `setting taskMemory.runs (60)`; Celery's own options and other text are left as they are. */
export function inSettingsTerms(text: string): string {
  let out = text.replace(OPTION, (_match, option: string, value: string | undefined) => {
    const setting = OPTION_SETTINGS[option];
    return value === undefined ? `setting ${setting}` : `setting ${setting} (${value})`;
  });
  for (const [pattern, action] of COMMAND_ACTIONS) out = out.replace(pattern, action);
  return out;
}

export function verdictInSettingsTerms(verdict: Verdict): Verdict {
  return {
    ...verdict,
    summary: inSettingsTerms(verdict.summary),
    ...(verdict.advice !== undefined ? { advice: inSettingsTerms(verdict.advice) } : {}),
    evidence: verdict.evidence.map(inSettingsTerms),
  };
}

/** The advice's prose in settings terms; the lines to paste stay as they are (they are Celery's and pm2's own). */
export function recyclingInSettingsTerms(advice: RecyclingAdvice): RecyclingAdvice {
  return { ...advice, warnings: advice.warnings.map(inSettingsTerms), note: inSettingsTerms(advice.note) };
}
