import assert from 'node:assert/strict';
import { describeCommandFailure, describeFailure, unprintedProgramError } from '../../src/core/failure';

const PYTHON_SYNTAX = `Taskmem.loadHarness failed: /w/jobs.py failed to import: SyntaxError: invalid syntax (jobs.py, line 1)
Traceback (most recent call last):
  File "/work/agents/python/taskmem_agent/harness.py", line 90, in load
    module = importlib.import_module(modname)
  File "/usr/lib/python3.11/importlib/__init__.py", line 126, in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
  File "<frozen importlib._bootstrap>", line 1204, in _gcd_import
  File "<frozen importlib._bootstrap_external>", line 940, in exec_module
  File "/w/jobs.py", line 1
    def handle(:
               ^
SyntaxError: invalid syntax`;

const PYTHON_RAISE = `Taskmem.loadHarness failed: /w/app/tasks.py failed to import: RuntimeError: no broker
Traceback (most recent call last):
  File "/opt/agent/taskmem_agent/harness.py", line 90, in load
    module = importlib.import_module(modname)
  File "<frozen importlib._bootstrap>", line 241, in _call_with_frames_removed
  File "/w/app/tasks.py", line 4, in <module>
    setup()
  File "/w/app/config.py", line 12, in setup
    raise RuntimeError("no broker")
RuntimeError: no broker`;

describe('describeFailure', () => {
  it("turns the agent's traceback into the user's file, line and one sentence", () => {
    const view = describeFailure(PYTHON_SYNTAX);
    assert.equal(view.summary, '/w/jobs.py failed to import: SyntaxError: invalid syntax (jobs.py, line 1)');
    assert.deepEqual(view.location, { file: '/w/jobs.py', line: 1 });
    assert.deepEqual(view.frames, ['jobs.py:1']);
    assert.equal(view.detail, PYTHON_SYNTAX);
  });

  it('points at the innermost user frame and lists only user frames', () => {
    const view = describeFailure(PYTHON_RAISE);
    assert.deepEqual(view.location, { file: '/w/app/config.py', line: 12 });
    assert.deepEqual(view.frames, ['tasks.py:4 in <module>', 'config.py:12 in setup']);
  });

  it("reads Node's location from the message or the stack, skipping Node's own frames", () => {
    assert.deepEqual(describeFailure("broken.js failed to load: SyntaxError: Unexpected token ';' at /tmp/broken.js:2").location, {
      file: '/tmp/broken.js',
      line: 2,
    });
    const stack =
      'handleJob threw in run 1: TypeError: x is not a function\nTypeError: x is not a function\n    at handleJob (/w/jobs.js:7:3)\n    at Object.run (/w/node_modules/dep/index.js:1:1)';
    const view = describeFailure(stack);
    assert.deepEqual(view.location, { file: '/w/jobs.js', line: 7 });
    assert.equal(view.summary, 'handleJob threw in run 1: TypeError: x is not a function');
  });

  it('keeps a message without a location as it is', () => {
    const view = describeFailure('the task process did not start within 30 s');
    assert.equal(view.summary, 'the task process did not start within 30 s');
    assert.equal(view.location, undefined);
    assert.deepEqual(view.frames, []);
  });

  describe('describeCommandFailure', () => {
    it("a Node program that throws at start, through npm: the error and the user's line, not npm's or Node's own lines", () => {
      const output = [
        '',
        '> broken',
        '> node broken.js',
        '',
        '/w/broken.js:3',
        "throw new Error('BROKER_URL is not set');",
        '^',
        '',
        'Error: BROKER_URL is not set',
        '    at Object.<anonymous> (/w/broken.js:3:7)',
        '    at Module._compile (node:internal/modules/cjs/loader:1364:14)',
        '',
        'Node.js v20.20.2',
        'npm error code 1',
        'npm error path /w',
        'npm error command sh -c node broken.js',
        '',
      ].join('\n');
      const view = describeCommandFailure('the command exited with code 1', output);
      assert.equal(view.summary, 'the command exited with code 1: Error: BROKER_URL is not set');
      assert.deepEqual(view.location, { file: '/w/broken.js', line: 3 });
      assert.ok(view.detail.includes('npm error path /w'));
    });

    it('a Python worker whose module is missing: the interpreter says which', () => {
      const view = describeCommandFailure('the command exited with code 1', '/usr/bin/python3: No module named celery\n');
      assert.equal(view.summary, 'the command exited with code 1: /usr/bin/python3: No module named celery');
      assert.equal(view.location, undefined);
    });

    it("a Celery app that fails at import: the user's frame from the traceback", () => {
      const output =
        'Traceback (most recent call last):\n  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main\n  File "/w/tasks.py", line 9, in <module>\n    BROKER = os.environ["BROKER_URL"]\nKeyError: \'BROKER_URL\'\n';
      const view = describeCommandFailure('the command exited with code 2', output);
      assert.equal(view.summary, "the command exited with code 2: KeyError: 'BROKER_URL'");
      assert.deepEqual(view.location, { file: '/w/tasks.py', line: 9 });
    });

    it('cuts a very long last line and keeps the reason when the output is empty', () => {
      assert.ok(describeCommandFailure('the command exited with code 1', 'x'.repeat(1000)).summary.length < 340);
      assert.equal(describeCommandFailure('the command exited with code 1', '\n\n').summary, 'the command exited with code 1');
    });

    it('leads with the error the runtime reported when a crash at exit left only "Segmentation fault" in the output', () => {
      const reported =
        'Error: BROKER_URL is not set\n    at Object.<anonymous> (/w/broken.js:3:7)\n    at Module._compile (node:internal/modules/cjs/loader:1364:14)';
      const view = describeCommandFailure('the command exited with code 139', '> broken\n> node broken.js\n\nSegmentation fault\n', reported);
      assert.equal(view.summary, 'the command exited with code 139: Error: BROKER_URL is not set');
      assert.deepEqual(view.location, { file: '/w/broken.js', line: 3 });
      assert.deepEqual(view.frames, ['broken.js:3']);
      assert.match(view.detail, /Segmentation fault/);
    });
  });

  describe('unprintedProgramError', () => {
    const reported = 'Error: BROKER_URL is not set\n    at Object.<anonymous> (/w/broken.js:3:7)';
    it('is the reported error when the output lost it, nothing when the output shows it or none was reported', () => {
      assert.equal(unprintedProgramError('connecting to the broker\nSegmentation fault\n', reported), reported);
      assert.equal(unprintedProgramError('/w/broken.js:3\n\nError: BROKER_URL is not set\n    at Object.<anonymous>', reported), undefined);
      assert.equal(unprintedProgramError('anything', undefined), undefined);
      assert.equal(unprintedProgramError('anything', '  \n'), undefined);
    });
  });
});
