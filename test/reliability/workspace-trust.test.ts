/**
 * Workspace Trust: runs the extension-host suite's "Restricted Mode" tests in a real code-server
 * with Workspace Trust ON and an untrusted folder (the regular suite disables trust). The suite
 * test is not registered in a trusted window, so a run where trust could not be turned on reports
 * "no test ran" and fails here: it cannot pass without a real Restricted Mode.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { codeServerCache } from '../vscode/lib/codeServer';
import { repoRoot } from './helpers';

describe('reliability: Workspace Trust (code-server, Restricted Mode)', function () {
  this.timeout(240_000);

  it('in a restricted workspace Profile Function and Attach launch and attach nothing', async () => {
    // The cached code-server install (idempotent; 0.3 s when present): never a silent skip.
    const install = spawnSync('bash', ['scripts/install-code-server.sh'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(install.status, 0, `code-server install: ${install.stderr}`);
    assert.ok(fs.existsSync(path.join(codeServerCache(), 'node_modules/code-server/out/node/entry.js')), 'code-server is installed');
    for (const step of [['scripts/build.mjs'], ['test/vscode/build.mjs']]) {
      const built = spawnSync(process.execPath, step, { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(built.status, 0, `${step.join(' ')}: ${built.stderr}`);
    }
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const runner = spawn(tsx, ['test/vscode/runCodeServer.ts', '--grep', 'Restricted Mode', '--timeout', '180'], {
      cwd: repoRoot,
      env: { ...process.env, TASKMEM_VSCODE_WORKSPACE_TRUST: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    runner.stdout.on('data', (d: Buffer) => (output += d.toString()));
    runner.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => runner.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, `the Restricted Mode suite failed:\n${output.slice(-4000)}`);
    assert.match(output, /1 passed, 0 failed, 0 pending/, output.slice(-2000));
  });
});
