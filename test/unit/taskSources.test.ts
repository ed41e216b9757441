import assert from 'node:assert/strict';
import { describeTaskSources, isTaskSource, pythonTaskSourceNotes } from '../../src/core/taskSources';
import { jobTaskName } from '../../src/launch/jobTasks';
import { requestTaskName, routeHandlers } from '../../src/launch/httpTasks';

describe('where tasks came from, and how found tasks are named', () => {
  it('describes the sources in a fixed order, unknown ones by their name', () => {
    assert.equal(describeTaskSources([]), undefined);
    assert.match(describeTaskSources(['http']) ?? '', /^HTTP requests \(Node's http diagnostics channels/);
    assert.match(describeTaskSources(['windows', 'bullmq', 'marks']) ?? '', /^the program's own taskmem:task marks, BullMQ jobs .* and fixed time windows/);
    assert.match(describeTaskSources(['rq', 'rq']) ?? '', /^RQ jobs/);
    assert.equal(describeTaskSources(['beanstalk']), 'beanstalk tasks');
  });

  it('accepts only short lower-case source names from a target', () => {
    assert.equal(isTaskSource('bullmq'), true);
    assert.equal(isTaskSource('python-agent'), true);
    assert.equal(isTaskSource('<script>'), false);
    assert.equal(isTaskSource('HTTP'), false);
    assert.equal(isTaskSource('x'.repeat(40)), false);
    assert.equal(isTaskSource(3), false);
  });

  it('names a BullMQ job by its queue and its name', () => {
    assert.equal(jobTaskName('emails', { name: 'send' }), 'emails:send');
    assert.equal(jobTaskName(undefined, {}), 'queue:job');
    assert.equal(jobTaskName('q', { name: 'x'.repeat(300) }).length, 120);
  });

  it("names a request by the route a framework told (Fastify's handler channel) over its path", () => {
    assert.equal(requestTaskName({ method: 'POST', url: '/api/users/alice/sessions' }, '/api/users/:name/sessions'), 'POST /api/users/:name/sessions');
    assert.equal(requestTaskName({ method: 'POST', url: '/api/users/alice/sessions' }), 'POST /api/users/alice/sessions');
  });

  it("reads a route's named handlers: Express's route stack, or the one a framework told", () => {
    function createSession(): void {}
    const bound = function showUser(): void {}.bind(null);
    // As Express gets an inline arrow: an argument, so it has no name.
    const anonymous = [() => undefined][0];
    const route = { path: '/x', stack: [{ handle: createSession }, { handle: anonymous }, { handle: bound }, {}] };
    assert.deepEqual(routeHandlers({ route }), ['createSession', 'showUser']);
    assert.deepEqual(
      routeHandlers({}, function list(): void {}),
      ['list'],
    );
    assert.deepEqual(routeHandlers({ route: { stack: 'nope' } }, 42), []);
  });
});

describe('taskSources: the report says where Python task marks came from', () => {
  it('says nothing without sources, and ignores names it does not know', () => {
    assert.deepEqual(pythonTaskSourceNotes([]), []);
    assert.deepEqual(pythonTaskSourceNotes(['bullmq']), []);
  });

  it('names each source once, in a fixed order, with how to turn detection off', () => {
    const [note, ...rest] = pythonTaskSourceNotes(['rq', 'celery', 'rq']);
    assert.equal(rest.length, 0);
    assert.match(note, /^Python tasks came from Celery's task signals .*; RQ jobs .*named by function/);
    assert.match(note, /--no-auto-tasks, the setting taskMemory.autoTasks or TASKMEM_AUTO_TASKS=0 turns this off/);
  });

  it('says what overlap does for requests, and why forked RQ jobs have no figures', () => {
    const notes = pythonTaskSourceNotes(['flask', 'rq-fork']);
    assert.ok(notes.some((note) => note.startsWith("Python tasks came from Flask's request signals")));
    assert.ok(notes.some((note) => note.startsWith('Requests overlap: a request is traced only when it can run alone')));
    assert.ok(notes.some((note) => note.startsWith("RQ's default Worker forked a work-horse per job") && note.includes('rq.worker.SimpleWorker')));
    assert.ok(!pythonTaskSourceNotes(['rq']).some((note) => note.startsWith('Requests overlap')));
  });
});
