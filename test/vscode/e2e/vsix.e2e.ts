// What ships is what is tested: `npm run package` makes the .vsix, code-server installs it
// (`--install-extension`, no extension under development), and "Task Memory: Profile Task" from the
// palette profiles a job handler in a workspace outside the repository: the panel names enrichOrder
// and calls it a leak. The profiled process runs the bootloader and harness from the installed copy.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../lib/codeServer';
import { recordFailure, Workbench } from './workbench';

describe('the installed .vsix in code-server', function () {
  this.timeout(240_000);
  let wb: Workbench | undefined;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-e2e-vsix-'));
    const vsix = path.join(dir, 'task-memory-profiler.vsix');
    const packaged = spawnSync('npm', ['run', 'package', '--', '--out', vsix], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 150_000,
    });
    assert.equal(packaged.status, 0, `${packaged.stdout}\n${packaged.stderr}`);
    const workspace = path.join(dir, 'workspace');
    fs.mkdirSync(workspace);
    fs.copyFileSync(path.join(REPO_ROOT, 'examples/node/leaky-worker.js'), path.join(workspace, 'leaky-worker.js'));
    wb = await Workbench.open({ workspace, vsix, theme: 'dark', viewport: { width: 1600, height: 1000 } });
  });
  afterEach(async function () {
    await recordFailure(wb, this, 'vsix');
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is installed from the .vsix, and Profile Task from the palette finds the leak', async () => {
    const installed = fs.readdirSync(path.join(wb!.server.tmpDir, 'extensions')).filter((name) => name.startsWith('task-memory.task-memory-profiler-'));
    assert.equal(installed.length, 1, "the .vsix is installed in the run's extensions dir");
    const page = wb!.page;
    await wb!.openFile('leaky-worker.js');
    await wb!.runCommand('Task Memory: Profile Task', 60_000);
    const handleJob = wb!.quickPickRow('handleJob');
    await handleJob.waitFor({ state: 'visible', timeout: 20_000 });
    await handleJob.click();
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.waitForFunction(
      () => /^\d+, \d+$/.test(document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    await input.press('Enter');
    const panel = await wb!.waitForWebview('Memory: leaky-worker.js#handleJob', 120_000, '.state-pill.state-ended');
    await panel.locator('table.sites td.name', { hasText: 'enrichOrder' }).first().waitFor({ timeout: 10_000 });
    await panel.locator('.banner.banner-leak').waitFor({ timeout: 10_000 });
  });
});
