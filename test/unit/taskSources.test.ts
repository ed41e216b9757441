import assert from 'node:assert/strict';
import { pythonTaskSourceNotes } from '../../src/core/taskSources';

describe('taskSources: the report says where Python task marks came from', () => {
  it('says nothing without sources, and ignores names it does not know', () => {
    assert.deepEqual(pythonTaskSourceNotes([]), []);
    assert.deepEqual(pythonTaskSourceNotes(['bullmq']), []);
  });

  it('names each source once, in a fixed order, with how to turn detection off', () => {
    const [note, ...rest] = pythonTaskSourceNotes(['rq', 'celery', 'rq']);
    assert.equal(rest.length, 0);
    assert.match(note, /^Python tasks came from Celery's task signals .*; RQ jobs .*named by function/);
    assert.match(note, /TASKMEM_AUTO_TASKS=0/);
  });

  it('says what overlap does for requests, and why forked RQ jobs have no figures', () => {
    const notes = pythonTaskSourceNotes(['flask', 'rq-fork']);
    assert.ok(notes.some((note) => note.startsWith("Python tasks came from Flask's request signals")));
    assert.ok(notes.some((note) => note.startsWith('Requests overlap: a request is traced only when it can run alone')));
    assert.ok(notes.some((note) => note.startsWith("RQ's default Worker forked a work-horse per job") && note.includes('rq.worker.SimpleWorker')));
    assert.ok(!pythonTaskSourceNotes(['rq']).some((note) => note.startsWith('Requests overlap')));
  });
});
