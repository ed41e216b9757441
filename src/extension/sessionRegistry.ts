/**
 * The extension's view of profiling sessions: the commands start them, the panel, status bar,
 * decorations and code lenses follow them through these events. Implemented by `SessionManager`.
 */
import type * as vscode from 'vscode';
import type { TaskmemReport } from '../core/report';
import type { ProfilingSessionApi } from '../session/api';

export interface SessionEnded {
  session: ProfilingSessionApi;
  report: TaskmemReport;
}

export interface SessionRegistry {
  /** A session was started (it is already running its launch). */
  readonly onDidStart: vscode.Event<ProfilingSessionApi>;
  readonly onDidEnd: vscode.Event<SessionEnded>;
  /** The session the views show changed (the newest one started, or the user picked another). */
  readonly onDidChangeActive: vscode.Event<ProfilingSessionApi | undefined>;
  /** The most recent session, running or ended; undefined when closed or none yet. */
  readonly active: ProfilingSessionApi | undefined;
  readonly all: readonly ProfilingSessionApi[];
}

/** Command ids shared between the parts of the extension (also contributed in package.json). */
export const enum Commands {
  ProfileTask = 'taskMemory.profileTask',
  /** Args: (uri: vscode.Uri, exportName: string) — run the harness on one function (CodeLens). */
  ProfileFunction = 'taskMemory.profileFunction',
  AttachToProcess = 'taskMemory.attachToProcess',
  Stop = 'taskMemory.stop',
  CaptureRetained = 'taskMemory.captureRetained',
  CollectGarbage = 'taskMemory.collectGarbage',
  WhyRetained = 'taskMemory.whyRetained',
  ShowPanel = 'taskMemory.showPanel',
  /** The last sessions (kept after their panels closed): pick one to reopen its panel. */
  RecentSessions = 'taskMemory.recentSessions',
  ExportReport = 'taskMemory.exportReport',
  ToggleAnnotations = 'taskMemory.toggleAnnotations',
  /** Args: (siteKey: string, sessionId?: string) — scroll the panel to a site and flash it. */
  ShowSiteInPanel = 'taskMemory.showSiteInPanel',
  /** Args: (file: string, line: number /* 1-based *\/) — open, reveal and flash a source line. */
  RevealSource = 'taskMemory.revealSource',
  /** Args: (taskName: string, sessionId?: string) — show the panel on a task (CodeLens). */
  ShowTaskInPanel = 'taskMemory.showTaskInPanel',
}
