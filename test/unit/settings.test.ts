import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_DEFAULTS, CONFIG_SECTION, configFrom, SETTING_LIMITS, Setting } from '../../src/extension/settings';
import { DEFAULT_MIN_RUNS } from '../../src/core/verdict';

interface ManifestSetting {
  default?: unknown;
  minimum?: number;
  maximum?: number;
}

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, ManifestSetting> } };
};
const contributed = manifest.contributes.configuration.properties;

/** The config field each setting fills. */
const FIELD: Record<Setting, keyof typeof CONFIG_DEFAULTS> = {
  [Setting.StatsIntervalMs]: 'statsIntervalMs',
  [Setting.SamplingIntervalBytes]: 'samplingIntervalBytes',
  [Setting.PreciseAttribution]: 'preciseAttribution',
  [Setting.Runs]: 'runs',
  [Setting.Warmup]: 'warmup',
  [Setting.PythonPath]: 'pythonPath',
  [Setting.PythonSampleEvery]: 'pythonSampleEvery',
  [Setting.PythonMallocTrim]: 'pythonMallocTrim',
  [Setting.TaskGcBudgetPercent]: 'taskGcBudgetPercent',
  [Setting.MemoryLimitMiB]: 'memoryLimitMiB',
  [Setting.AutoTasks]: 'autoTasks',
  [Setting.AnnotationsEnabled]: 'annotationsEnabled',
  [Setting.WhyRetained]: 'whyRetained',
};

describe('settings', () => {
  it('the manifest contributes exactly the settings the code reads', () => {
    assert.deepEqual(
      Object.keys(contributed).sort(),
      Object.keys(FIELD)
        .map((s) => `${CONFIG_SECTION}.${s}`)
        .sort(),
    );
  });

  it("the manifest's defaults, minimums and maximums are the code's", () => {
    for (const [setting, field] of Object.entries(FIELD) as Array<[Setting, keyof typeof CONFIG_DEFAULTS]>) {
      const entry = contributed[`${CONFIG_SECTION}.${setting}`];
      assert.deepEqual(entry.default, CONFIG_DEFAULTS[field], `${setting}: default`);
      const limits = (SETTING_LIMITS as Partial<Record<Setting, { min: number; max: number }>>)[setting];
      assert.equal(entry.minimum, limits?.min, `${setting}: minimum`);
      assert.equal(entry.maximum, limits?.max, `${setting}: maximum`);
    }
    // The harness's verdict needs this many measured runs; the settings UI must not offer fewer.
    assert.equal(contributed[`${CONFIG_SECTION}.${Setting.Runs}`].minimum, DEFAULT_MIN_RUNS);
  });

  it('reads the defaults from an empty configuration, and clamps or ignores what a user typed wrong', () => {
    assert.deepEqual(
      configFrom(() => undefined),
      CONFIG_DEFAULTS,
    );
    const typed: Partial<Record<Setting, unknown>> = {
      [Setting.Runs]: 2,
      [Setting.Warmup]: 3.6,
      [Setting.StatsIntervalMs]: 'fast',
      [Setting.TaskGcBudgetPercent]: 250,
      [Setting.PreciseAttribution]: 'yes',
      [Setting.PythonPath]: '  /opt/py/bin/python3 ',
      [Setting.PythonMallocTrim]: 'true',
      [Setting.AnnotationsEnabled]: false,
    };
    const config = configFrom((setting) => typed[setting]);
    assert.equal(config.runs, DEFAULT_MIN_RUNS);
    assert.equal(config.warmup, 4);
    assert.equal(config.statsIntervalMs, CONFIG_DEFAULTS.statsIntervalMs);
    assert.equal(config.taskGcBudgetPercent, 100);
    assert.equal(config.preciseAttribution, 'auto');
    assert.equal(config.pythonPath, '/opt/py/bin/python3');
    assert.equal(config.pythonMallocTrim, false);
    assert.equal(config.annotationsEnabled, false);
  });
});
