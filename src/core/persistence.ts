/**
 * Persistence probes of Python worker tasks (agents/python/taskmem_agent/persist.py): now and then
 * the agent holds the objects alive at a traced task's kept sites and, some tasks later, reads how
 * many bytes of them something besides the probe still references. A server's leftovers of a
 * finished request are gone by then; what a list or cache keeps is not.
 */
import { formatBytes, plural } from './format';
import { median } from './robust';

export interface PersistenceProbe {
  aliveBytes: number;
  probedBytes: number;
}

/** Probes a figure stands on: fewer say nothing. */
export const MIN_PROBES = 3;
/** A median share still referenced at or under this: what the task's traced runs keep is freed later. */
export const FREED_SHARE = 0.2;

/** The probes of a `Taskmem.taskFinished` event, or undefined: a target's numbers are checked, not trusted. */
export function validProbes(raw: unknown): PersistenceProbe[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const probes: PersistenceProbe[] = [];
  for (const item of raw.slice(0, 64)) {
    const { aliveBytes, probedBytes } = (item ?? {}) as { aliveBytes?: unknown; probedBytes?: unknown };
    if (typeof aliveBytes !== 'number' || typeof probedBytes !== 'number') continue;
    if (!(probedBytes > 0) || !(aliveBytes >= 0) || aliveBytes > probedBytes || !Number.isFinite(probedBytes)) continue;
    probes.push({ aliveBytes, probedBytes });
  }
  return probes.length ? probes : undefined;
}

export interface Persistence {
  probes: number;
  /** Median share of the probed bytes still referenced when read. */
  share: number;
  /** Probes where nothing was referenced any more. */
  freed: number;
}

/** What a name's probes found, or undefined with fewer than MIN_PROBES. */
export function persistenceOf(probes: readonly PersistenceProbe[]): Persistence | undefined {
  if (probes.length < MIN_PROBES) return undefined;
  return {
    probes: probes.length,
    share: median(probes.map((probe) => probe.aliveBytes / probe.probedBytes)),
    freed: probes.filter((probe) => probe.aliveBytes === 0).length,
  };
}

/** One line of evidence: what the probes found. */
export function describePersistence(found: Persistence): string {
  return (
    `persistence probes: ${found.freed} of ${plural(found.probes, 'probe')} found nothing of what a traced run kept still referenced some tasks later; ` +
    `median share still referenced ${Math.round(found.share * 100)}%`
  );
}

/** The summary of a name whose small traced figure the probes show freed later. */
export function freedLaterSummary(typical: number, found: Persistence): string {
  return (
    `Its typical traced run keeps +${formatBytes(typical)} when it is settled, and that memory was no longer referenced some tasks later ` +
    `(${found.freed} of ${plural(found.probes, 'probe')} found none of it, median ${Math.round(found.share * 100)}%): ` +
    `the server's or worker's own leftovers, freed later, not a leak.`
  );
}
