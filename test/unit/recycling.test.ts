import { strict as assert } from 'node:assert';
import { isCeleryWorker, recyclingNote } from '../../src/core/recycling';

describe('recyclingNote', () => {
  it('ignores command lines that are not Celery workers', () => {
    assert.equal(recyclingNote(['/usr/bin/python3', 'script.py']), undefined);
    assert.equal(isCeleryWorker(['celery', '-A', 'proj', 'beat']), false);
  });

  it('says the solo pool ignores --max-tasks-per-child, in both option spellings', () => {
    const note = recyclingNote(['/usr/bin/python3', '-m', 'celery', '-A', 'proj', 'worker', '-P', 'solo', '--max-tasks-per-child', '100']);
    assert.match(note ?? '', /solo pool ignores --max-tasks-per-child 100/);
    assert.match(
      recyclingNote(['celery', 'worker', '--pool=threads', '--max-memory-per-child=200000']) ?? '',
      /threads pool ignores --max-memory-per-child 200000 KiB/,
    );
    assert.match(recyclingNote(['celery', 'worker', '-Pgevent']) ?? '', /gevent pool never recycles/);
  });

  it('tells prefork without limits from prefork with them', () => {
    assert.match(recyclingNote(['celery', '-A', 'p', 'worker', '-c', '2']) ?? '', /recycles nothing/);
    assert.match(recyclingNote(['celery', '-A', 'p', 'worker', '--max-tasks-per-child', '50']) ?? '', /recycled \(--max-tasks-per-child 50\)/);
  });
});
