// Realistic synthetic panel data: a leaking Node worker (10 minutes at 10 Hz), 3 tasks, 8 retaining
// sites, two of them with hostile names that must render as text.
export const HOSTILE_IMG = '<img src=x onerror="window.__taskmemPwned=1">';
export const HOSTILE_SCRIPT = '</script><script>window.__taskmemPwned2=1</script>';

const MiB = 1024 * 1024;
const ROOT = '/home/dev/projects/order-service';

function verdict(kind, confidence, summary, advice, evidence = []) {
  return { kind, confidence, summary, advice, evidence };
}

export function leakSnapshot({ seconds = 600, python = false } = {}) {
  const targets = [{ id: 'node-1', pid: 48213, runtime: 'node', title: 'node worker.js', argv: ['node', 'worker.js'] }];
  if (python) targets.push({ id: 'py-1', pid: 48290, ppid: 48213, runtime: 'python', title: 'celery worker', argv: ['celery', '-A', 'app', 'worker'] });
  const n = seconds * 10;
  const stats = [];
  const marks = [];
  const node = { targetId: 'node-1', t: [], values: { heapUsed: [], heapTotal: [], rss: [], external: [], arrayBuffers: [] } };
  let heapTotal = 48 * MiB;
  for (let i = 0; i < n; i++) {
    const t = i * 100;
    const leak = i * 2600; // ~15 MiB over 10 minutes
    const saw = (i % 40) * 180 * 1024;
    const used = 28 * MiB + leak + saw + Math.sin(i / 9) * 300 * 1024;
    heapTotal = Math.max(heapTotal, used * 1.35);
    node.t.push(t);
    node.values.heapUsed.push(Math.round(used));
    node.values.heapTotal.push(Math.round(heapTotal));
    node.values.rss.push(Math.round(heapTotal + 52 * MiB + (i % 300) * 2048));
    node.values.external.push(Math.round(2.1 * MiB + (i % 60) * 9000));
    node.values.arrayBuffers.push(Math.round(0.6 * MiB + (i % 20) * 4000));
    if (i % 40 === 39) marks.push({ t: t + 50, targetId: 'node-1', kind: 'gc' });
    if (i % 50 === 5) marks.push({ t, targetId: 'node-1', kind: 'task-start', label: 'sendEmail' });
    if (i % 50 === 35) marks.push({ t, targetId: 'node-1', kind: 'task-end', label: 'sendEmail' });
    if (i % 500 === 40) marks.push({ t, targetId: 'node-1', kind: 'capture' });
  }
  stats.push(node);
  if (python) {
    const py = { targetId: 'py-1', t: [], values: { rss: [], tracedBytes: [], allocatedBlocks: [], gcCollections: [] } };
    for (let i = 0; i < n; i += 5) {
      py.t.push(i * 100 + 30);
      py.values.rss.push(Math.round(71 * MiB + Math.min(i, 3000) * 3000));
      py.values.tracedBytes.push(Math.round(9 * MiB + Math.min(i, 3000) * 1800 + (i % 50) * 5000));
      py.values.allocatedBlocks.push(Math.round(180000 + Math.min(i, 3000) * 12));
      py.values.gcCollections.push(Math.floor(i / 120));
    }
    stats.push(py);
  }
  const leakVerdict = verdict(
    'leak',
    0.94,
    'sendEmail keeps about 2.5 MiB more after every run, and the heap grows in a straight line (R² 0.98 over 120 runs).',
    'Open renderTemplate in templates/cache.ts: its cache of compiled templates is keyed by the message id and never evicted; bound it (an LRU) or key it by template name.',
    [
      'Retained heap after GC grew from 31.2 MiB to 327 MiB over 120 runs',
      'Slope 2.49 MiB/run ± 0.04 MiB',
      '78% of what sendEmail kept was allocated in renderTemplate',
    ],
  );
  const tasks = [
    { name: 'sendEmail', runs: 120, bytesPerRun: 2.49 * MiB, keptPerRun: 2.52 * MiB, rSquared: 0.98, verdict: leakVerdict },
    {
      name: 'resizeImage',
      runs: 118,
      bytesPerRun: 12 * 1024,
      keptPerRun: 64 * 1024,
      rSquared: 0.41,
      verdict: verdict(
        'plateau',
        0.81,
        'resizeImage filled a cache of 24 MiB in the first 30 runs and has not grown since.',
        'Nothing to fix unless 24 MiB is too much; cap the cache size if it is.',
      ),
    },
    {
      name: 'syncInventory',
      runs: 119,
      bytesPerRun: -310,
      keptPerRun: 0,
      rSquared: 0.02,
      verdict: verdict('no-leak', 0.9, 'syncInventory returns the heap to its baseline after every run.', 'Nothing to do.'),
    },
  ];
  const f = (fn, file, line, category = 'user') => ({ function: fn, file: `${ROOT}/${file}`, line, category });
  const site = (fnName, file, line, retained, share, perRun, category = 'user', frames = []) => ({
    key: `${ROOT}/${file}:${line}:${fnName}`,
    function: fnName,
    file: category === 'dependency' ? `${ROOT}/node_modules/${file}` : `${ROOT}/${file}`,
    line,
    column: 1,
    category,
    precision: 'function',
    retainedBytes: retained,
    count: Math.round(retained / 131072),
    share,
    bytesPerRun: perRun,
    stacks: frames.length ? [{ bytes: retained, frames }] : [],
  });
  const sites = [
    site('renderTemplate', 'src/templates/cache.ts', 42, 231 * MiB, 0.71, 1.95 * MiB, 'user', [
      f('renderTemplate', 'src/templates/cache.ts', 42),
      f('buildMessage', 'src/jobs/sendEmail.ts', 88),
      f('sendEmail', 'src/jobs/sendEmail.ts', 17),
      f('runJob', 'src/worker.ts', 130),
      { function: 'processTicksAndRejections', file: 'node:internal/process/task_queues', line: 95, category: 'runtime' },
    ]),
    site('attachListener', 'src/events/bus.ts', 19, 38.4 * MiB, 0.118, 0.31 * MiB, 'user', [
      f('attachListener', 'src/events/bus.ts', 19),
      f('sendEmail', 'src/jobs/sendEmail.ts', 23),
    ]),
    site(HOSTILE_IMG, 'src/plugins/evil.js', 7, 21 * MiB, 0.064, 0.17 * MiB, 'user', [
      f(HOSTILE_IMG, 'src/plugins/evil.js', 7),
      f(HOSTILE_SCRIPT, 'src/plugins/evil.js', 1),
    ]),
    site('Parser.parse', 'mailparser/lib/parser.js', 311, 14.2 * MiB, 0.043, 0.02 * MiB, 'dependency'),
    site(HOSTILE_SCRIPT, 'src/plugins/</script>.js', 3, 9.7 * MiB, 0.03, 0, 'user'),
    site('resizeBuffer', 'src/images/resize.ts', 61, 6.1 * MiB, 0.019, 0.004 * MiB),
    site('', 'src/jobs/sendEmail.ts', 54, 3.3 * MiB, 0.01, 0.001 * MiB),
    site('lookupTemplateName', 'src/templates/registry.ts', 12, 1.2 * MiB, 0.004, undefined),
  ];
  return {
    session: { id: 'preview-1', title: 'worker.js — sendEmail, resizeImage, syncInventory', startedAt: Date.now() - seconds * 1000, mode: 'worker' },
    state: 'running',
    targets,
    stats,
    marks,
    tasks,
    sites,
    verdict: leakVerdict,
    warnings: [],
  };
}

export function emptySnapshot() {
  return {
    session: { id: 'preview-empty', title: 'node worker.js', mode: 'worker' },
    state: 'starting',
    targets: [],
    stats: [],
    marks: [],
    tasks: [],
    sites: [],
    verdict: undefined,
    warnings: [],
  };
}
