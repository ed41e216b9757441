/**
 * Starting a profiling session for a choice (Profile Task, CodeLens, Attach, Profile Again): the
 * settings, the runs remembered per task, the Python interpreter, workspace trust.
 */
import * as vscode from 'vscode';
import { CONFIG_SECTION, readConfig, Setting } from '../config';
import { usesPython, withPythonInterpreter, type ProfileChoice } from '../choices';
import { pythonInterpreterFor } from '../python';
import type { ProfilingSessionApi } from '../../session/api';
import { requireTrust } from '../trust';
import { errorMessage, type CommandContext } from './context';

export const LAST_CHOICE_KEY = 'taskMemory.lastChoice';
export const RUNS_KEY = 'taskMemory.runsWarmup';

/** Tasks whose runs/warm-up are remembered per workspace; the oldest are forgotten beyond this. */
export const REMEMBERED_TASKS = 50;

export type RunsWarmup = { runs: number; warmup: number };

/** The key a task's runs/warm-up are remembered under: its file and export. */
export function taskKey(choice: Extract<ProfileChoice, { kind: 'harness' }>): string {
  return `${choice.file}#${choice.exportName}`;
}

export function storedRuns(ctx: CommandContext): Record<string, RunsWarmup> {
  const stored = ctx.extension.workspaceState.get<unknown>(RUNS_KEY);
  if (typeof stored !== 'object' || stored === null) return {};
  const valid: Record<string, RunsWarmup> = {};
  for (const [key, value] of Object.entries(stored as Record<string, unknown>)) {
    const { runs, warmup } = (value ?? {}) as { runs?: unknown; warmup?: unknown };
    if (typeof runs === 'number' && typeof warmup === 'number') valid[key] = { runs, warmup };
  }
  return valid;
}

/** Runs/warm-up: what the user last entered for this task, else the settings (another task's entry does not carry over). */
export function rememberedRuns(ctx: CommandContext, scope: vscode.Uri | undefined, task?: string): RunsWarmup {
  const stored = task !== undefined ? storedRuns(ctx)[task] : undefined;
  if (stored) return stored;
  const config = readConfig(scope);
  return { runs: config.runs, warmup: config.warmup };
}

/** Starts `choice` with the current settings (and, for the harness, the remembered runs). */
export async function launch(ctx: CommandContext, choice: ProfileChoice, runs?: { runs: number; warmup: number }): Promise<ProfilingSessionApi | undefined> {
  if (!(await requireTrust(choice.kind === 'attach' ? 'attach to a process' : 'launch a program'))) return undefined;
  const scope = vscode.Uri.file(choice.cwd);
  const config = readConfig(scope);
  const settings = { ...config, ...(runs ?? rememberedRuns(ctx, scope, choice.kind === 'harness' ? taskKey(choice) : undefined)) };
  await ctx.extension.workspaceState.update(LAST_CHOICE_KEY, choice);
  let run = choice;
  if (usesPython(choice)) {
    // The setting, else the Python extension's interpreter for this folder, else python3; checked first.
    const resource = choice.kind === 'harness' ? vscode.Uri.file(choice.file) : scope;
    try {
      const python = await pythonInterpreterFor(resource);
      settings.pythonPath = python.path;
      run = withPythonInterpreter(choice, python.path);
      ctx.output.log(`Python: ${python.path} (${python.version.join('.')}, ${python.source})`);
    } catch (error) {
      void showPythonError(ctx, errorMessage(error));
      return undefined;
    }
  }
  try {
    return await ctx.manager.start(run, settings);
  } catch {
    return undefined; // the manager has shown the error
  }
}

const OPEN_SETTINGS = 'Open Settings';

async function showPythonError(ctx: CommandContext, message: string): Promise<void> {
  ctx.output.log(`ERROR ${message}`);
  const pick = await vscode.window.showErrorMessage(`Task Memory: ${message}`, OPEN_SETTINGS);
  if (pick === OPEN_SETTINGS) await vscode.commands.executeCommand('workbench.action.openSettings', `${CONFIG_SECTION}.${Setting.PythonPath}`);
}
