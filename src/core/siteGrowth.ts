/**
 * Growth per run of each retained site, from successive captures (one capture per run or window).
 */
import { fitGrowth } from './growth';
import type { RetainedSite } from './model';

/**
 * Sets `bytesPerRun` of each site to the least-squares slope of its bytes over `perCapture`
 * (a site missing from a capture had 0 bytes then). With fewer than 2 captures nothing is set.
 */
export function applySiteGrowth(sites: RetainedSite[], perCapture: ReadonlyArray<ReadonlyMap<string, number>>): void {
  if (perCapture.length < 2) return;
  for (const site of sites) {
    const ys = perCapture.map((capture) => capture.get(site.key) ?? 0);
    site.bytesPerRun = fitGrowth(ys)?.slope ?? 0;
  }
}
