import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseArgs, UsageError, type ParsedCommand } from '../../src/cli/args';
import { DEFAULTS } from '../../src/session/defaults';

const CWD = '/srv/app';

function profile(argv: string[]): Extract<ParsedCommand, { kind: 'profile' }> {
  const parsed = parseArgs(argv, CWD, false);
  assert.equal(parsed.kind, 'profile');
  return parsed;
}

function usageError(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseArgs(argv, CWD, false),
    (error: unknown) => error instanceof UsageError && message.test(error.message),
    `${argv.join(' ')} should fail with ${String(message)}`,
  );
}

describe('taskmem arguments', () => {
  it('help and version', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) assert.deepEqual(parseArgs(argv, CWD, false), { kind: 'help' });
    assert.deepEqual(parseArgs(['--version'], CWD, false), { kind: 'version' });
  });

  it('task: the file resolved against the cwd, its export, runs, warm-up and arguments', () => {
    const { session, output } = profile(['task', 'src/jobs.js#handleJob', '--runs', '60', '--warmup', '0', '--args', '[{"id":1}]']);
    assert.equal(session.mode, 'harness');
    assert.deepEqual(session.harness, {
      file: path.resolve(CWD, 'src/jobs.js'),
      exportName: 'handleJob',
      runs: 60,
      warmup: 0,
      args: [{ id: 1 }],
      runtime: 'node',
      why: 'auto',
    });
    assert.equal(profile(['task', 'src/jobs.js#handleJob', '--no-why']).session.harness?.why, false, '--no-why');
    assert.equal(profile(['task', 'src/jobs.js#handleJob', '--why']).session.harness?.why, true, '--why');
    assert.deepEqual(output, { failOnLeak: false, quiet: false, verbose: false, color: false, maxSites: 10 });
    const py = profile(['task', 'billing.py#charge', '--python', '/opt/py/bin/python3']).session;
    assert.deepEqual(py.harness, {
      file: path.resolve(CWD, 'billing.py'),
      exportName: 'charge',
      runs: DEFAULTS.runs,
      warmup: DEFAULTS.warmup,
      args: [],
      runtime: 'python',
      why: 'auto',
    });
    assert.equal(py.pythonPath, '/opt/py/bin/python3');
  });

  it('run: everything after -- is the command, options before it are ours', () => {
    const { session, output } = profile([
      'run',
      '--duration',
      '25',
      '--max-tasks',
      '5000',
      '--memory-limit',
      '512',
      '--gc-budget',
      '2.5',
      '--sample-every',
      '8',
      '--malloc-trim',
      '--window',
      '5',
      '--json',
      'out/report.json',
      '--top',
      '3',
      '--fail-on-leak',
      '--',
      'celery',
      '-A',
      'app',
      'worker',
      '--runs',
      '3',
    ]);
    assert.equal(session.mode, 'worker');
    assert.deepEqual(session.command, ['celery', '-A', 'app', 'worker', '--runs', '3']);
    assert.equal(session.durationSec, 25);
    assert.equal(session.maxTasks, 5000);
    assert.equal(session.memoryLimitBytes, 512 * 1024 * 1024);
    assert.equal(session.taskGcBudget, 0.025);
    assert.equal(session.pythonSampleEvery, 8);
    assert.equal(session.pythonMallocTrim, true);
    assert.equal(session.windowMs, 5000);
    assert.equal(output.json, path.resolve(CWD, 'out/report.json'));
    assert.equal(output.maxSites, 3);
    assert.equal(output.failOnLeak, true);
    // Without --, the positionals are the command (a shell line with --shell).
    const shell = profile(['run', '--shell', 'node worker.js | tee log']).session;
    assert.deepEqual(shell.command, ['node worker.js | tee log']);
    assert.equal(shell.shell, true);
  });

  it('attach: a port, a ws:// URL or --pid', () => {
    assert.deepEqual(profile(['attach', '9229']).session.attach, { port: 9229 });
    assert.deepEqual(profile(['attach', 'ws://127.0.0.1:9229/abc']).session.attach, { url: 'ws://127.0.0.1:9229/abc' });
    assert.deepEqual(profile(['attach', '--pid', '4242']).session.attach, { pid: 4242 });
  });

  it('the last of --precise / --no-precise wins; --no-color, --quiet, --verbose', () => {
    assert.equal(profile(['task', 'a.js#f', '--precise', '--no-precise']).session.preciseAttribution, false);
    assert.equal(profile(['task', 'a.js#f', '--no-precise', '--precise']).session.preciseAttribution, true);
    assert.equal(profile(['task', 'a.js#f']).session.preciseAttribution, undefined);
    const onTerminal = parseArgs(['task', 'a.js#f'], CWD, true);
    assert.equal(onTerminal.kind === 'profile' && onTerminal.output.color, !process.env.NO_COLOR);
    const { output } = profile(['task', 'a.js#f', '--no-color', '--quiet', '--verbose']);
    assert.deepEqual([output.color, output.quiet, output.verbose], [false, true, true]);
    const both = profile(['task', 'a.js#f', '--interval', '250', '--sampling-interval', '65536', '--heapprofile', 'x.heapprofile', '--markdown', 'pr.md']);
    assert.equal(both.session.statsIntervalMs, 250);
    assert.equal(both.session.samplingIntervalBytes, 65536);
    assert.equal(both.output.heapprofile, path.resolve(CWD, 'x.heapprofile'));
    assert.equal(both.output.markdown, path.resolve(CWD, 'pr.md'));
  });

  it('every mistake says what to type instead', () => {
    usageError(['profile'], /unknown command 'profile': use task, run, attach or env/);
    usageError(['task', 'a.js#f', '--runs', 'ten'], /--runs takes a whole number above 0, not 'ten'/);
    usageError(['task', 'a.js#f', '--runs', '0'], /--runs takes a whole number above 0/);
    usageError(['task', 'a.js#f', '--warmup', '-1'], /--warmup/);
    usageError(['task', 'a.js#f', '--runs'], /--runs needs a value/);
    usageError(['task', 'a.js#f', '--runs', '--warmup', '2'], /--runs needs a value/);
    usageError(['task', 'a.js#f', '--rusn', '5'], /unknown option --rusn \(taskmem --help lists them\)/);
    usageError(['task', 'a.js#f', '--args', '{'], /--args is not valid JSON/);
    usageError(['task', 'a.js#f', '--args', '{"a":1}'], /--args takes a JSON array/);
    usageError(['task', 'a.js#f', '--gc-budget', '0'], /--gc-budget takes a percentage above 0 and up to 100/);
    usageError(['task', 'a.js#f', '--gc-budget', '101'], /--gc-budget/);
    usageError(['task', 'a.js'], /'a.js' is not <file>#<export>/);
    usageError(['task'], /taskmem task takes one <file>#<export>/);
    usageError(['task', 'a.js#f', 'b.js#g'], /taskmem task takes one <file>#<export>/);
    usageError(['run'], /taskmem run needs a command after --/);
    usageError(['run', '--'], /taskmem run needs a command after --/);
    usageError(['run', 'celery', '-A', 'app', 'worker'], /unknown option -A \(taskmem --help lists them; a worker's own options go after --\)/);
    usageError(['task', 'a.js#f', '--quiet=yes'], /--quiet takes no value/);
    usageError(['attach'], /taskmem attach needs a ws:\/\/ URL, a port or --pid <pid>/);
    usageError(['attach', '--pid', 'me'], /--pid takes a whole number/);
  });
});
