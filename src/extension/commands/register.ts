/** Registers every command of the extension (ids from `Commands`) and the panel's actions. */
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format';
import type { RetainedSite } from '../../core/model';
import { parseTaskFunctions, taskLanguageOfFile } from '../../core/taskFunctions';
import type { ProfilingSessionApi } from '../../session/api';
import type { PanelActions } from '../panel/memoryPanel';
import { captureWithProgress, whyWithProgress } from '../progress';
import { Commands } from '../sessionRegistry';
import { attachToProcess } from './attach';
import { errorMessage, type CommandContext } from './context';
import { exportReport, isExportFormat } from './exportReport';
import { launch } from './launch';
import { harnessChoice, profileTask } from './profileTask';
import { showError } from '../output';

/** The session a command acts on: the given id, the only candidate, or one the user picks. */
async function pickSession(ctx: CommandContext, sessionId: unknown, which: 'running' | 'any', verb: string): Promise<ProfilingSessionApi | undefined> {
  const { manager } = ctx;
  if (typeof sessionId === 'string') return manager.find(sessionId);
  const candidates = which === 'running' ? manager.running : [...manager.all];
  if (!candidates.length) {
    void vscode.window.showInformationMessage(
      which === 'running'
        ? `Task Memory: no profiling session is running to ${verb}.`
        : 'Task Memory: there is no profiling session yet. Start one with "Task Memory: Profile Task".',
    );
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const active = manager.active;
  const picked = await vscode.window.showQuickPick(
    candidates.map((s) => ({ label: manager.titleOf(s), description: `${s.options.mode} · ${s.state}${s === active ? ' · active' : ''}`, session: s })),
    { title: `Task Memory: which session to ${verb}?` },
  );
  return picked?.session;
}

async function openSite(file: string, line: number): Promise<void> {
  const commands = await vscode.commands.getCommands(true);
  if (commands.includes(Commands.RevealSource)) {
    await vscode.commands.executeCommand(Commands.RevealSource, file, line);
    return;
  }
  const uri = /^[a-z][a-z0-9+.-]+:/i.test(file) && !/^[a-z]:[\\/]/i.test(file) ? vscode.Uri.parse(file) : vscode.Uri.file(file);
  const position = new vscode.Position(Math.max(0, line - 1), 0);
  await vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.One, preview: true });
}

async function runExport(ctx: CommandContext, session: ProfilingSessionApi, format?: unknown, target?: unknown): Promise<string | undefined> {
  try {
    const file = await exportReport(
      session,
      ctx.manager.titleOf(session),
      isExportFormat(format) ? format : undefined,
      typeof target === 'string' ? target : undefined,
    );
    if (file) {
      ctx.output.log(`Exported ${file}`);
      if (typeof target !== 'string') {
        void vscode.window.showInformationMessage(`Task Memory: saved ${file}`, 'Open').then((pick) => {
          if (pick) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
        });
      }
    }
    return file;
  } catch (error) {
    void showError(ctx.output, `Task Memory could not export: ${errorMessage(error)}`);
    return undefined;
  }
}

