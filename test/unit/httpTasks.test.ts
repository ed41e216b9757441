import assert from 'node:assert/strict';
import { collapsePath, isRequestTaskName, requestTaskName } from '../../src/launch/httpTasks';

describe('httpTasks: an HTTP request as a task, named by method and route', () => {
  it('collapses ids in paths and drops the query', () => {
    assert.equal(collapsePath('/users/42/orders?page=2'), '/users/:id/orders');
    assert.equal(collapsePath('/orders/3f2b8c1e-9a7d-4e2b-8c1e-9a7d4e2b8c1e'), '/orders/:id');
    assert.equal(collapsePath('/blobs/a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'), '/blobs/:id');
    assert.equal(collapsePath('/s/abcDEF123456ghiJKL7890x'), '/s/:id');
    assert.equal(collapsePath('/login'), '/login');
    assert.equal(collapsePath('/api/v2/health-check'), '/api/v2/health-check');
    assert.equal(collapsePath(''), '/');
    assert.equal(collapsePath('?x=1'), '/');
  });

  it("names a request by its method and the framework's route (Express), else its collapsed path", () => {
    assert.equal(requestTaskName({ method: 'get', url: '/users/7' }), 'GET /users/:id');
    assert.equal(
      requestTaskName({ method: 'POST', url: '/users/7', originalUrl: '/api/users/7', baseUrl: '/api', route: { path: '/users/:userId' } }),
      'POST /api/users/:userId',
    );
    assert.equal(requestTaskName({ method: 'GET', originalUrl: '/api/users/7?x=1', url: '/users/7' }), 'GET /api/users/:id');
    assert.equal(requestTaskName({}), 'HTTP /');
  });

  it("tells a request's task name from a program's own", () => {
    assert.equal(isRequestTaskName('GET /users/:id'), true);
    assert.equal(isRequestTaskName('HTTP /'), true);
    assert.equal(isRequestTaskName('record-shipment'), false);
    assert.equal(isRequestTaskName('GET-report'), false);
  });

  it('keeps names short whatever the path', () => {
    assert.ok(requestTaskName({ method: 'GET', url: `/${'a/'.repeat(500)}` }).length <= 120);
  });
});
