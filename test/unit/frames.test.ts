import assert from 'node:assert/strict';
import { classifyFrame, isUnder, urlToPath } from '../../src/core/frames';

describe('frames', () => {
  describe('urlToPath', () => {
    it('decodes file URLs', () => {
      assert.equal(urlToPath('file:///home/me/my%20app/index.js'), '/home/me/my app/index.js');
      assert.equal(urlToPath('file://localhost/etc/x.js'), '/etc/x.js');
      assert.equal(urlToPath('file:///C:/proj/a%23b.ts'), 'C:/proj/a#b.ts');
      assert.equal(urlToPath('file://server/share/x.js'), '//server/share/x.js');
    });
    it('leaves other strings alone', () => {
      assert.equal(urlToPath('/plain/path.js'), '/plain/path.js');
      assert.equal(urlToPath('node:internal/timers'), 'node:internal/timers');
      assert.equal(urlToPath('webpack://app/src/x.ts'), 'webpack://app/src/x.ts');
      assert.equal(urlToPath(''), '');
    });
    it('keeps malformed escapes instead of throwing', () => {
      assert.equal(urlToPath('file:///a/%E0%A4%A'), '/a/%E0%A4%A');
    });
  });

  describe('classifyFrame', () => {
    const profilerPaths = ['/opt/taskmem/dist', '/opt/agent/taskmem_agent/'];
    it('recognises runtime frames', () => {
      assert.equal(classifyFrame('', 'whatever'), 'runtime');
      for (const name of ['(root)', '(program)', '(garbage collector)', '(idle)', '(V8 API)']) {
        assert.equal(classifyFrame('', name), 'runtime', name);
      }
      assert.equal(classifyFrame('node:internal/modules/cjs/loader', 'load'), 'runtime');
      assert.equal(classifyFrame('internal/timers.js', 'listOnTimeout'), 'runtime');
      assert.equal(classifyFrame('/usr/lib/python3.11/json/decoder.py', 'decode'), 'runtime');
      assert.equal(classifyFrame('<frozen importlib._bootstrap>', '_load'), 'runtime');
    });
    it('recognises dependencies', () => {
      assert.equal(classifyFrame('/app/node_modules/lodash/lodash.js', 'cloneDeep'), 'dependency');
      assert.equal(classifyFrame('file:///app/node_modules/x/index.js', 'f'), 'dependency');
      assert.equal(classifyFrame('/usr/lib/python3.11/site-packages/celery/app/task.py', 'run'), 'dependency');
      assert.equal(classifyFrame('/usr/lib/python3/dist-packages/redis/client.py', 'get'), 'dependency');
      assert.equal(classifyFrame('C:\\app\\node_modules\\x\\i.js', 'f'), 'dependency');
    });
    it('recognises our own injected code by prefix, on segment boundaries', () => {
      assert.equal(classifyFrame('/opt/taskmem/dist/bootloader.js', 'open', { profilerPaths }), 'profiler');
      assert.equal(classifyFrame('/opt/agent/taskmem_agent/server.py', 'serve', { profilerPaths }), 'profiler');
      assert.equal(classifyFrame('/opt/taskmem/distant/x.js', 'f', { profilerPaths }), 'user');
    });
    it('treats everything else as user code', () => {
      assert.equal(classifyFrame('/app/src/orders.ts', 'processOrder'), 'user');
      assert.equal(classifyFrame('/home/me/lib/python_tools/x.py', 'f'), 'user');
      assert.equal(classifyFrame('/srv/app/tasks.py', '<module>'), 'user');
    });
  });

  it('isUnder respects path segments', () => {
    assert.equal(isUnder('/a/b/c', '/a/b'), true);
    assert.equal(isUnder('/a/b', '/a/b'), true);
    assert.equal(isUnder('/a/bc', '/a/b'), false);
    assert.equal(isUnder('/a/b', ''), false);
  });
});
