import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachableChannel, attachableEnvironment, attachableProcesses, attachableShellLines } from '../../src/launch/attachable';

describe('attachable Python processes (the attach directory)', () => {
  let home: string;
  beforeEach(() => (home = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-attachable-'))));
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('makes a private directory and one token, and gives the same token again', () => {
    const dir = path.join(home, 'attach');
    const env = attachableEnvironment(dir);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, 'token')).mode & 0o777, 0o600);
    assert.match(env.TASKMEM_TOKEN, /^[0-9a-f]{48}$/);
    assert.equal(env.TASKMEM_IPC_DIR, dir);
    assert.equal(env.TASKMEM_ATTACHABLE, '1');
    assert.equal(attachableEnvironment(dir).TASKMEM_TOKEN, env.TASKMEM_TOKEN);
  });

  it('refuses a directory other users could enter, and says what to do', () => {
    const dir = path.join(home, 'open');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    assert.throws(() => attachableChannel(dir, true), /not a private \(0700\) directory of this user: remove it/);
    assert.equal(attachableChannel(path.join(home, 'missing'), false), undefined);
  });

  it("prints shell lines that survive quotes and keep the shell's own PYTHONPATH after the agent", () => {
    const lines = attachableShellLines({ PYTHONPATH: "/opt/it's here/agents/python", TASKMEM_TOKEN: 'abc' });
    const out = execFileSync('/bin/sh', ['-c', `${lines.join('\n')}\nprintf '%s|%s' "$PYTHONPATH" "$TASKMEM_TOKEN"`], {
      env: { PATH: process.env.PATH, PYTHONPATH: '/mine' },
    }).toString();
    assert.equal(out, "/opt/it's here/agents/python:/mine|abc");
    const bare = execFileSync('/bin/sh', ['-c', `${lines.join('\n')}\nprintf '%s' "$PYTHONPATH"`], { env: { PATH: process.env.PATH } }).toString();
    assert.equal(bare, "/opt/it's here/agents/python");
  });

  it('lists running registrations and removes those of processes that are gone', () => {
    const dir = path.join(home, 'attach');
    const { TASKMEM_TOKEN: token } = attachableEnvironment(dir);
    const register = (pid: number, socketExists: boolean): string => {
      const socket = path.join(dir, `${pid}-00ff.sock`);
      if (socketExists) fs.writeFileSync(socket, '');
      const file = path.join(dir, `${pid}-0a0b.json`);
      fs.writeFileSync(file, JSON.stringify({ token, pid, runtime: 'python', argv: ['python3', 'w.py'], title: 'python3 w.py', socket }));
      return file;
    };
    register(process.pid, true);
    // A pid above Linux's maximum never runs.
    const gone = register(4_194_999, true);
    const wrongToken = path.join(dir, `${process.ppid}-0c0d.json`);
    fs.writeFileSync(wrongToken, JSON.stringify({ token: 'other', pid: process.ppid, runtime: 'python', socket: path.join(dir, '1-00.sock') }));
    const listed = attachableProcesses(dir);
    assert.deepEqual(
      listed.map((registration) => [registration.pid, registration.title]),
      [[process.pid, 'python3 w.py']],
    );
    assert.equal(fs.existsSync(gone), false, 'the registration of a process that is gone is removed');
    assert.equal(fs.existsSync(wrongToken), true, 'a file that is not ours is left alone');
  });
});
