import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collapsePath } from '../../src/launch/httpTasks';

/** The same cases the Python agent's collapse_path is checked against (agents/python/tests/test_autotasks.py). */
const cases = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'http-task-names.json'), 'utf8')) as { collapse: Array<[string, string]> })
  .collapse;

describe('HTTP task names: the Node and Python namers collapse paths alike', () => {
  it('collapsePath gives the shared expectations', () => {
    assert.ok(cases.length > 10);
    for (const [url, expected] of cases) assert.equal(collapsePath(url), expected, url);
  });
});
