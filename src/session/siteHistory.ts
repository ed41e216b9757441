/**
 * Retained sites across captures and targets: each capture of each target is aggregated (with
 * that target's source maps), the latest per target are merged into one list, and every capture's
 * per-site bytes are kept against a progress figure (runs or finished tasks) for growth per run.
 */
import type { RawSamplingProfile, RetainedSite, SourceMapper } from '../core/model';
import { fitGrowth } from '../core/growth';
import { aggregateSites, aggregateSitesAsync, type SiteAggregation } from '../core/sites';

const MAX_HISTORY_POINTS = 240;

interface HistoryPoint {
  progress: number;
  bytes: Map<string, number>;
}

export class SiteHistory {
  private readonly latest = new Map<string, SiteAggregation>();
  private readonly history = new Map<string, HistoryPoint[]>();
  private merged: SiteAggregation | undefined;

  constructor(private readonly profilerPaths: string[]) {}

  /** Aggregates one target's capture; `progress` is the run or task count it was taken at. */
  add(
    targetId: string,
    precision: RetainedSite['precision'],
    profile: RawSamplingProfile,
    progress: number,
    mapper: SourceMapper | undefined,
    minOrdinalExclusive?: number,
  ): SiteAggregation {
    return this.store(targetId, progress, aggregateSites(profile, { precision, mapper, minOrdinalExclusive, profilerPaths: this.profilerPaths }));
  }

  /** `add` in time slices: a million-node profile must not stall the extension host. */
  async addAsync(
    targetId: string,
    precision: RetainedSite['precision'],
    profile: RawSamplingProfile,
    progress: number,
    mapper: SourceMapper | undefined,
    minOrdinalExclusive?: number,
  ): Promise<SiteAggregation> {
    return this.store(targetId, progress, await aggregateSitesAsync(profile, { precision, mapper, minOrdinalExclusive, profilerPaths: this.profilerPaths }));
  }

  private store(targetId: string, progress: number, aggregation: SiteAggregation): SiteAggregation {
    this.latest.set(targetId, aggregation);
    const points = this.history.get(targetId) ?? [];
    points.push({ progress, bytes: new Map(aggregation.sites.map((site) => [site.key, site.retainedBytes])) });
    // A day of 10 s captures would be 8,640 points per target; growth needs only a recent window.
    if (points.length > MAX_HISTORY_POINTS) points.splice(0, points.length - MAX_HISTORY_POINTS);
    this.history.set(targetId, points);
    this.merged = undefined;
    return aggregation;
  }

  /** The latest capture of every target, merged by site key, with growth per run filled in. */
  current(): SiteAggregation | undefined {
    if (this.merged) return this.merged;
    const aggregations = [...this.latest.values()];
    if (!aggregations.length) return undefined;
    const byKey = new Map<string, RetainedSite>();
    const result: SiteAggregation = {
      sites: [],
      totalBytes: 0,
      byCategory: { user: 0, dependency: 0, runtime: 0, profiler: 0 },
      maxOrdinal: 0,
      sampleCount: 0,
    };
    for (const aggregation of aggregations) {
      result.totalBytes += aggregation.totalBytes;
      result.sampleCount += aggregation.sampleCount;
      result.maxOrdinal = Math.max(result.maxOrdinal, aggregation.maxOrdinal);
      for (const category of Object.keys(result.byCategory) as Array<keyof typeof result.byCategory>) {
        result.byCategory[category] += aggregation.byCategory[category] ?? 0;
      }
      for (const site of aggregation.sites) {
        const existing = byKey.get(site.key);
        if (!existing) {
          byKey.set(site.key, { ...site, stacks: [...site.stacks], callers: [...site.callers] });
        } else {
          existing.retainedBytes += site.retainedBytes;
          existing.count += site.count;
          existing.stacks.push(...site.stacks);
          existing.callers.push(...site.callers);
        }
      }
    }
    const growth = this.growthByKey();
    for (const site of byKey.values()) {
      site.share = result.totalBytes > 0 ? site.retainedBytes / result.totalBytes : 0;
      site.stacks.sort((a, b) => b.bytes - a.bytes).splice(3);
      site.callers.sort((a, b) => b.bytes - a.bytes).splice(5);
      site.bytesPerRun = growth.get(site.key);
    }
    result.sites = [...byKey.values()].sort((a, b) => b.retainedBytes - a.retainedBytes || a.key.localeCompare(b.key));
    this.merged = result;
    return result;
  }

  /** Least-squares growth of each site's bytes against progress, summed over targets. */
  private growthByKey(): Map<string, number> {
    const growth = new Map<string, number>();
    for (const points of this.history.values()) {
      if (points.length < 2) continue;
      const keys = new Set<string>();
      for (const point of points) for (const key of point.bytes.keys()) keys.add(key);
      const xs = points.map((point) => point.progress);
      for (const key of keys) {
        const fit = fitGrowth(
          points.map((point) => point.bytes.get(key) ?? 0),
          xs,
        );
        if (fit && Number.isFinite(fit.slope)) growth.set(key, (growth.get(key) ?? 0) + fit.slope);
      }
    }
    return growth;
  }
}
