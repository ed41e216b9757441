/**
 * Profile Task: one quick pick of everything that can be profiled, grouped with separators: the
 * active file (its exported functions through the harness, or the whole file as a worker), npm
 * scripts, VS Code tasks and `node` launch configurations (run as workers under the profiler), a
 * typed command line, attaching, and "Profile again". Slow sources (tasks) fill in while it is open.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readConfig } from '../config';
import { findTaskFunctions, taskLanguageOfFile } from '../../core/taskFunctions';
import { launchConfigChoice, npmScriptChoices, parseRunsWarmup, parseStoredChoice, taskCommand, type ProfileChoice } from '../choices';
import { celeryWorkerChoices } from '../celery';
import { DEFAULT_PYTHON, resolvePythonInterpreter } from '../python';
import type { ProfilingSessionApi } from '../../session/api';
import { requireTrust } from '../trust';
import { errorMessage, type CommandContext } from './context';
import { attachToProcess } from './attach';
import { LAST_CHOICE_KEY, launch, REMEMBERED_TASKS, RUNS_KEY, rememberedRuns, storedRuns, taskKey, type RunsWarmup } from './launch';

type Pick = vscode.QuickPickItem & { choice?: ProfileChoice; action?: 'type-command' | 'attach' };

/** Asks for runs and warm-up in one input box (pre-filled with the remembered values) and remembers them for this task. */
async function askRuns(ctx: CommandContext, choice: Extract<ProfileChoice, { kind: 'harness' }>): Promise<RunsWarmup | undefined> {
  const task = taskKey(choice);
  const current = rememberedRuns(ctx, vscode.Uri.file(choice.file), task);
  const text = await vscode.window.showInputBox({
    title: `Task Memory: runs, warm-up (${choice.label})`,
    prompt:
      'Measured runs, warm-up runs. Each measured run is followed by a full GC that measures what it kept; warm-up runs load code and fill caches and are not measured.',
    value: `${current.runs}, ${current.warmup}`,
    validateInput: (value) => {
      const parsed = parseRunsWarmup(value, current.warmup);
      return typeof parsed === 'string' ? parsed : undefined;
    },
  });
  if (text === undefined) return undefined;
  const parsed = parseRunsWarmup(text, current.warmup);
  if (typeof parsed === 'string') return undefined;
  const entries = Object.entries(storedRuns(ctx)).filter(([key]) => key !== task);
  await ctx.extension.workspaceState.update(RUNS_KEY, Object.fromEntries([...entries.slice(-(REMEMBERED_TASKS - 1)), [task, parsed]]));
  return parsed;
}

function folderOf(uri: vscode.Uri): string {
  return vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? path.dirname(uri.fsPath);
}

/** The harness choice for a function of a file (Profile Function, CodeLens). */
export function harnessChoice(uri: vscode.Uri, exportName: string): ProfileChoice {
  const runtime = taskLanguageOfFile(uri.fsPath) === 'python' ? 'python' : 'node';
  return { kind: 'harness', label: `${path.basename(uri.fsPath)}#${exportName}`, file: uri.fsPath, exportName, runtime, cwd: folderOf(uri) };
}

/**
 * The file the user is looking at. Right after a file opens, the extension host may not have been
 * told of its editor yet (activeTextEditor is undefined while the tab already shows): the active
 * tab's document stands in (a vsix e2e run listed no functions of the file just opened).
 */
function activeDocument(): vscode.TextDocument | undefined {
  const editor = vscode.window.activeTextEditor?.document;
  if (editor) return editor;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (!(input instanceof vscode.TabInputText)) return undefined;
  const uri = input.uri.toString();
  return vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri);
}

/** `python` is the interpreter to show (resolved while the quick pick is open); launch resolves it again. */
function activeFilePicks(python: string): Pick[] {
  const document = activeDocument();
  if (!document || document.uri.scheme !== 'file') return [];
  const language = taskLanguageOfFile(document.fileName);
  if (!language) return [];
  const file = document.fileName;
  const base = path.basename(file);
  const cwd = folderOf(document.uri);
  const picks: Pick[] = [{ label: `Active file: ${base}`, kind: vscode.QuickPickItemKind.Separator }];
  for (const found of findTaskFunctions(document.getText(), language).map((f) => ({ name: f.name, line: f.line + 1 }))) {
    picks.push({
      label: `$(symbol-function) ${found.name}`,
      description: `${base}:${found.line}`,
      detail: 'Harness: call it again and again, measure what each run keeps after a full GC',
      choice: { ...harnessChoice(document.uri, found.name), cwd },
    });
  }
  const isPython = language === 'python';
  const command = isPython ? [python, file] : /\.[cm]?tsx?$/i.test(file) ? ['npx', 'tsx', file] : ['node', file];
  picks.push({
    label: `$(play) Run ${base} as a worker`,
    description: command.map((c) => (c === file ? base : c)).join(' '),
    detail: 'Worker mode: the program runs its own tasks under the profiler',
    choice: {
      kind: 'worker',
      label: `${command[0] === file ? '' : `${path.basename(command[0])} `}${base}`,
      command,
      shell: false,
      cwd,
      runtime: isPython ? 'python' : 'node',
      ...(isPython ? { pythonCommand: true } : {}),
    },
  });
  if (isPython) {
    const isPackage = fs.existsSync(path.join(path.dirname(file), '__init__.py'));
    const celery = celeryWorkerChoices(file, document.getText(), python, isPackage);
    if (celery.length) {
      const every = readConfig(document.uri).pythonSampleEvery;
      picks.push({ label: 'Celery worker', kind: vscode.QuickPickItemKind.Separator });
      for (const choice of celery) {
        picks.push({
          label: `$(server-process) ${choice.label}`,
          description: choice.kind === 'worker' ? `in ${path.basename(choice.cwd)} · ${path.basename(python)}` : undefined,
          detail: `Worker mode with task sampling: every task is counted and timed; ${every > 0 ? `one run in ${every} of each task` : 'runs within a 10% time budget'} are traced for their lines (taskMemory.pythonSampleEvery)`,
          choice,
        });
      }
    }
  }
  return picks;
}

