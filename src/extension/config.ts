/**
 * The `taskMemory.*` settings (contributed in package.json) and a typed reader that clamps what
 * users type into settings.json to sane values.
 */
import * as vscode from 'vscode';
import type { RunSettings } from './choices';

export const CONFIG_SECTION = 'taskMemory';

export const enum Setting {
  StatsIntervalMs = 'statsIntervalMs',
  SamplingIntervalBytes = 'samplingIntervalBytes',
  PreciseAttribution = 'preciseAttribution',
  Runs = 'runs',
  Warmup = 'warmup',
  PythonPath = 'pythonPath',
  PythonSampleEvery = 'pythonSampleEvery',
  PythonMallocTrim = 'pythonMallocTrim',
  TaskGcBudgetPercent = 'taskGcBudgetPercent',
  AutoTasks = 'autoTasks',
  AnnotationsEnabled = 'annotations.enabled',
}

export interface TaskMemoryConfig extends RunSettings {
  annotationsEnabled: boolean;
}

export const CONFIG_DEFAULTS: TaskMemoryConfig = {
  statsIntervalMs: 100,
  samplingIntervalBytes: 0,
  preciseAttribution: 'auto',
  runs: 10,
  warmup: 2,
  pythonPath: '',
  /** 0: the agent's time budget; K: one run in K of each task. */
  pythonSampleEvery: 0,
  pythonMallocTrim: false,
  taskGcBudgetPercent: 1,
  autoTasks: true,
  annotationsEnabled: true,
};

function integer(value: unknown, fallback: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.round(value)));
}

function percent(value: unknown, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(100, Math.max(0.1, value));
}

/** Settings for `scope` (a file or folder: its workspace folder's settings apply). */
export function readConfig(scope?: vscode.ConfigurationScope): TaskMemoryConfig {
  const c = vscode.workspace.getConfiguration(CONFIG_SECTION, scope);
  const d = CONFIG_DEFAULTS;
  const precise = c.get<unknown>(Setting.PreciseAttribution);
  const pythonPath = c.get<unknown>(Setting.PythonPath);
  return {
    statsIntervalMs: integer(c.get(Setting.StatsIntervalMs), d.statsIntervalMs, 20, 60_000),
    samplingIntervalBytes: integer(c.get(Setting.SamplingIntervalBytes), d.samplingIntervalBytes, 0, 64 * 1024 * 1024),
    preciseAttribution: precise === 'on' || precise === 'off' ? precise : 'auto',
    runs: integer(c.get(Setting.Runs), d.runs, 1, 10_000),
    warmup: integer(c.get(Setting.Warmup), d.warmup, 0, 1_000),
    pythonPath: typeof pythonPath === 'string' ? pythonPath.trim() : '',
    pythonSampleEvery: integer(c.get(Setting.PythonSampleEvery), d.pythonSampleEvery, 0, 1_000_000),
    pythonMallocTrim: c.get<unknown>(Setting.PythonMallocTrim) === true,
    taskGcBudgetPercent: percent(c.get(Setting.TaskGcBudgetPercent), d.taskGcBudgetPercent ?? 1),
    autoTasks: c.get<unknown>(Setting.AutoTasks) !== false,
    annotationsEnabled: c.get<unknown>(Setting.AnnotationsEnabled) !== false,
  };
}
