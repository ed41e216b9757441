import assert from 'node:assert/strict';
import { formatBytes, formatBytesPerRun, formatDuration, formatPercent, formatSpan } from '../../src/core/format';

describe('format', () => {
  it('formats bytes in IEC units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1.0 KiB');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(4404019), '4.2 MiB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
    assert.equal(formatBytes(-1536), '-1.5 KiB');
    assert.equal(formatBytes(-0.2), '0 B');
  });

  it('moves up a unit instead of printing 1024.0', () => {
    assert.equal(formatBytes(1024 * 1024 - 1), '1.0 MiB');
    assert.equal(formatBytes(1023.6), '1.0 KiB');
  });

  it('says n/a for non-finite figures', () => {
    assert.equal(formatBytes(Number.NaN), 'n/a');
    assert.equal(formatBytesPerRun(Infinity), 'n/a');
  });

  it('formats growth per run with a sign', () => {
    assert.equal(formatBytesPerRun(41 * 1024), '+41.0 KiB/run');
    assert.equal(formatBytesPerRun(-1536), '-1.5 KiB/run');
    assert.equal(formatBytesPerRun(0.4), '±0 B/run');
    assert.equal(formatBytesPerRun(-0.49), '±0 B/run');
    assert.equal(formatBytesPerRun(100), '+100 B/run');
  });

  it('formats percentages', () => {
    assert.equal(formatPercent(0.38), '38%');
    assert.equal(formatPercent(0.042), '4.2%');
    assert.equal(formatPercent(0.00001), '<0.1%');
    assert.equal(formatPercent(0), '0%');
    assert.equal(formatPercent(1), '100%');
    assert.equal(formatPercent(0.0999), '10%');
  });

  it('formats durations', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(245_000), '4 min 05 s');
    assert.equal(formatDuration(59_990), '1 min 00 s');
    assert.equal(formatDuration(999.7), '1.0 s');
    assert.equal(formatDuration(2 * 3600_000 + 3 * 60_000), '2 h 03 min');
  });

  it('formats long spans in the unit a person plans in', () => {
    assert.equal(formatSpan(45), '45 s');
    assert.equal(formatSpan(90), '1.5 min');
    assert.equal(formatSpan(5400), '90 min');
    assert.equal(formatSpan(3 * 3600), '3.0 h');
    assert.equal(formatSpan(1.9 * 86_400), '46 h');
    assert.equal(formatSpan(2.3 * 86_400), '2.3 days');
    assert.equal(formatSpan(30 * 86_400), '4.3 weeks');
    assert.equal(formatSpan(3 * 365 * 86_400), '3.0 years');
    assert.equal(formatSpan(Number.NaN), 'n/a');
  });
});
