/**
 * The `taskMemory.*` settings: defaults and limits in one table (the manifest's are checked against
 * it by a unit test), and how a value typed into settings.json is read and clamped. No `vscode` here.
 */
import { DEFAULT_MIN_RUNS } from '../core/verdict';
import { DEFAULTS } from '../session/defaults';
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
  MemoryLimitMiB = 'memoryLimitMiB',
  AutoTasks = 'autoTasks',
  AnnotationsEnabled = 'annotations.enabled',
  WhyRetained = 'whyRetained',
}

export interface TaskMemoryConfig extends RunSettings {
  annotationsEnabled: boolean;
}

/** Numeric settings: the range a value is clamped to (and the manifest's minimum/maximum). */
export const SETTING_LIMITS = {
  [Setting.StatsIntervalMs]: { min: 20, max: 60_000 },
  [Setting.SamplingIntervalBytes]: { min: 0, max: 64 * 1024 * 1024 },
  // The verdict needs DEFAULT_MIN_RUNS measured runs; fewer would always be inconclusive.
  [Setting.Runs]: { min: DEFAULT_MIN_RUNS, max: 10_000 },
  [Setting.Warmup]: { min: 0, max: 1_000 },
  [Setting.PythonSampleEvery]: { min: 0, max: 1_000_000 },
  [Setting.TaskGcBudgetPercent]: { min: 0.1, max: 100 },
  [Setting.MemoryLimitMiB]: { min: 0, max: 1_048_576 },
} as const;

export const CONFIG_DEFAULTS: Required<TaskMemoryConfig> = {
  statsIntervalMs: DEFAULTS.statsIntervalMs,
  /** 0: the engine's default for the mode (DEFAULTS.harnessSamplingIntervalBytes, workerSamplingIntervalBytes). */
  samplingIntervalBytes: 0,
  preciseAttribution: 'auto',
  runs: DEFAULTS.runs,
  warmup: DEFAULTS.warmup,
  pythonPath: '',
  /** 0: the agent's time budget; K: one run in K of each task. */
  pythonSampleEvery: 0,
  pythonMallocTrim: false,
  taskGcBudgetPercent: DEFAULTS.taskGcBudget * 100,
  /** 0: the container's limit (cgroup), else the machine's RAM divided among the children. */
  memoryLimitMiB: 0,
  autoTasks: true,
  annotationsEnabled: true,
  whyRetained: DEFAULTS.why,
};

type Limited = keyof typeof SETTING_LIMITS;

function clamp(value: unknown, setting: Limited, fallback: number, round: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  const { min, max } = SETTING_LIMITS[setting];
  return Math.min(max, Math.max(min, round ? Math.round(value) : value));
}

function whyFrom(value: unknown): 'auto' | 'always' | 'never' {
  return value === 'always' || value === 'never' ? value : 'auto';
}

/** The settings from `get` (VS Code's configuration, or a test's table), every value checked. */
export function configFrom(get: (setting: Setting) => unknown): TaskMemoryConfig {
  const d = CONFIG_DEFAULTS;
  const integer = (setting: Limited, fallback: number): number => clamp(get(setting), setting, fallback, true);
  const precise = get(Setting.PreciseAttribution);
  const pythonPath = get(Setting.PythonPath);
  return {
    statsIntervalMs: integer(Setting.StatsIntervalMs, d.statsIntervalMs),
    samplingIntervalBytes: integer(Setting.SamplingIntervalBytes, d.samplingIntervalBytes),
    preciseAttribution: precise === 'on' || precise === 'off' ? precise : 'auto',
    runs: integer(Setting.Runs, d.runs),
    warmup: integer(Setting.Warmup, d.warmup),
    pythonPath: typeof pythonPath === 'string' ? pythonPath.trim() : '',
    pythonSampleEvery: integer(Setting.PythonSampleEvery, d.pythonSampleEvery),
    pythonMallocTrim: get(Setting.PythonMallocTrim) === true,
    taskGcBudgetPercent: clamp(get(Setting.TaskGcBudgetPercent), Setting.TaskGcBudgetPercent, d.taskGcBudgetPercent, false),
    memoryLimitMiB: integer(Setting.MemoryLimitMiB, d.memoryLimitMiB),
    autoTasks: get(Setting.AutoTasks) !== false,
    annotationsEnabled: get(Setting.AnnotationsEnabled) !== false,
    whyRetained: whyFrom(get(Setting.WhyRetained)),
  };
}
