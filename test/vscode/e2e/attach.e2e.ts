// End-to-end through the real UI (issue 17, attach): F1 → "Task Memory: Attach to Process" → the running
// queue consumer picked from the list of Node programs (no inspector open: the session opens it with
// SIGUSR1). The consumer publishes `taskmem:task` marks but has no bootloader, so the task marks are
// installed through the inspector: the panel must list its tasks by name and call the leaking one a
// leak. After Stop, the inspector the session opened is closed and the process runs on. A Python
// worker started with `taskmem env`'s variables is in the same list, as an attachable Python process.
// Screenshots: .test-artifacts/e2e-attach-list.png, e2e-attach.png.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachableEnvironment } from '../../../src/launch/attachable';
import { listeningPorts } from '../../../src/session/attach';
import { REPO_ROOT } from '../lib/codeServer';
import { recordFailure, Workbench } from './workbench';

describe('attach to a running worker from the process list, through the UI (code-server + Chromium)', function () {
  this.timeout(180_000);
  let wb: Workbench | undefined;
  let workspace: string;
  let consumer: ChildProcess | undefined;
  let pythonWorker: ChildProcess | undefined;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-e2e-attach-'));
    const script = path.join(workspace, 'queue-consumer.js');
    fs.copyFileSync(path.join(REPO_ROOT, 'test/fixtures/node/e2e/paced-worker.js'), script);
    const orders = path.join(workspace, 'orders-worker.py');
    fs.copyFileSync(path.join(REPO_ROOT, 'test/fixtures/python/attachable_worker.py'), orders);
    wb = await Workbench.open({ workspace, theme: 'dark', viewport: { width: 1600, height: 1000 } });
    // Started once the editor is up, so the consumer's heap is the same at every attach: opening
    // code-server took up to a minute on a loaded machine, and a consumer that ran that long held
    // 65 MiB, where fewer tasks can be measured one by one and its two tasks were judged together.
    // No inspector until the session opens one; then on a free port, not 9229, which other programs may hold.
    consumer = spawn(process.execPath, ['--inspect-port=127.0.0.1:0', script], {
      cwd: workspace,
      env: { ...process.env, NODE_OPTIONS: '', RUN_MS: '170000' },
      stdio: 'ignore',
    });
    // In the user's attach directory, as the extension host reads it.
    pythonWorker = spawn('/usr/bin/python3', [orders], {
      cwd: workspace,
      env: { ...process.env, ...attachableEnvironment(), RUN_S: '170', PACE_MS: '500' },
      stdio: 'ignore',
    });
  });
  afterEach(async function () {
    await recordFailure(wb, this, 'attach');
  });
  after(async () => {
    await wb?.close();
    consumer?.kill('SIGKILL');
    pythonWorker?.kill('SIGKILL');
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('lists the running consumer, attaches, names its tasks from its own marks, and closes the inspector it opened on Stop', async () => {
    const pid = consumer!.pid!;
    assert.deepEqual(listeningPorts(pid), [], 'no inspector before the session');
    await wb!.runCommand('Task Memory: Attach to Process');
    // The list of running Node programs: this one, by its command line, with what attaching does to it.
    const row = wb!.quickPickRow('queue-consumer.js');
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    const rowText = ((await row.textContent()) ?? '').replace(/\s+/g, ' ');
    assert.match(rowText, new RegExp(`pid ${pid}`), rowText);
    assert.match(rowText, /no inspector yet: it is opened \(SIGUSR1\) and closed again when the session stops/, rowText);
    await row.click();

    const panel = await wb!.waitForWebview(`Memory: attach pid ${pid}`, 60_000, 'table.data');
    const opened = listeningPorts(pid);
    assert.equal(opened.length, 1, `the inspector the session opened: ${opened.join()}`);
    // Task names come from the program's own marks, installed through the inspector: no time windows.
    const taskRow = (name: string) => panel.locator('table.data tbody tr').filter({ has: panel.locator('td.name', { hasText: new RegExp(`^${name}$`) }) });
    await taskRow('validate').waitFor({ timeout: 60_000 });
    await taskRow('ingest').locator('.badge-leak').waitFor({ timeout: 90_000 });
    assert.equal(await taskRow('validate').locator('.badge-leak').count(), 0, 'validate is not a leak');
    assert.equal(await panel.locator('table.data td.name', { hasText: /time window/ }).count(), 0, 'no time windows');
    // The verdict at the top says what the rows say, once the measured tasks split the growth between
    // the names (until then a live banner may judge them together).
    const named = panel.locator('.banner.banner-leak .banner-summary', { hasText: /ingest keeps \+[\d.]+ KiB per task/ });
    await named.waitFor({ timeout: 90_000 }).catch(async () => {
      assert.fail(`the banner never named ingest: ${(await panel.locator('.banner-summary').textContent()) ?? ''}`);
    });
    await wb!.screenshotElement(panel, 'table.data', 'e2e-attach-tasks');
    await wb!.screenshot('e2e-attach');

    // Why it is kept, on demand: the first press reads the heap, the next explains what the tasks since kept.
    const whyButton = panel.locator('button', { hasText: 'Why Is It Kept?' });
    await whyButton.click();
    await wb!.page
      .locator('.notification-toast', { hasText: /the heap of pid \d+ is read/ })
      .first()
      .waitFor({ timeout: 60_000 });
    await wb!.page.waitForTimeout(1500); // the consumer runs more tasks
    await whyButton.click();
    const whyCard = panel.locator('.why-card');
    await whyCard.waitFor({ state: 'visible', timeout: 60_000 });
    const chain = ((await whyCard.locator('.why-path').first().textContent()) ?? '').replace(/\s+/g, ' ');
    assert.match(chain, /ingested\s*Array\s*\[\]\s*Object/, chain);
    const source = fs.readFileSync(path.join(workspace, 'queue-consumer.js'), 'utf8').split('\n');
    const pushLine = source.findIndex((line) => line.includes('ingested.push(')) + 1;
    const link = (await whyCard.locator('.why-line button.link').first().textContent()) ?? '';
    assert.match(link, new RegExp(`^ingested\\.push \\((.*/)?queue-consumer\\.js:${pushLine}\\)$`), link);
    await wb!.screenshotElement(panel, '.why-card', 'e2e-why-worker');

    await panel.locator('button', { hasText: 'Stop' }).first().click();
    await panel.locator('.state-pill.state-ended').waitFor({ timeout: 30_000 });
    // The session closes the inspector it opened (the process keeps running).
    let ports = listeningPorts(pid);
    for (let i = 0; i < 50 && ports.length; i++) {
      await wb!.page.waitForTimeout(200);
      ports = listeningPorts(pid);
    }
    assert.deepEqual(ports, [], 'the inspector is closed after Stop');
    assert.equal(consumer!.exitCode, null, 'the consumer still runs');

    // The Python worker started with the agent's environment is offered too, as what it is (asked
    // after the session: while it measures, the consumer's verdict must not share the machine with more).
    await wb!.runCommand('Task Memory: Attach to Process');
    const pythonRow = wb!.quickPickRow('orders-worker.py');
    await pythonRow.waitFor({ state: 'visible', timeout: 20_000 });
    const pythonText = ((await pythonRow.textContent()) ?? '').replace(/\s+/g, ' ');
    assert.match(pythonText, new RegExp(`pid ${pythonWorker!.pid} · Python`), pythonText);
    assert.match(pythonText, /started with the agent \(taskmem env\): attaching connects to it/, pythonText);
    await wb!.screenshot('e2e-attach-list');
    await wb!.page.keyboard.press('Escape');
  });
});
