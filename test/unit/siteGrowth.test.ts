import assert from 'node:assert/strict';
import type { RetainedSite } from '../../src/core/model';
import { applySiteGrowth } from '../../src/core/siteGrowth';

function site(key: string): RetainedSite {
  return {
    key,
    function: key,
    file: '/a.js',
    line: 1,
    column: 1,
    category: 'user',
    precision: 'function',
    retainedBytes: 0,
    count: 0,
    share: 0,
    stacks: [],
    callers: [],
  };
}

describe('applySiteGrowth', () => {
  it('sets the least-squares slope per site, missing captures counting as 0', () => {
    const sites = [site('grow'), site('flat'), site('late')];
    const captures = [
      new Map([
        ['grow', 1000],
        ['flat', 500],
      ]),
      new Map([
        ['grow', 2000],
        ['flat', 500],
      ]),
      new Map([
        ['grow', 3000],
        ['flat', 500],
        ['late', 300],
      ]),
    ];
    applySiteGrowth(sites, captures);
    assert.equal(sites[0].bytesPerRun, 1000);
    assert.equal(sites[1].bytesPerRun, 0);
    assert.equal(sites[2].bytesPerRun, 150); // 0, 0, 300
  });

  it('leaves bytesPerRun undefined with fewer than 2 captures', () => {
    const sites = [site('a')];
    applySiteGrowth(sites, [new Map([['a', 10]])]);
    assert.equal(sites[0].bytesPerRun, undefined);
    applySiteGrowth(sites, []);
    assert.equal(sites[0].bytesPerRun, undefined);
  });
});
