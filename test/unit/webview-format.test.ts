import * as assert from 'node:assert/strict';
import {
  displayFunction,
  formatBytes,
  formatBytesPerRun,
  formatCount,
  formatElapsed,
  formatElapsedTicks,
  formatLocation,
  formatShare,
  shortPath,
  truncate,
} from '../../src/webview/format';
import { formatBytes as formatCoreBytes, formatBytesPerRun as formatCoreBytesPerRun } from '../../src/core/format';

describe('webview format', () => {
  it('formats bytes as the reports and hovers do (one copy: core/format.ts), with a dash for none', () => {
    for (const bytes of [0, 1023, 1536, 231 * 1024 * 1024, 1.5 * 1024 ** 3, -2048]) assert.equal(formatBytes(bytes), formatCoreBytes(bytes));
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(undefined), '—');
    assert.equal(formatBytes(NaN), '—');
  });

  it('formats growth per run or task with a sign, as the reports do', () => {
    for (const bytes of [2.49 * 1024 * 1024, -310, 0]) assert.equal(formatBytesPerRun(bytes), formatCoreBytesPerRun(bytes));
    assert.equal(formatBytesPerRun(1126, 'task'), '+1.1 KiB/task');
    assert.equal(formatBytesPerRun(0), '±0 B/run');
    assert.equal(formatBytesPerRun(null), '—');
  });

  it('formats shares, counts and elapsed time', () => {
    assert.equal(formatShare(0.7123), '71%');
    assert.equal(formatShare(0.043), '4.3%');
    assert.equal(formatCount(216000), '216k');
    assert.equal(formatCount(1234), '1,234');
    assert.equal(formatElapsed(42), '42s');
    assert.equal(formatElapsed(2.5), '2.5s');
    assert.equal(formatElapsed(75), '1:15');
    assert.equal(formatElapsed(3725), '1:02:05');
  });

  it('labels time ticks so they read apart', () => {
    assert.deepEqual(formatElapsedTicks([0.1, 0.15, 0.2, 0.25, 0.30000000000000004]), ['0.1s', '0.15s', '0.2s', '0.25s', '0.3s']);
    assert.deepEqual(formatElapsedTicks([2, 4, 6]), ['2s', '4s', '6s']);
    assert.deepEqual(formatElapsedTicks([0.5, 1, 1.5]), ['0.5s', '1s', '1.5s']);
    assert.deepEqual(formatElapsedTicks([30, 60, 90]), ['30s', '1:00', '1:30']);
  });

  it('shortens paths and names', () => {
    assert.equal(shortPath('/home/u/proj/src/jobs/enrich.ts'), 'jobs/enrich.ts');
    assert.equal(shortPath('file:///home/u/a.js'), 'u/a.js');
    assert.equal(shortPath('C:\\work\\src\\a.ts'), 'src/a.ts');
    assert.equal(shortPath(''), '(no file)');
    assert.equal(formatLocation('/a/b/c.ts', 3), 'c.ts:3');
    assert.equal(displayFunction(''), '(anonymous)');
    assert.equal(truncate('abcdef', 4), 'abc…');
  });
});
