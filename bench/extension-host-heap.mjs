// Extension host heap after 20 profiling sessions / before, in code-server (goal ≤ 1.05).
//
// The measurement needs the extension's commands (taskMemory.profileFunction driven from inside the
// extension host, see test/vscode/lib/codeServer.ts and test/vscode/lib/suite.ts for the runner) in
// the committed tree. Until they are there, this script reports "not measured yet" with the reason
// and never a number. `node bench/extension-host-heap.mjs` prints the status as JSON.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const REQUIRED_COMMANDS = ['taskMemory.profileFunction', 'taskMemory.stop'];

function committed(file) {
  try {
    return execFileSync('git', ['show', `HEAD:${file}`], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** Why the figure cannot be measured on this tree yet, or undefined when it can. */
export function readiness() {
  const manifest = committed('package.json');
  let contributed = [];
  try {
    contributed = (JSON.parse(manifest ?? '{}').contributes?.commands ?? []).map((c) => c.command);
  } catch {
    // no manifest
  }
  const missing = REQUIRED_COMMANDS.filter((c) => !contributed.includes(c));
  if (missing.length) return `the extension's commands are not in the committed tree yet (package.json contributes no ${missing.join(', ')}; a colleague is finishing them)`;
  if (!committed('src/extension/commands/register.ts')) return 'src/extension/commands/register.ts is not committed yet';
  if (!existsSync(join(repo, 'test', 'vscode', 'lib', 'codeServer.ts'))) return 'test/vscode/lib/codeServer.ts is missing';
  return 'the commands are committed, but the 20-session driver (an extension-host suite file run through test/vscode/lib/suite.ts) is not written yet';
}

export async function extensionHostHeap() {
  const reason = readiness();
  return { measured: false, reason };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await extensionHostHeap(), null, 2));
}
