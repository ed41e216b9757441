import assert from 'node:assert/strict';
import { describeTaskSources, isTaskSource } from '../../src/core/taskSources';
import { jobTaskName } from '../../src/launch/jobTasks';
import { requestTaskName, routeHandlers } from '../../src/launch/httpTasks';

describe('where tasks came from, and how found tasks are named', () => {
  it('describes the sources in a fixed order, unknown ones by their name', () => {
    assert.equal(describeTaskSources([]), undefined);
    assert.match(describeTaskSources(['http']) ?? '', /^HTTP requests \(Node's http diagnostics channels/);
    assert.match(describeTaskSources(['windows', 'bullmq', 'marks']) ?? '', /^the program's own taskmem:task marks, BullMQ jobs .* and fixed time windows/);
    assert.equal(describeTaskSources(['rq', 'rq']), 'rq tasks');
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