function initialPython(): string {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return readConfig(uri).pythonPath || DEFAULT_PYTHON;
}

/** The interpreter for the active Python file (the Python extension's may take a moment); undefined for other files. */
async function activePython(): Promise<string | undefined> {
  const document = vscode.window.activeTextEditor?.document;
  if (!document || document.uri.scheme !== 'file' || taskLanguageOfFile(document.fileName) !== 'python') return undefined;
  return (await resolvePythonInterpreter(document.uri)).path;
}

async function npmScriptPicks(): Promise<Pick[]> {
  const picks: Pick[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, 'package.json'))).toString('utf8'));
    } catch {
      continue; // no (readable) package.json
    }
    const scripts = (manifest as { scripts?: Record<string, unknown> }).scripts ?? {};
    for (const choice of npmScriptChoices(manifest, folder.uri.fsPath)) {
      const name = choice.kind === 'worker' ? choice.command[2] : '';
      picks.push({
        label: `$(package) ${choice.label}`,
        description: typeof scripts[name] === 'string' ? scripts[name] : '',
        detail: multiFolder() ? folder.name : undefined,
        choice,
      });
    }
  }
  return picks.length ? [{ label: 'npm scripts', kind: vscode.QuickPickItemKind.Separator }, ...picks] : [];
}

async function taskPicks(): Promise<Pick[]> {
  let tasks: vscode.Task[];
  try {
    tasks = await vscode.tasks.fetchTasks();
  } catch {
    return [];
  }
  const picks: Pick[] = [];
  for (const task of tasks) {
    if (task.source === 'npm') continue; // listed under npm scripts
    const execution = task.execution;
    const isShell = execution instanceof vscode.ShellExecution;
    if (!isShell && !(execution instanceof vscode.ProcessExecution)) continue;
    const folder = typeof task.scope === 'object' && task.scope ? task.scope.uri.fsPath : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!folder) continue;
    const choice = taskCommand(execution, isShell, folder, `task: ${task.name}`);
    if (!choice || choice.kind !== 'worker') continue;
    picks.push({ label: `$(tools) ${task.name}`, description: `${task.source} · runs under the profiler: ${choice.command.join(' ')}`, choice });
  }
  return picks.length ? [{ label: 'Tasks', kind: vscode.QuickPickItemKind.Separator }, ...picks] : [];
}

function launchConfigPicks(): Pick[] {
  const picks: Pick[] = [];
  const file = vscode.window.activeTextEditor?.document.uri.scheme === 'file' ? vscode.window.activeTextEditor.document.fileName : undefined;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    const configs = vscode.workspace.getConfiguration('launch', folder.uri).get<unknown[]>('configurations') ?? [];
    for (const config of configs) {
      if (typeof config !== 'object' || config === null) continue;
      const choice = launchConfigChoice(config, { workspaceFolder: folder.uri.fsPath, file });
      if (typeof choice === 'string') continue;
      const command = choice.kind === 'worker' ? choice.command.join(' ') : '';
      picks.push({ label: `$(debug-alt) ${choice.label}`, description: `launch configuration · runs under the profiler: ${command}`, choice });
    }
  }
  return picks.length ? [{ label: 'Launch configurations', kind: vscode.QuickPickItemKind.Separator }, ...picks] : [];
}

