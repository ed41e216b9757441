/**
 * The processes "Attach to Process" offers: Node programs read from /proc (pure parts here: the
 * command line's parsing, what is worth offering, how it reads). Editors' own Node processes (VS Code,
 * code-server, language servers) and package-manager launchers are left out.
 */

export interface ProcessEntry {
  pid: number;
  argv: string[];
}

export interface AttachCandidate {
  pid: number;
  /** `node worker.js --queue emails`, shortened. */
  command: string;
  /** Started with --inspect (or an inspector is listening): attaching uses it and leaves it open. */
  inspectorOpen: boolean;
}

/** /proc/PID/cmdline: arguments separated (and ended) by NUL. */
export function parseCmdline(raw: string): string[] {
  const parts = raw.split('\0');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const NODE_BINARY = /(?:^|[\\/])(?:node|nodejs)(?:\d+(?:\.\d+)*)?$/;
/** Editors' and tools' own Node processes: attaching to them profiles the editor, not a program. */
const NOT_A_PROGRAM =
  /--type=(?:extensionHost|fileWatcher|ptyHost)|bootstrap-fork|[\\/](?:code-server|\.vscode-server|\.vscode|vscode|Code(?: - Insiders)?)[\\/]|[\\/](?:tsserver|typingsInstaller|eslintServer|server-node)\.js|[\\/]node_modules[\\/](?:npm|yarn|pnpm|corepack|typescript[\\/]lib)[\\/]|[\\/]bin[\\/](?:npm|npx|yarn|pnpm)(?:-cli)?(?:\.js)?$/;

/** Whether a process is a Node program worth offering. */
export function isNodeProgram(argv: readonly string[]): boolean {
  if (!argv.length || !NODE_BINARY.test(argv[0])) return false;
  return !argv.some((arg) => NOT_A_PROGRAM.test(arg));
}

/** `--inspect`, `--inspect=…`, `--inspect-brk…` on the command line (not `--inspect-port` alone: that opens nothing). */
export function startedWithInspector(argv: readonly string[]): boolean {
  return argv.some((arg) => /^--inspect(?:-brk|-wait)?(?:=|$)/.test(arg));
}

const MAX_COMMAND = 100;

/** The command as the list shows it: the binary's base name, then the arguments. */
export function describeCommand(argv: readonly string[]): string {
  const [binary, ...rest] = argv;
  const text = [(binary ?? '').split(/[\\/]/).pop() ?? '', ...rest].join(' ');
  return text.length > MAX_COMMAND ? `${text.slice(0, MAX_COMMAND - 1)}…` : text;
}

/** The Node programs to offer, newest (highest pid) first, without `exclude` (this process and its parents). */
export function attachCandidates(entries: readonly ProcessEntry[], exclude: ReadonlySet<number>, listening: (pid: number) => boolean): AttachCandidate[] {
  return entries
    .filter((entry) => !exclude.has(entry.pid) && isNodeProgram(entry.argv))
    .sort((a, b) => b.pid - a.pid)
    .map((entry) => ({ pid: entry.pid, command: describeCommand(entry.argv), inspectorOpen: startedWithInspector(entry.argv) || listening(entry.pid) }));
}
