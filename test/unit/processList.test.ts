import assert from 'node:assert/strict';
import { attachCandidates, describeCommand, isNodeProgram, parseCmdline, startedWithInspector } from '../../src/core/processList';

describe('processList: the Node programs Attach to Process offers', () => {
  it('parses /proc/PID/cmdline (NUL-separated, NUL-ended)', () => {
    assert.deepEqual(parseCmdline('node\0worker.js\0--queue\0emails\0'), ['node', 'worker.js', '--queue', 'emails']);
    assert.deepEqual(parseCmdline('node\0arg with space\0'), ['node', 'arg with space']);
    assert.deepEqual(parseCmdline(''), []);
  });

  it("offers Node programs, not editors' or package managers' own processes", () => {
    assert.equal(isNodeProgram(['/usr/bin/node', 'worker.js']), true);
    assert.equal(isNodeProgram(['node', '--inspect', 'server.js']), true);
    assert.equal(isNodeProgram(['/home/u/.nvm/versions/node/v20.11.0/bin/node', 'app.js']), true);
    assert.equal(isNodeProgram(['/usr/bin/python3', 'worker.py']), false);
    assert.equal(isNodeProgram(['/usr/lib/code-server/lib/node', '/usr/lib/code-server/out/node/entry']), false);
    assert.equal(isNodeProgram(['/usr/bin/node', '/home/u/.vscode-server/bin/abc/out/bootstrap-fork', '--type=extensionHost']), false);
    assert.equal(isNodeProgram(['node', '/app/node_modules/typescript/lib/tsserver.js']), false);
    assert.equal(isNodeProgram(['node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'run', 'worker']), false);
    assert.equal(isNodeProgram([]), false);
  });

  it('tells an inspector opened on the command line', () => {
    assert.equal(startedWithInspector(['node', '--inspect', 'a.js']), true);
    assert.equal(startedWithInspector(['node', '--inspect=127.0.0.1:0', 'a.js']), true);
    assert.equal(startedWithInspector(['node', '--inspect-brk', 'a.js']), true);
    assert.equal(startedWithInspector(['node', '--inspect-port=9230', 'a.js']), false);
    assert.equal(startedWithInspector(['node', 'a.js', '--inspector']), false);
  });

  it('lists the newest first, without the excluded pids, with a short command', () => {
    const listed = attachCandidates(
      [
        { pid: 10, argv: ['/usr/bin/node', 'old.js'] },
        { pid: 30, argv: ['/usr/bin/node', '--inspect', 'new.js'] },
        { pid: 20, argv: ['/usr/bin/node', 'me.js'] },
        { pid: 40, argv: ['bash'] },
      ],
      new Set([20]),
      (pid) => pid === 10,
    );
    assert.deepEqual(listed, [
      { pid: 30, command: 'node --inspect new.js', inspectorOpen: true },
      { pid: 10, command: 'node old.js', inspectorOpen: true },
    ]);
    assert.equal(describeCommand(['node', 'x'.repeat(300)]).length, 100);
  });
});