function multiFolder(): boolean {
  return (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
}

function otherPicks(last: ProfileChoice | undefined): Pick[] {
  const picks: Pick[] = [{ label: 'Other', kind: vscode.QuickPickItemKind.Separator }];
  picks.push({
    label: '$(terminal) Type a command line…',
    detail: 'Worker mode, run through the shell: every Node and Python process it starts is profiled',
    action: 'type-command',
  });
  picks.push({ label: '$(plug) Attach to a running process…', detail: 'An inspector URL or port, or a Node PID', action: 'attach' });
  if (last)
    picks.unshift(
      { label: 'Recent', kind: vscode.QuickPickItemKind.Separator },
      { label: `$(history) Profile again: ${last.label}`, description: last.kind, choice: last },
    );
  return picks;
}

/** Shows the picker; resolves with the pick, or undefined when dismissed. */
function pickTarget(last: ProfileChoice | undefined): Promise<Pick | undefined> {
  const quickPick = vscode.window.createQuickPick<Pick>();
  quickPick.title = 'Task Memory: Profile Task';
  quickPick.placeholder = 'What to profile: a function of the active file, a script, a task, a launch configuration or a command';
  quickPick.matchOnDescription = true;
  const guess = initialPython();
  const groups: { active: Pick[]; npm: Pick[]; tasks: Pick[]; launch: Pick[]; other: Pick[] } = {
    active: activeFilePicks(guess),
    npm: [],
    tasks: [],
    launch: launchConfigPicks(),
    other: otherPicks(last),
  };
  const recent = groups.other.findIndex((p) => p.label.startsWith('$(history)'));
  const render = (): void => {
    const other = groups.other;
    const head = recent >= 0 ? other.slice(0, 2) : [];
    const tail = recent >= 0 ? other.slice(2) : other;
    quickPick.items = [...head, ...groups.active, ...groups.npm, ...groups.tasks, ...groups.launch, ...tail];
  };
  render();
  quickPick.busy = true;
  let pending = 3;
  const done = (): void => {
    if (--pending === 0) quickPick.busy = false;
  };
  void npmScriptPicks()
    .then(
      (p) => ((groups.npm = p), render()),
      () => undefined,
    )
    .finally(done);
  void taskPicks()
    .then(
      (picks) => {
        groups.tasks = picks;
        render();
      },
      () => undefined,
    )
    .finally(done);
  let python = guess;
  void activePython()
    .then(
      (found) => {
        if (found && found !== python) {
          python = found;
          groups.active = activeFilePicks(python);
          render();
        }
      },
      () => undefined,
    )
    .finally(done);
  // An editor that becomes active while the picker shows (the host heard of it late) brings its functions.
  const refreshActive = (): void => {
    const picks = activeFilePicks(python);
    if (picks.map((pick) => pick.label).join('\n') === groups.active.map((pick) => pick.label).join('\n')) return;
    groups.active = picks;
    render();
  };
  const listeners = [vscode.window.onDidChangeActiveTextEditor(refreshActive), vscode.window.tabGroups.onDidChangeTabs(refreshActive)];
  return new Promise((resolve) => {
    let accepted: Pick | undefined;
    quickPick.onDidAccept(() => {
      accepted = quickPick.selectedItems[0];
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      for (const listener of listeners) listener.dispose();
      quickPick.dispose();
      resolve(accepted);
    });
    quickPick.show();
  });
}

async function typedCommand(ctx: CommandContext): Promise<ProfileChoice | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const last = parseStoredChoice(ctx.extension.workspaceState.get(LAST_CHOICE_KEY));
  const line = await vscode.window.showInputBox({
    title: 'Task Memory: profile a command line',
    prompt: `Runs through the shell${folder ? ` in ${folder}` : ''}; every Node and Python process it starts is profiled.`,
    placeHolder: 'node worker.js   ·   npm start   ·   celery -A app worker',
    value: last?.kind === 'worker' && last.shell ? last.command.join(' ') : undefined,
    validateInput: (value) => (value.trim() ? undefined : 'Enter a command line.'),
  });
  if (!line?.trim()) return undefined;
  return { kind: 'worker', label: line.trim(), command: [line.trim()], shell: true, cwd: folder ?? process.cwd() };
}

/**
 * The command. `arg` (automation, keybindings, tests): a choice object as stored for "Profile
 * again", e.g. `{ kind: 'worker', label: 'queue', command: ['node', 'queue-worker.js'], shell: false, cwd }`.
 */
export async function profileTask(ctx: CommandContext, arg?: unknown): Promise<ProfilingSessionApi | undefined> {
  if (arg !== undefined) {
    const choice = parseStoredChoice(arg);
    if (!choice) {
      void vscode.window.showErrorMessage('Task Memory: Profile Task was given an argument that is not a profile choice.');
      return undefined;
    }
    return launch(ctx, choice);
  }
  if (!(await requireTrust('launch a program'))) return undefined;
  const last = parseStoredChoice(ctx.extension.workspaceState.get(LAST_CHOICE_KEY));
  const picked = await pickTarget(last);
  if (!picked) return undefined;
  try {
    if (picked.action === 'attach') return await attachToProcess(ctx);
    const choice = picked.action === 'type-command' ? await typedCommand(ctx) : picked.choice;
    if (!choice) return undefined;
    if (choice.kind === 'harness' && picked.choice && !picked.label.startsWith('$(history)')) {
      const document = vscode.workspace.textDocuments.find((d) => d.fileName === choice.file);
      if (document?.isDirty) await document.save();
      const runs = await askRuns(ctx, choice);
      if (!runs) return undefined;
      return await launch(ctx, choice, runs);
    }
    return await launch(ctx, choice);
  } catch (error) {
    void vscode.window.showErrorMessage(`Task Memory: ${errorMessage(error)}`);
    return undefined;
  }
}
