import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OPTION_SETTINGS, inSettingsTerms, recyclingInSettingsTerms, verdictInSettingsTerms } from '../../src/core/optionTerms';
import { adviseRecycling } from '../../src/core/recyclingAdvisor';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, unknown> }; menus: { commandPalette: Array<{ command: string; when?: string }> } };
};

describe('optionTerms: the advice in the extension names settings, not command-line options', () => {
  it('names the setting, with the value the advice suggests', () => {
    assert.equal(
      inSettingsTerms('Measure at least 60 runs (--runs 60): a leak keeps growing.'),
      'Measure at least 60 runs (setting taskMemory.runs (60)): a leak keeps growing.',
    );
    assert.equal(
      inSettingsTerms('or sample finer (--sampling-interval 32768) so the sites can tell'),
      'or sample finer (setting taskMemory.samplingIntervalBytes (32768)) so the sites can tell',
    );
    assert.equal(
      inSettingsTerms('at most 1% of the time (--gc-budget); run longer'),
      'at most 1% of the time (setting taskMemory.taskGcBudgetPercent); run longer',
    );
  });

  it("leaves Celery's own options, longer option names and plain text alone", () => {
    const celery = 'recycle workers (--max-tasks-per-child / --max-memory-per-child)';
    assert.equal(inSettingsTerms(celery), celery);
    assert.equal(inSettingsTerms('--runs-per-batch 3 and --precise-ish'), '--runs-per-batch 3 and --precise-ish');
    assert.equal(inSettingsTerms('No steady growth: +12 B/task.'), 'No steady growth: +12 B/task.');
  });

  it('names the action for a CLI command', () => {
    assert.equal(
      inSettingsTerms('Call this task on its own with `taskmem task`.'),
      'Call this task on its own with "Task Memory: Profile Task" on its function.',
    );
  });

  it("rewrites a verdict's summary, advice and evidence and keeps its kind and figures", () => {
    const verdict = { kind: 'inconclusive' as const, confidence: 0.3, summary: 'Too few runs.', advice: 'Use --runs 100.', evidence: ['only 5 runs (--runs)'] };
    assert.deepEqual(verdictInSettingsTerms(verdict), {
      ...verdict,
      advice: 'Use setting taskMemory.runs (100).',
      evidence: ['only 5 runs (setting taskMemory.runs)'],
    });
  });

  it("rewrites the recycling advice's prose, not the lines to paste", () => {
    const advice = adviseRecycling({
      freshRssBytes: 40 * 2 ** 20,
      growthPerTaskBytes: 1500,
      worstTaskBytes: 3 * 2 ** 20,
      limitBytes: 16 * 2 ** 30,
      limitSource: 'ram-per-child',
      supervisor: 'celery',
    })!;
    const inSettings = recyclingInSettingsTerms(advice);
    assert.match(inSettings.note, /give each child's real budget \(in MiB\) with setting taskMemory\.memoryLimitMiB\./);
    assert.deepEqual(inSettings.lines, advice.lines);
    assert.ok(inSettings.lines.some((line) => line.includes('--max-tasks-per-child=')));
  });

  it('names only settings the extension contributes', () => {
    for (const setting of Object.values(OPTION_SETTINGS)) assert.ok(setting in manifest.contributes.configuration.properties, setting);
  });

  it('keeps commands that need an argument (hover links) out of the command palette', () => {
    const hidden = manifest.contributes.menus.commandPalette.filter((entry) => entry.when === 'false').map((entry) => entry.command);
    for (const command of ['taskMemory.revealSource', 'taskMemory.showSiteInPanel', 'taskMemory.showTaskInPanel']) assert.ok(hidden.includes(command), command);
  });
});
