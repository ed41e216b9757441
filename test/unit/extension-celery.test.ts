import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { celeryApp, celeryWorkerChoices, celeryWorkerCommand, celeryWorkerLabel, definesCelery } from '../../src/extension/celery';
import { CONFIG_DEFAULTS } from '../../src/extension/settings';
import { parseStoredChoice, sessionOptionsFor, usesPython, withPythonInterpreter, type ProfileChoice, type RunSettings } from '../../src/extension/choices';

const repo = path.resolve(__dirname, '../..');
const read = (rel: string): string => fs.readFileSync(path.join(repo, rel), 'utf8');

describe('extension/celery', () => {
  it('detects a Celery app or Celery tasks, not plain Python or comments', () => {
    assert.equal(definesCelery(read('examples/python/celery_app/tasks.py')), true);
    assert.equal(definesCelery(read('examples/python/jobs.py')), false);
    assert.equal(definesCelery('import celery\napp = celery.Celery("x")\n'), true);
    assert.equal(definesCelery('from celery import shared_task\n\n@shared_task\ndef work():\n    pass\n'), true);
    assert.equal(definesCelery('@app.task(bind=True)\ndef work(self):\n    pass\n'), true);
    assert.equal(definesCelery('# app = Celery("x")\ndef f():\n    return "Celery(" \n'), false);
    assert.equal(definesCelery('x = MyCelery("x")\n'), false);
  });

  it('names the module relative to its folder and runs in that folder; packages by their name', () => {
    assert.deepEqual(celeryApp('/w/app/tasks.py', false), { module: 'tasks', cwd: '/w/app' });
    assert.deepEqual(celeryApp('/w/app/tasks.py', true), { module: 'tasks', cwd: '/w/app' });
    assert.deepEqual(celeryApp('/w/proj/celery.py', true), { module: 'proj', cwd: '/w' });
    assert.deepEqual(celeryApp('/w/proj/__init__.py', true), { module: 'proj', cwd: '/w' });
  });

  it('builds the worker command and label for prefork and solo', () => {
    assert.deepEqual(celeryWorkerCommand('python3', 'tasks', 'prefork'), [
      'python3',
      '-m',
      'celery',
      '-A',
      'tasks',
      'worker',
      '-P',
      'prefork',
      '-c',
      '2',
      '--loglevel',
      'INFO',
    ]);
    assert.deepEqual(celeryWorkerCommand('/v/bin/python', 'tasks', 'solo'), [
      '/v/bin/python',
      '-m',
      'celery',
      '-A',
      'tasks',
      'worker',
      '-P',
      'solo',
      '--loglevel',
      'INFO',
    ]);
    assert.equal(celeryWorkerLabel('tasks', 'prefork'), 'celery -A tasks worker -P prefork -c 2');
    assert.equal(celeryWorkerLabel('tasks', 'solo'), 'celery -A tasks worker -P solo');
  });

  it('offers worker choices for a Celery file only; they survive "Profile again" and take the resolved interpreter', () => {
    const file = path.join(repo, 'examples/python/celery_app/tasks.py');
    assert.deepEqual(celeryWorkerChoices(path.join(repo, 'examples/python/jobs.py'), read('examples/python/jobs.py'), 'python3'), []);
    const choices = celeryWorkerChoices(file, read('examples/python/celery_app/tasks.py'), 'python3');
    assert.deepEqual(
      choices.map((c) => c.label),
      ['celery -A tasks worker -P prefork -c 2', 'celery -A tasks worker -P solo'],
    );
    const [prefork] = choices;
    assert.ok(prefork && prefork.kind === 'worker');
    assert.equal(prefork.cwd, path.dirname(file));
    assert.equal(prefork.runtime, 'python');
    assert.equal(prefork.shell, false);
    assert.ok(usesPython(prefork));

    const stored = parseStoredChoice(JSON.parse(JSON.stringify({ ...prefork, env: { CELERY_BROKER_URL: 'redis://127.0.0.1:1/0' } })));
    assert.deepEqual(stored, { ...prefork, env: { CELERY_BROKER_URL: 'redis://127.0.0.1:1/0' } });

    const run = withPythonInterpreter(prefork, '/v/bin/python');
    assert.ok(run.kind === 'worker');
    assert.deepEqual(run.command.slice(0, 4), ['/v/bin/python', '-m', 'celery', '-A']);
    const settings: RunSettings = {
      runs: 10,
      warmup: 2,
      statsIntervalMs: 100,
      samplingIntervalBytes: 0,
      preciseAttribution: 'auto',
      pythonPath: '/v/bin/python',
      pythonSampleEvery: 4,
      pythonMallocTrim: true,
    };
    const options = sessionOptionsFor(run, settings);
    assert.equal(options.mode, 'worker');
    assert.equal(options.command?.[0], '/v/bin/python');
    assert.equal(options.pythonSampleEvery, 4);
    assert.equal(options.pythonMallocTrim, true);
    assert.equal(options.pythonPath, '/v/bin/python');
  });

  it('passes the memory limit setting to the session in bytes, and none when it is 0', () => {
    const run: ProfileChoice = { kind: 'worker', label: 'w', command: ['node', 'w.js'], shell: false, cwd: '/w' };
    // The extension's own defaults: memoryLimitMiB 0.
    assert.equal(sessionOptionsFor(run, { ...CONFIG_DEFAULTS, memoryLimitMiB: 512 }).memoryLimitBytes, 512 * 1024 * 1024);
    assert.equal(sessionOptionsFor(run, { ...CONFIG_DEFAULTS, memoryLimitMiB: 0 }).memoryLimitBytes, undefined);
  });

  it('leaves other choices alone', () => {
    const node: ProfileChoice = { kind: 'worker', label: 'n', command: ['node', 'w.js'], shell: false, cwd: '/w' };
    const shell: ProfileChoice = { kind: 'worker', label: 's', command: ['python3 w.py'], shell: true, cwd: '/w', pythonCommand: true };
    const harness: ProfileChoice = { kind: 'harness', label: 'h', file: '/w/jobs.py', exportName: 'f', runtime: 'python', cwd: '/w' };
    assert.equal(usesPython(node), false);
    assert.equal(usesPython(harness), true);
    assert.equal(withPythonInterpreter(node, '/p'), node);
    assert.equal(withPythonInterpreter(shell, '/p'), shell);
    assert.equal(withPythonInterpreter(harness, '/p'), harness);
    // A shell command line has no argv[0] to replace: the flag is not kept.
    assert.equal((parseStoredChoice(JSON.parse(JSON.stringify(shell))) as { pythonCommand?: boolean }).pythonCommand, undefined);
  });
});
