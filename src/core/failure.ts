/**
 * Why a session failed, as a user reads it: the message without the protocol's prefix, the user's
 * file and line, and the frames of the user's own code. The whole text (the agent's traceback with
 * importlib's frozen frames and our own) stays available as `detail`, for the output channel. Pure.
 */

export interface FailureView {
  /** One line: "jobs.py failed to import: SyntaxError: invalid syntax (jobs.py, line 3)". */
  summary: string;
  /** Where to look first: the innermost frame in the user's code. */
  location?: { file: string; line: number };
  /** The user's frames, innermost last: "jobs.py:3 in <module>". */
  frames: string[];
  /** Everything, as it came. */
  detail: string;
}

/** "Taskmem.loadHarness failed: …", "Runtime.evaluate failed: …": the protocol's, not the user's. */
const PROTOCOL_PREFIX = /^(?:[A-Z][A-Za-z]*\.[a-zA-Z#]+ failed: )+/;
const PYTHON_FRAME = /^\s*File "([^"]+)", line (\d+)(?:, in (.+))?$/;
const NODE_LOCATION = /\bat (?:.*? \()?((?:\/|[A-Za-z]:\\|file:\/\/)[^():]+?):(\d+)(?::\d+)?\)?\s*$/;

/** Our agent, Python's import machinery and frozen modules: frames the user did not write. */
function isInternal(file: string): boolean {
  return (
    file.startsWith('<') ||
    /[\\/]taskmem_agent[\\/]/.test(file) ||
    /[\\/]importlib[\\/]/.test(file) ||
    /[\\/]lib[\\/]python3\.\d+[\\/]/.test(file) ||
    /[\\/]node_modules[\\/]/.test(file) ||
    /^node:/.test(file) ||
    /[\\/]dist[\\/](?:harness|bootloader)\.js$/.test(file)
  );
}

function basename(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

export function describeFailure(message: string): FailureView {
  const detail = message;
  const text = message.replace(PROTOCOL_PREFIX, '');
  const lines = text.split('\n');
  const summary = (lines[0] ?? '').trim() || 'The session failed.';
  const frames: string[] = [];
  let location: FailureView['location'];
  for (const line of lines) {
    const python = PYTHON_FRAME.exec(line);
    if (python) {
      const [, file, lineText, fn] = python;
      if (isInternal(file)) continue;
      location = { file: file, line: Number(lineText) };
      frames.push(`${basename(file)}:${lineText}${fn ? ` in ${fn}` : ''}`);
    }
  }
  if (!location) {
    // Node: "SyntaxError: Unexpected token ';' at /w/jobs.js:2", or a stack's first user frame.
    for (const line of lines) {
      const node = NODE_LOCATION.exec(line);
      if (!node) continue;
      const file = node[1].replace(/^file:\/\//, '');
      if (isInternal(file)) continue;
      location = { file, line: Number(node[2]) };
      frames.push(`${basename(file)}:${node[2]}`);
      break;
    }
  }
  return { summary, ...(location ? { location } : {}), frames, detail };
}

/** Package managers' and shells' own lines after a program failed: not the cause. */
const WRAPPER_LINE = /^(?:npm (?:error|ERR!)|yarn |error Command failed|ELIFECYCLE|Node\.js v\d|\s*at |\s*\^+\s*$|\s*$)/;
const MAX_CAUSE_CHARS = 300;

/**
 * A launched command that failed: the reason ("the command exited with code 1") with the program's
 * own error when its runtime reported one, else its last words ("No module named celery"), and the
 * user's file and line from that error's stack or the output's traceback.
 */
export function describeCommandFailure(reason: string, output: string, programError?: string): FailureView {
  // The error the runtime reported leads: Node reports it before it prints it, and a crash at exit
  // in between once left only "Segmentation fault" in the output.
  if (programError?.trim()) {
    const fromError = describeFailure(programError);
    return { ...fromError, summary: `${reason}: ${fromError.summary}`, detail: `${reason}\n${programError}\n${output}` };
  }
  const lines = output.split(/\r?\n/);
  const cause = [...lines]
    .reverse()
    .find((line) => !WRAPPER_LINE.test(line))
    ?.trim();
  const fromOutput = describeFailure(output);
  const shortCause = cause && cause.length > MAX_CAUSE_CHARS ? `${cause.slice(0, MAX_CAUSE_CHARS - 1)}…` : cause;
  return {
    summary: shortCause ? `${reason}: ${shortCause}` : reason,
    ...(fromOutput.location ? { location: fromOutput.location } : {}),
    frames: fromOutput.frames,
    detail: `${reason}\n${output}`,
  };
}

/**
 * The program's own error when its runtime reported one that the output does not show (Node
 * reports an uncaught exception before it prints it; a crash in between loses the printed text).
 */
export function unprintedProgramError(output: string, programError: string | undefined): string | undefined {
  const first = programError?.split('\n')[0]?.trim();
  if (!programError || !first) return undefined;
  return output.includes(first) ? undefined : programError;
}