/** Palette use of Profile Function: pick one of the file's exported functions. */
async function pickExport(uri: vscode.Uri, open: vscode.TextDocument | undefined): Promise<string | undefined> {
  const language = taskLanguageOfFile(uri.fsPath);
  if (!language) {
    void vscode.window.showErrorMessage(`Task Memory: ${uri.fsPath} is not a JavaScript, TypeScript or Python file.`);
    return undefined;
  }
  const text = open ? open.getText() : Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
  const parsed = parseTaskFunctions(text, language);
  if (parsed === undefined) {
    void vscode.window.showErrorMessage(
      `Task Memory: ${uri.fsPath} does not parse (a string or bracket left open?), so its task functions cannot be listed: fix the syntax error and try again.`,
    );
    return undefined;
  }
  const found = parsed.map((f) => ({ name: f.name, line: f.line + 1 }));
  if (!found.length) {
    void vscode.window.showErrorMessage(`Task Memory: no exported function found in ${uri.fsPath}.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    found.map((f) => ({ label: `$(symbol-function) ${f.name}`, description: `line ${f.line}`, name: f.name })),
    { title: 'Task Memory: Profile Function', placeHolder: 'The function the harness calls again and again' },
  );
  return picked?.name;
}

async function pickSite(sites: readonly RetainedSite[]): Promise<string | undefined> {
  if (!sites.length) {
    void vscode.window.showInformationMessage('Task Memory: no retaining site has been captured yet.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    sites.slice(0, 50).map((s) => ({
      label: s.function || '(anonymous)',
      description: `${formatBytes(s.retainedBytes)} · ${s.file.split(/[\\/]/).pop()}:${s.line}`,
      key: s.key,
    })),
    { title: 'Task Memory: Show Site In Panel' },
  );
  return picked?.key;
}

function actionsFor(ctx: CommandContext, session: ProfilingSessionApi): PanelActions {
  const ended = (): boolean => {
    if (session.state !== 'ended') return false;
    void vscode.window.showInformationMessage('This profiling session has ended; start a new one with "Task Memory: Profile Task".');
    return true;
  };
  return {
    stop: () => (ended() ? undefined : session.stop()),
    captureNow: () => (ended() ? undefined : captureWithProgress(session, ctx.manager.titleOf(session))),
    collectGarbage: () => (ended() ? undefined : session.collectGarbage()),
    whyRetained: () => (ended() ? undefined : whyWithProgress(session, ctx.manager.titleOf(session))),
    export: () => runExport(ctx, session),
    openSite: (file, line) => openSite(file, line),
  };
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const { manager } = ctx;
  manager.setActionsFactory((session) => actionsFor(ctx, session));
  const register = (id: Commands, handler: (...args: unknown[]) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, handler);
  return [
    register(Commands.ProfileTask, (arg) => profileTask(ctx, arg)),
    register(Commands.ProfileFunction, async (uriArg, exportArg) => {
      const uri = uriArg instanceof vscode.Uri ? uriArg : typeof uriArg === 'string' ? vscode.Uri.file(uriArg) : vscode.window.activeTextEditor?.document.uri;
      if (!uri || uri.scheme !== 'file') {
        void vscode.window.showErrorMessage(
          'Task Memory: Profile Function needs a JavaScript, TypeScript or Python file: open one, or use the code lens above a function.',
        );
        return undefined;
      }
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const exportName = typeof exportArg === 'string' && exportArg ? exportArg : await pickExport(uri, document);
      if (!exportName) return undefined;
      if (document?.isDirty) await document.save();
      return launch(ctx, harnessChoice(uri, exportName));
    }),
    register(Commands.AttachToProcess, (arg) => attachToProcess(ctx, arg)),
    register(Commands.Stop, async (sessionId) => {
      const session = await pickSession(ctx, sessionId, 'running', 'stop');
      return session?.stop();
    }),
    register(Commands.CaptureRetained, async (sessionId) => {
      const session = await pickSession(ctx, sessionId, 'running', 'capture');
      if (session)
        await captureWithProgress(session, manager.titleOf(session)).then(undefined, (error: unknown) =>
          showError(ctx.output, `Task Memory: capture failed: ${errorMessage(error)}`),
        );
    }),
    register(Commands.CollectGarbage, async (sessionId) => {
      const session = await pickSession(ctx, sessionId, 'running', 'collect garbage in');
      await session?.collectGarbage();
    }),
    register(Commands.WhyRetained, async (sessionId) => {
      const session = await pickSession(ctx, sessionId, 'running', 'explain what is kept in');
      if (!session) return;
      if (session.options.mode === 'harness') {
        void vscode.window.showInformationMessage(
          'Task Memory: Profile Task explains what its runs kept by itself, after the measured runs (the panel\'s "Why it is kept").',
        );
        return;
      }
      await whyWithProgress(session, manager.titleOf(session)).then(undefined, (error: unknown) =>
        showError(ctx.output, `Task Memory: why is it kept: ${errorMessage(error)}`),
      );
    }),
    register(Commands.ShowPanel, async (sessionId) => {
      const session = typeof sessionId === 'string' ? manager.find(sessionId) : (manager.active ?? (await pickSession(ctx, undefined, 'any', 'show')));
      if (session) manager.showPanel(session);
    }),
    register(Commands.RecentSessions, async () => {
      const recent = manager.recent();
      if (!recent.length) {
        void vscode.window.showInformationMessage('Task Memory: there is no profiling session yet. Start one with "Task Memory: Profile Task".');
        return;
      }
      const picked = await vscode.window.showQuickPick(
        recent.map(({ session, title, startedAt }) => {
          const verdict = session.state === 'ended' ? session.report().verdict : undefined;
          return {
            label: title,
            description: `${new Date(startedAt).toLocaleTimeString()} · ${session.state}${verdict ? ` · ${verdict.kind}` : ''}`,
            detail: verdict?.summary,
            session,
          };
        }),
        { title: 'Task Memory: recent sessions (newest first): open one', matchOnDescription: true, matchOnDetail: true },
      );
      if (picked) manager.showPanel(picked.session);
    }),
    register(Commands.ExportReport, async (format, target, sessionId) => {
      const session = await pickSession(ctx, sessionId, 'any', 'export');
      return session ? runExport(ctx, session, format, target) : undefined;
    }),
    register(Commands.ShowSiteInPanel, async (siteKey, sessionId) => {
      const session = manager.find(typeof sessionId === 'string' ? sessionId : undefined);
      if (!session) {
        void vscode.window.showInformationMessage('Task Memory: there is no profiling session whose sites could be shown.');
        return;
      }
      const key = typeof siteKey === 'string' ? siteKey : await pickSite(manager.sitesOf(session));
      if (key) manager.showPanel(session, false)?.revealSite(key);
    }),
    register(Commands.ShowTaskInPanel, (taskName, sessionId) => {
      const session = manager.find(typeof sessionId === 'string' ? sessionId : undefined);
      if (!session) {
        void vscode.window.showInformationMessage('Task Memory: no profiling session has results for this task yet.');
        return;
      }
      const panel = manager.showPanel(session, false);
      if (typeof taskName === 'string') panel?.revealTask(taskName);
      else panel?.reveal(false);
    }),
  ];
}
