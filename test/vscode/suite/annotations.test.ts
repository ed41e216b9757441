// Editor annotations in a real extension host: profile examples/node/ts/orders.ts#processOrder
// through the extension's own command, then check the decoration model, the hover, the code lenses,
// RevealSource, toggling and edits.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AnnotationsApi } from '../../../src/extension/annotations';
import { registerAnnotations } from '../../../src/extension/annotations';
import type { SessionRegistry } from '../../../src/extension/sessionRegistry';
import type { ProfilingSessionApi } from '../../../src/session/api';
import { EXTENSION_ID } from '../config';
import { testConfig, waitFor } from './testConfig';

interface ExtensionExports {
  sessions?: SessionRegistry;
  annotations?: AnnotationsApi;
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

/** examples/node/ts/orders.ts without types, processOrder on the same line (10). */
const ORDERS_JS = [
  '// JavaScript twin of examples/node/ts/orders.ts for the edit test.',
  "'use strict';",
  '',
  '',
  '',
  '',
  'const auditLog = [];',
  'let nextId = 0;',
  '',
  'function processOrder() {',
  '  const order = { id: ++nextId, lines: [] };',
  '  for (let i = 0; i < 400; i++) order.lines.push(`line ${i} of order ${order.id}`);',
  '  auditLog.push(order);',
  '  return order.lines.length;',
  '}',
  'module.exports = { processOrder };',
  '',
].join('\n');

describe('Editor annotations', function () {
  this.timeout(180_000);
  const file = path.join(testConfig().repoRoot, 'examples/node/ts/orders.ts');
  const uri = vscode.Uri.file(file);
  let api: AnnotationsApi;
  let ownSubscriptions: vscode.Disposable[] = [];
  let session: ProfilingSessionApi | undefined;

  before(async () => {
    const ext = vscode.extensions.getExtension<ExtensionExports>(EXTENSION_ID);
    assert.ok(ext);
    const exports = await ext.activate();
    if (exports?.annotations) {
      api = exports.annotations;
    } else {
      // The extension does not expose the annotations (yet): register them on its session registry.
      assert.ok(exports?.sessions, 'the extension exports neither `annotations` nor `sessions`');
      const registered = await vscode.commands.getCommands(true);
      assert.ok(
        !registered.includes('taskMemory.toggleAnnotations'),
        'annotations are registered but not exported: return registerAnnotations(...) as `annotations` from activate()',
      );
      const context = { subscriptions: ownSubscriptions } as unknown as vscode.ExtensionContext;
      api = registerAnnotations(context, exports.sessions);
    }
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  });

  after(async () => {
    for (const d of ownSubscriptions) d.dispose();
    ownSubscriptions = [];
    // never leave edits in the example
    const document = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (document?.isDirty) {
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  });

  it('marks processOrder (line 10) after profiling it with taskMemory.profileFunction', async () => {
    session = await vscode.commands.executeCommand<ProfilingSessionApi | undefined>('taskMemory.profileFunction', uri, 'processOrder');
    assert.ok(session, 'taskMemory.profileFunction returned no session');
    const report = await session.done;
    assert.ok(
      report.sites.some((s) => s.file === file),
      `no site in orders.ts: sites [${report.sites.map((s) => `${s.file}:${s.line}`).join(', ')}], end: ${report.endReason}, warnings: ${report.warnings.join(' / ')}, notes: ${report.notes.join(' / ')}`,
    );
    const mark = await waitFor('an annotation on processOrder', () => api.modelFor(file).find((a) => a.line === 9));
    assert.equal(mark.kind, 'site');
    assert.equal(mark.capturedLine, 10);
    // Short beside a half-width panel: what was kept and its growth; the function and share are in the hover.
    assert.match(mark.text, /^▲ [\d.]+ (KiB|MiB) kept( · [+±-][\d.]+ (B|KiB|MiB)\/run)?$/);
    assert.equal(mark.sites[0].precision, 'function');
  });

  it('hovers the decorated line with figures, trusted stack links and "Show in panel"', async () => {
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(9, 18));
    const text = hoverText(hovers);
    assert.match(text, /kept · .*of retained memory/);
    assert.match(text, /V8 attributes per function/);
    assert.ok(text.includes('command:taskMemory.revealSource?'), text);
    assert.ok(text.includes('[Show in panel](command:taskMemory.showSiteInPanel?'), text);
    const ours = hovers
      .flatMap((h) => h.contents)
      .find((c): c is vscode.MarkdownString => typeof c !== 'string' && 'isTrusted' in c && c.value.includes('Show in panel'));
    if (ours && typeof ours.isTrusted === 'object')
      assert.deepEqual([...(ours.isTrusted.enabledCommands ?? [])].sort(), ['taskMemory.revealSource', 'taskMemory.showSiteInPanel']);
    const none = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(6, 8));
    assert.ok(!hoverText(none).includes('Show in panel'), 'hover on an undecorated line');
  });

  it('shows "Profile Task" and the measured growth as code lenses above processOrder', async () => {
    let titles: string[] = [];
    const deadline = Date.now() + 10_000;
    let found: vscode.CodeLens[] = [];
    do {
      found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
      titles = found.map((l) => l.command?.title ?? '');
      if (titles.some((t) => t.startsWith('kept '))) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    } while (Date.now() < deadline);
    const profile = found.find((l) => l.command?.command === 'taskMemory.profileFunction');
    assert.ok(profile, `lenses: ${titles.join(' | ')}`);
    assert.equal(profile.range.start.line, 9);
    assert.deepEqual(profile.command!.arguments?.map(String), [uri.toString(), 'processOrder']);
    const kept = found.find((l) => l.command?.command === 'taskMemory.showTaskInPanel');
    assert.ok(kept, `lenses: ${titles.join(' | ')}`);
    assert.match(kept.command!.title, /^kept [+±-][\d.]+ (B|KiB|MiB)\/run \(/);
    assert.deepEqual(kept.command!.arguments, ['processOrder', session!.id]);
  });

  it('RevealSource opens the file and centres the line', async () => {
    await vscode.commands.executeCommand('taskMemory.revealSource', file, 13);
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor);
    assert.equal(editor.document.uri.fsPath, file);
    assert.equal(editor.selection.active.line, 12);
  });

  it('Task Memory: Toggle Annotations clears the model and brings it back', async () => {
    assert.ok(api.modelFor(file).length > 0);
    await vscode.commands.executeCommand('taskMemory.toggleAnnotations');
    assert.equal(api.enabled, false);
    assert.deepEqual(api.modelFor(file), []);
    assert.equal(vscode.workspace.getConfiguration('taskMemory').get('annotations.enabled'), false);
    await vscode.commands.executeCommand('taskMemory.toggleAnnotations');
    assert.equal(api.enabled, true);
    assert.ok(api.modelFor(file).some((a) => a.line === 9));
  });

  it('moves marks with edits above them and drops the mark of an edited line (on a copy of orders.ts)', async () => {
    // Edits happen on a JavaScript twin in the run's scratch folder (no tsx there): the example
    // itself is never modified, even if a later test saves dirty documents.
    const copy = path.join(testConfig().tmpDir, 'annotations-edit', 'orders.js');
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.writeFileSync(copy, ORDERS_JS);
    const copyUri = vscode.Uri.file(copy);
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(copyUri), { preview: false });
    const copySession = await vscode.commands.executeCommand<ProfilingSessionApi | undefined>('taskMemory.profileFunction', copyUri, 'processOrder');
    assert.ok(copySession);
    await copySession.done;
    await waitFor('an annotation on the copy', () => api.modelFor(copy).find((a) => a.line === 9));
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), '// one\n// two\n'));
    const moved = await waitFor('the mark to move down two lines', () => api.modelFor(copy).find((a) => a.line === 11));
    assert.equal(moved.fileChanged, true);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', copyUri, new vscode.Position(11, 18));
    assert.match(hoverText(hovers), /file changed since the capture/);
    // Enter at the end of the marked line keeps its mark
    await editor.edit((b) => b.insert(editor.document.lineAt(11).range.end, '\n'));
    await waitFor('the mark to stay on its line', () => api.modelFor(copy).find((a) => a.line === 11));
    await editor.edit((b) => b.insert(new vscode.Position(11, 0), ' '));
    await waitFor('the mark of the edited line to go', () => !api.modelFor(copy).some((a) => a.line === 11) || undefined);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('profiling the same task again reuses its tab; closing the panel keeps the results (marks, "kept" lens), and Show Panel reopens it', async () => {
    const ext = vscode.extensions.getExtension<ExtensionExports>(EXTENSION_ID);
    const sessions = ext?.exports?.sessions;
    assert.ok(sessions);
    const memoryTabs = () =>
      vscode.window.tabGroups.all
        .flatMap((group) => group.tabs)
        .filter((tab) => tab.label.startsWith('Memory:') && tab.label.includes('orders.ts#processOrder'));
    // The first test's session of orders.ts has ended with its tab open; profile the same task again.
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const again = await vscode.commands.executeCommand<ProfilingSessionApi | undefined>('taskMemory.profileFunction', uri, 'processOrder');
    assert.ok(again);
    await again.done;
    await waitFor('one tab for the task', () => memoryTabs().length === 1 || undefined);
    const marks = await waitFor('marks of the new run', () => api.modelFor(file).length || undefined);

    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the panel to close', () => memoryTabs().length === 0 || undefined);
    assert.equal(sessions.active, again, 'the session outlives its panel');
    assert.equal(api.modelFor(file).length, marks, 'the marks outlive the panel');
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
    assert.ok(
      lenses.some((l) => l.command?.command === 'taskMemory.showTaskInPanel'),
      'the "kept" lens outlives the panel',
    );
    await vscode.commands.executeCommand('taskMemory.showPanel');
    await waitFor('Show Panel to reopen the session', () => memoryTabs().length === 1 || undefined);
  });
});
