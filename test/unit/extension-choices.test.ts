import assert from 'node:assert/strict';
import {
  choiceTitle,
  launchConfigChoice,
  npmScriptChoices,
  parseAttachInput,
  parseRunsWarmup,
  parseStoredChoice,
  resolveVariables,
  sessionOptionsFor,
  taskCommand,
  type ProfileChoice,
  type RunSettings,
} from '../../src/extension/choices';

const settings: RunSettings = {
  runs: 12,
  warmup: 3,
  statsIntervalMs: 100,
  samplingIntervalBytes: 0,
  preciseAttribution: 'auto',
  pythonPath: '',
  pythonSampleEvery: 10,
  pythonMallocTrim: false,
};

describe('extension: profile choices', () => {
  it('turns a harness choice into harness options with runs, warm-up and mode defaults', () => {
    const choice: ProfileChoice = { kind: 'harness', label: 'x', file: '/w/leaky.js', exportName: 'handleJob', runtime: 'node', cwd: '/w' };
    const options = sessionOptionsFor(choice, settings);
    assert.equal(options.mode, 'harness');
    assert.deepEqual(options.harness, { file: '/w/leaky.js', exportName: 'handleJob', runs: 12, warmup: 3, args: [], runtime: 'node', why: 'auto' });
    assert.equal(options.samplingIntervalBytes, undefined, '0 = the mode default');
    assert.equal(options.preciseAttribution, undefined, 'auto = the mode default');
    assert.equal(options.pythonPath, undefined);
    assert.equal(choiceTitle(choice), 'leaky.js#handleJob');
  });

  it('applies explicit settings and the Python interpreter', () => {
    const choice: ProfileChoice = { kind: 'harness', label: 'x', file: '/w/tasks.py', exportName: 'work', runtime: 'python', cwd: '/w' };
    const options = sessionOptionsFor(choice, { ...settings, samplingIntervalBytes: 4096, preciseAttribution: 'off', pythonPath: '/usr/bin/python3.11' });
    assert.equal(options.samplingIntervalBytes, 4096);
    assert.equal(options.preciseAttribution, false);
    assert.equal(options.pythonPath, '/usr/bin/python3.11');
    assert.equal(options.harness?.runtime, 'python');
  });

  it('worker and attach choices', () => {
    const worker = sessionOptionsFor(
      { kind: 'worker', label: 'npm run start', command: ['npm', 'run', 'start'], shell: false, cwd: '/w', env: { A: '1' } },
      settings,
    );
    assert.deepEqual([worker.mode, worker.command, worker.shell, worker.env], ['worker', ['npm', 'run', 'start'], false, { A: '1' }]);
    const attach = sessionOptionsFor({ kind: 'attach', label: 'attach 9229', attach: { port: 9229 }, cwd: '/w' }, settings);
    assert.deepEqual([attach.mode, attach.attach], ['attach', { port: 9229 }]);
  });

  it('round-trips choices through workspaceState JSON and rejects junk', () => {
    const choices: ProfileChoice[] = [
      { kind: 'harness', label: 'a', file: '/w/a.js', exportName: 'f', runtime: 'node', cwd: '/w' },
      { kind: 'worker', label: 'b', command: ['node', 'b.js'], shell: false, cwd: '/w', env: { X: 'y' } },
      { kind: 'worker', label: 'c', command: ['node c.js | tee log'], shell: true, cwd: '/w' },
      { kind: 'attach', label: 'd', attach: { pid: 42 }, cwd: '/w' },
    ];
    for (const c of choices) assert.deepEqual(parseStoredChoice(JSON.parse(JSON.stringify(c))), c);
    assert.equal(parseStoredChoice(undefined), undefined);
    assert.equal(parseStoredChoice({ kind: 'worker', label: 'x', cwd: '/w', command: [] }), undefined);
    assert.equal(parseStoredChoice({ kind: 'worker', label: 'x', cwd: '/w', command: [1] }), undefined);
    assert.equal(parseStoredChoice({ kind: 'harness', label: 'x', cwd: '/w', file: '/a.js' }), undefined);
  });

  it('lists npm scripts as `npm run <name>` workers', () => {
    const choices = npmScriptChoices({ scripts: { start: 'node server.js', test: 'mocha', bad: 3 } }, '/w');
    assert.deepEqual(
      choices.map((c) => c.kind === 'worker' && c.command),
      [
        ['npm', 'run', 'start'],
        ['npm', 'run', 'test'],
      ],
    );
    assert.deepEqual(npmScriptChoices({}, '/w'), []);
    assert.deepEqual(npmScriptChoices('nope', '/w'), []);
  });

  it('takes the command line of shell and process tasks', () => {
    const shell = taskCommand({ commandLine: 'node ${workspaceFolder}/worker.js --queue jobs', options: { cwd: 'sub' } }, true, '/w', 'task: worker');
    assert.deepEqual(shell, { kind: 'worker', label: 'task: worker', command: ['node /w/worker.js --queue jobs'], shell: true, cwd: '/w/sub' });
    const shellParts = taskCommand({ command: 'celery', args: ['-A', { value: 'app' }, 'worker'] }, true, '/w', 't');
    assert.deepEqual(shellParts && shellParts.kind === 'worker' && shellParts.command, ['celery -A app worker']);
    const proc = taskCommand({ process: 'node', args: ['w.js'], options: { env: { JOBS: '5' } } }, false, '/w', 't');
    assert.deepEqual(proc, { kind: 'worker', label: 't', command: ['node', 'w.js'], shell: false, cwd: '/w', env: { JOBS: '5' } });
    assert.equal(taskCommand({}, true, '/w', 't'), undefined);
  });

  it('builds a worker command from a node launch configuration', () => {
    const choice = launchConfigChoice(
      {
        type: 'node',
        request: 'launch',
        name: 'Worker',
        program: '${workspaceFolder}/src/worker.js',
        args: ['--jobs', '${env:JOBS}'],
        cwd: '${workspaceFolder}/run',
        env: { MODE: 'dev', DIR: '${workspaceFolderBasename}' },
        runtimeArgs: ['--max-old-space-size=512'],
      },
      { workspaceFolder: '/w/proj', env: { JOBS: '7' } },
    );
    assert.deepEqual(choice, {
      kind: 'worker',
      label: 'Worker',
      command: ['node', '--max-old-space-size=512', '/w/proj/src/worker.js', '--jobs', '7'],
      shell: false,
      cwd: '/w/proj/run',
      env: { MODE: 'dev', DIR: 'proj' },
    });
    const npm = launchConfigChoice({ type: 'node', name: 'dev', runtimeExecutable: 'npm', runtimeArgs: ['run-script', 'dev'] }, { workspaceFolder: '/w' });
    assert.deepEqual(npm && typeof npm === 'object' && npm.kind === 'worker' && npm.command, ['npm', 'run-script', 'dev']);
    assert.match(String(launchConfigChoice({ type: 'python', name: 'py' }, { workspaceFolder: '/w' })), /not a node/);
    assert.match(String(launchConfigChoice({ type: 'node', request: 'attach', name: 'a' }, { workspaceFolder: '/w' })), /attaches/);
    assert.match(String(launchConfigChoice({ type: 'node', name: 'empty' }, { workspaceFolder: '/w' })), /neither/);
  });

  it('resolves file variables and leaves unknown ones', () => {
    assert.equal(resolveVariables('${fileDirname}/${fileBasename} ${command:x}', { workspaceFolder: '/w', file: '/w/src/a.js' }), '/w/src/a.js ${command:x}');
  });

  it('parses what Attach to Process accepts', () => {
    assert.deepEqual(parseAttachInput('9229'), { port: 9229 });
    assert.deepEqual(parseAttachInput(' 127.0.0.1:9230 '), { port: 9230 });
    assert.deepEqual(parseAttachInput('pid 4242'), { pid: 4242 });
    assert.deepEqual(parseAttachInput('ws://127.0.0.1:9229/abc'), { url: 'ws://127.0.0.1:9229/abc' });
    assert.deepEqual(parseAttachInput('http://127.0.0.1:9229'), { url: 'http://127.0.0.1:9229' });
    assert.equal(typeof parseAttachInput('70000'), 'string');
    assert.equal(typeof parseAttachInput('hello'), 'string');
  });

  it('parses runs and warm-up from one input', () => {
    assert.deepEqual(parseRunsWarmup('12, 2', 5), { runs: 12, warmup: 2 });
    assert.deepEqual(parseRunsWarmup('20 0', 5), { runs: 20, warmup: 0 });
    assert.deepEqual(parseRunsWarmup('8', 5), { runs: 8, warmup: 5 });
    assert.equal(parseRunsWarmup('3, 1', 0), 'Measured runs: from 4 (a verdict needs that many points) to 10000.');
    assert.deepEqual(parseRunsWarmup('4, 1', 0), { runs: 4, warmup: 1 });
    assert.equal(typeof parseRunsWarmup('ten', 0), 'string');
    assert.equal(typeof parseRunsWarmup('10, -1', 0), 'string');
  });
});

describe('sessionOptionsFor: the worker GC budget setting', () => {
  it('passes the percentage as a fraction, and leaves the engine default when unset', () => {
    const choice: ProfileChoice = { kind: 'worker', label: 'node w.js', command: ['node', 'w.js'], shell: false, cwd: '/w', runtime: 'node' };
    assert.equal(sessionOptionsFor(choice, { ...settings, taskGcBudgetPercent: 25 }).taskGcBudget, 0.25);
    assert.equal(sessionOptionsFor(choice, settings).taskGcBudget, undefined);
  });
});
