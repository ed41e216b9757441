/**
 * Issue 11, Python: why the memory is kept, through a real harness session (the agent in a real
 * interpreter, tracemalloc, Taskmem.whyRetained after the measured runs): the top group's root and
 * holder, and the line that stores into it found by its text in the fixture. The fixtures are the
 * agent's own (agents/python/tests/fixtures/why/), called with a fixed argument as the harness does.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathText } from '../../src/core/why/describe';
import { harness, repoRoot, runSession } from './helpers';

const FIXTURES = path.join(repoRoot, 'agents', 'python', 'tests', 'fixtures', 'why');
const RUNS = 30;

function lineOf(file: string, text: string): number {
  const found = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => (line.includes(text) ? [i + 1] : []));
  assert.equal(found.length, 1, `"${text}" is on one line of ${file}`);
  return found[0];
}

const SHAPES = [
  { module: 'global_list', path: /^module global_list\.py > _log \(list\) > \[\] \(Record\)/, statement: '_log.append(' },
  { module: 'class_attr', path: /^class Registry > entries \(list\) > \[\] \(dict\)/, statement: 'self.entries.append(' },
  { module: 'default_arg', path: /^function collect \(default argument\) > acc \(list\) > \[\] \(str\)/, statement: 'acc.append(' },
  { module: 'closure_cell', path: /^function make_tracker \(closure\) > items \(list\) > \[\] \(tuple\)/, statement: 'items.append(' },
];

describe('why it is kept: Python retainer paths and holding lines (real interpreter, harness session)', function () {
  this.timeout(120_000);

  for (const shape of SHAPES) {
    it(`${shape.module}: the path to its holder and the line that stores into it`, async () => {
      const file = path.join(FIXTURES, `${shape.module}.py`);
      const { report } = await runSession({ mode: 'harness', harness: { ...harness(file, 'handle', RUNS, 2, [5])!, why: true } });
      const why = report.tasks[0]?.why;
      assert.ok(why, `the report says why: ${JSON.stringify(report.tasks[0]?.summary)}`);
      const top = why.groups[0];
      assert.ok(top, `a group: ${JSON.stringify(why)}`);
      assert.match(pathText(top.path), shape.path);
      assert.ok(top.entriesPerRun >= 0.9 && top.entriesPerRun <= 1.1, `entries per run ${top.entriesPerRun}`);
      assert.equal(top.holdingLine?.file, file);
      assert.equal(top.holdingLine?.line, lineOf(file, shape.statement));
    });
  }

  it('a clean task (a temporary list, a bounded cache full before tracing): no group', async () => {
    const file = path.join(FIXTURES, 'clean.py');
    const { report } = await runSession({ mode: 'harness', harness: { ...harness(file, 'handle', RUNS, 2, [5])!, why: true } });
    assert.deepEqual(report.tasks[0]?.why?.groups, [], 'no holder gained entries');
    assert.ok(
      report.notes.some((n) => /Why retained: read over the measured runs; the process was paused \d+ ms/.test(n)),
      report.notes.join('\n'),
    );
  });
});
