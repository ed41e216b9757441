import { strict as assert } from 'node:assert';
import { COST_WINDOW_MS, COST_WINDOW_TASKS, MeasurementCost } from '../../src/launch/measurementCost';

/**
 * A simulated worker: tasks finish at a steady rate, a measurement pauses it (its GCs) and may
 * slow it for a while after (re-warming). Returns the meter after one measurement has settled.
 */
function simulate(options: { msPerTask: number; gcMs: number; slowdownMs: number; budget?: number }): { meter: MeasurementCost; at: number } {
  const { msPerTask, gcMs, slowdownMs } = options;
  const meter = new MeasurementCost(0, options.budget ?? 0.01, 20);
  let now = 0;
  let tasks = 0;
  const finish = () => {
    now += msPerTask;
    tasks++;
    if (meter.watching) meter.taskFinished(now, tasks);
  };
  // A quiet stretch long enough to know the rate.
  while (now < 2 * COST_WINDOW_MS || tasks < 2 * COST_WINDOW_TASKS) finish();
  meter.started(now, tasks);
  now += gcMs / 2;
  meter.paused(gcMs / 2);
  finish();
  now += gcMs / 2;
  meter.paused(gcMs / 2);
  meter.ended(now);
  // Re-warming: the program makes no progress for slowdownMs in all, spread over the next tasks.
  now += slowdownMs;
  while (meter.watching) finish();
  return { meter, at: now };
}

describe('the cost of measuring a task (GC budget)', () => {
  it('charges the throughput lost re-warming, not only the GC pause', () => {
    // A busy server: 0.08 ms per request, a 4 ms GC pair that costs ~85 ms of throughput.
    const { meter } = simulate({ msPerTask: 0.08, gcMs: 8, slowdownMs: 80 });
    assert.ok(meter.spent > 80 && meter.spent < 95, `charged ${meter.spent} ms`);
  });

  it('charges only the pause when the program loses no throughput', () => {
    const { meter } = simulate({ msPerTask: 2.5, gcMs: 7, slowdownMs: 0 });
    assert.ok(Math.abs(meter.spent - 7) < 0.01, `charged ${meter.spent} ms`);
  });

  it('does not count a loss within a couple of tasks of a paced worker as a cost', () => {
    // One task every 100 ms; the window edge may miss one task: noise, not re-warming.
    const { meter } = simulate({ msPerTask: 100, gcMs: 10, slowdownMs: 60 });
    assert.ok(Math.abs(meter.spent - 10) < 0.01, `charged ${meter.spent} ms`);
  });

  it('admits the next measurement only when the budget has paid for what the last one cost', () => {
    const { meter, at } = simulate({ msPerTask: 0.08, gcMs: 8, slowdownMs: 80 });
    // ~88 ms spent; 1% of the wall time plus the 20 ms allowance must cover it and the same again.
    assert.equal(meter.allows(at), false);
    const enough = (2 * meter.spent - 20) / 0.01;
    assert.equal(meter.allows(enough - 100), false);
    assert.equal(meter.allows(enough + 100), true);
  });

  it('falls back to the pause when there was no quiet stretch to compare with', () => {
    const meter = new MeasurementCost(0, 0.01, 20);
    meter.started(10, 3);
    meter.paused(5);
    meter.ended(20);
    // The next measurement comes at once (a scheduled one): the first is settled at its pause.
    meter.started(21, 4);
    assert.equal(meter.spent, 5);
  });
});
