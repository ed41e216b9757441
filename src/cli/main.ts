/**
 * `taskmem`: the engine without VS Code. Runs one session, passes the target's output through
 * unchanged, shows progress on a terminal, prints the report and writes the files asked for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFailure, unprintedProgramError } from '../core/failure';
import { formatBytes } from '../core/format';
import { renderMarkdownReport, renderTextReport, type TaskmemReport } from '../core/report';
import { toolVersion } from '../launch/assets';
import { attachableEnvironment, attachableShellLines } from '../launch/attachable';
import { ProfilingSession } from '../session/session';
import { AB_USAGE, parseAbArgs, renderAb, runAb } from './ab';
import { parseArgs, USAGE, UsageError, type OutputOptions } from './args';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_LEAK = 3;

class ProgressLine {
  private text = '';
  constructor(private readonly enabled: boolean) {}
  show(text: string): void {
    if (!this.enabled) return;
    this.text = text;
    process.stderr.write(`\r\x1b[2K${text}`);
  }
  /** Clears the line so the target's own output is never mixed with ours. */
  clear(): void {
    if (!this.enabled || !this.text) return;
    process.stderr.write('\r\x1b[2K');
    this.text = '';
  }
  restore(): void {
    if (this.enabled && this.text) process.stderr.write(this.text);
  }
}

function writeOutputs(report: TaskmemReport, session: ProfilingSession, output: OutputOptions): void {
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  };
  if (output.json) write(output.json, JSON.stringify(report, null, 2) + '\n');
  if (output.markdown) write(output.markdown, renderMarkdownReport(report, { cwd: session.options.cwd }));
  if (output.heapprofile) {
    const profile = session.heapProfile();
    if (profile) write(output.heapprofile, JSON.stringify(profile));
    else process.stderr.write('taskmem: no retained profile was captured, so no .heapprofile was written\n');
  }
}

/** The failure as a user reads it: one sentence and their own frames; --verbose adds everything. */
function failureText(reason: string, verbose: boolean): string {
  if (verbose) return `taskmem: ${reason}\n`;
  const view = describeFailure(reason);
  const frames = view.frames.length ? view.frames.map((frame) => `  at ${frame}\n`).join('') : '';
  const more = view.detail.includes('\n') ? '  (--verbose prints the whole traceback)\n' : '';
  return `taskmem: ${view.summary}\n${frames}${more}`;
}

async function abMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(AB_USAGE + '\n');
    return 0;
  }
  let plan;
  try {
    plan = parseAbArgs(argv, process.cwd());
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`taskmem ab: ${error.message}\n(taskmem ab --help shows the usage)\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  try {
    const { runs, comparison } = await runAb(plan, (line) => process.stderr.write(line + '\n'));
    if (plan.json) {
      fs.mkdirSync(path.dirname(plan.json), { recursive: true });
      fs.writeFileSync(plan.json, JSON.stringify({ change: plan.change, rounds: plan.rounds, runs, comparison }, null, 2) + '\n');
    }
    if (comparison) process.stdout.write(renderAb(comparison) + '\n');
    return 0;
  } catch (error) {
    process.stderr.write(`taskmem ab: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'ab') return abMain(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs(argv, process.cwd(), Boolean(process.stdout.isTTY));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`taskmem: ${error.message}\n(taskmem --help shows the usage)\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`taskmem ${toolVersion()}\n`);
    return 0;
  }
  if (parsed.kind === 'env') {
    const lines = attachableShellLines(attachableEnvironment());
    process.stdout.write(`# Python processes started with these can be attached to later: taskmem attach --pid <pid>\n${lines.join('\n')}\n`);
    return 0;
  }
  const { output } = parsed;
  const progress = new ProgressLine(Boolean(process.stderr.isTTY) && !output.quiet);
  const session = new ProfilingSession({
    ...parsed.session,
    onOutput: (stream, chunk) => {
      progress.clear();
      (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
      progress.restore();
    },
  });
  let lastHeap = 0;
  let lastMessage = 'Starting…';
  session.onStats((point) => {
    // Python has no V8 heap: its traced memory (0 between traced tasks) stands in, as before.
    lastHeap = point.heapUsed ?? point.tracedBytes ?? 0;
    progress.show(`taskmem: ${lastMessage} · heap ${formatBytes(lastHeap)}`);
  });
  session.onProgress((p) => {
    lastMessage = p.message;
    progress.show(`taskmem: ${lastMessage} · heap ${formatBytes(lastHeap)}`);
  });
  session.onWarning((message) => {
    if (message === session.failureReason) return;
    progress.clear();
    process.stderr.write(`taskmem: ${message}\n`);
    progress.restore();
  });
  const interrupt = () => {
    progress.clear();
    process.stderr.write('taskmem: stopping (Ctrl+C again to abort)…\n');
    process.off('SIGINT', interrupt);
    void session.stop('stopped by Ctrl+C');
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', () => void session.stop('stopped by SIGTERM'));
  // Warnings print as they happen; the reason a session failed is printed once, at the end.
  await session.start().catch(() => undefined);
  const report = await session.done;
  progress.clear();
  const measured = report.tasks.some((task) => task.runs > 0) || report.sites.length > 0;
  const unprinted = unprintedProgramError(session.lastOutput, session.programError);
  if (unprinted) process.stderr.write(`taskmem: the program ended with this error (its runtime reported it; its output lost it):\n${unprinted}\n`);
  if (session.failureReason && !measured) {
    process.stderr.write(failureText(session.failureReason, output.verbose));
    return EXIT_FAILED;
  }
  writeOutputs(report, session, output);
  if (output.quiet) process.stdout.write(`${report.verdict.kind}: ${report.verdict.summary}\n`);
  else process.stdout.write(renderTextReport(report, { color: output.color, maxSites: output.maxSites, cwd: session.options.cwd }) + '\n');
  if (session.failureReason) process.stderr.write(failureText(session.failureReason, output.verbose));
  if (output.failOnLeak && report.verdict.kind === 'leak') return EXIT_LEAK;
  return session.failureReason ? EXIT_FAILED : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`taskmem: internal error: ${error.stack ?? error.message}\n`);
    process.exit(EXIT_FAILED);
  },
);
