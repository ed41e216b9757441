/**
 * The environment every profiled process starts with: the bootloader joins the program's own
 * NODE_OPTIONS, the agent joins PYTHONPATH, and the program's own settings stand unless the user
 * turned something off (a CI run caught --no-auto-tasks overwriting TASKMEM_AUTO_TASKS=0 with "1").
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { bootloaderPath, pythonAgentDir } from '../../src/launch/assets';
import { profilingEnvironment, type ProfilingEnvOptions } from '../../src/launch/environment';

const defaults: ProfilingEnvOptions = { preciseAttribution: false, taskGcBudget: 0.01 };

describe('profilingEnvironment', () => {
  it("keeps the program's own NODE_OPTIONS and PYTHONPATH and adds the bootloader and the agent after them", () => {
    const env = profilingEnvironment({ NODE_OPTIONS: '--max-old-space-size=512', PYTHONPATH: '/srv/lib', HOME: '/home/u' }, {}, defaults);
    assert.match(env.NODE_OPTIONS ?? '', /^--max-old-space-size=512 --require /);
    assert.ok(env.NODE_OPTIONS?.includes(bootloaderPath()) || env.NODE_OPTIONS?.includes(JSON.stringify(bootloaderPath())), env.NODE_OPTIONS);
    assert.equal(env.PYTHONPATH, `${pythonAgentDir()}${path.delimiter}/srv/lib`);
    assert.equal(env.HOME, '/home/u');
  });

  it("leaves the program's own TASKMEM_AUTO_TASKS alone unless detection is turned off", () => {
    assert.equal(profilingEnvironment({ TASKMEM_AUTO_TASKS: '0' }, {}, defaults).TASKMEM_AUTO_TASKS, '0');
    assert.equal(profilingEnvironment({ TASKMEM_AUTO_TASKS: 'celery,rq' }, {}, { ...defaults, autoTasks: true }).TASKMEM_AUTO_TASKS, 'celery,rq');
    assert.equal(profilingEnvironment({}, {}, defaults).TASKMEM_AUTO_TASKS, undefined);
    assert.equal(profilingEnvironment({ TASKMEM_AUTO_TASKS: 'celery' }, {}, { ...defaults, autoTasks: false }).TASKMEM_AUTO_TASKS, '0');
  });

  it('passes the GC budget, precise attribution and the Python sampling as the bootloader and agent read them', () => {
    const env = profilingEnvironment({}, { TASKMEM_CHANNEL: 'x' }, { preciseAttribution: true, taskGcBudget: 0.05, pythonSampleEvery: 7 });
    assert.equal(env.TASKMEM_PRECISE, '1');
    assert.equal(env.TASKMEM_GC_BUDGET, '0.05');
    assert.equal(env.TASKMEM_SAMPLE_EVERY, '7');
    assert.equal(env.TASKMEM_CHANNEL, 'x');
    assert.equal(profilingEnvironment({}, {}, defaults).TASKMEM_SAMPLE_EVERY, undefined);
  });
});
