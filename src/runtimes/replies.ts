/** What targets answer, checked before the session uses it, and readings taken beside the inspector. */
import { readFileSync } from 'node:fs';
import type { CheckpointReply, CollectReply } from '../cdp/extraProtocol';
import type { RawSamplingProfile } from '../core/model';

/** Counts from a target: names to whole positive numbers; anything else is dropped. */
export function validCounts(raw: unknown): Record<string, number> {
  const counts: Record<string, number> = {};
  if (typeof raw !== 'object' || raw === null) return counts;
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1e9) counts[name.slice(0, 500)] = value;
  }
  return counts;
}

/** Resident set size from /proc/PID/status (VmRSS, in kB whatever the page size; Linux). */
export function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The bootloader's checkpoint reply, or undefined when the process has none (attached) or it is malformed. */
export function checkpointReply(raw: unknown): CheckpointReply | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { code, outsideHeap } = raw as Record<string, unknown>;
  const valid = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  return valid(code) && valid(outsideHeap) ? { code, outsideHeap } : undefined;
}

/** The harness's `collect()` reply (its GC, the heap after it, the checkpoint), or undefined when malformed. */
export function collectReply(raw: unknown): CollectReply | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { usedHeap, checkpoint } = raw as Record<string, unknown>;
  if (typeof usedHeap !== 'number' || !Number.isFinite(usedHeap) || usedHeap < 0) return undefined;
  return { usedHeap, checkpoint: checkpointReply(checkpoint) };
}

/** Script ids a profile names (with a URL) that `isKnown` does not know: scripts loaded since the Debugger last reported them. */
export function unknownScripts(profile: RawSamplingProfile, isKnown: (scriptId: string) => boolean): Set<string> {
  const unknown = new Set<string>();
  const stack = [profile.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const { scriptId, url } = node.callFrame;
    if (url && scriptId !== '0' && !isKnown(scriptId)) unknown.add(scriptId);
    for (const child of node.children) stack.push(child);
  }
  return unknown;
}
