/**
 * A `WhyRetained` answer from a process we profile (the Python agent) is checked field by field:
 * what does not have the shape is left out, never passed on to the report or the panel.
 */
import type { HoldingLine, RetainerEdgeKind, RetainerGroup, RetainerStep, WhyRetained } from './model';

const EDGE_KINDS: readonly RetainerEdgeKind[] = ['variable', 'property', 'element', 'entry', 'listener', 'internal'];
/** Text from a profiled program is cut to this length (a path step, a file name). */
const MAX_TEXT = 300;

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value.slice(0, MAX_TEXT) : undefined);

function step(raw: unknown): RetainerStep | undefined {
  if (!isObject(raw)) return undefined;
  const edge = text(raw.edge);
  const holder = text(raw.holder);
  const kind = EDGE_KINDS.find((k) => k === raw.kind);
  return edge !== undefined && holder !== undefined && kind ? { edge, kind, holder } : undefined;
}

function holdingLine(raw: unknown): HoldingLine | undefined {
  if (!isObject(raw)) return undefined;
  const file = text(raw.file);
  const operation = text(raw.operation);
  const confidence = raw.confidence === 'exact' || raw.confidence === 'likely' ? raw.confidence : undefined;
  if (!file || operation === undefined || !confidence) return undefined;
  if (!Number.isInteger(raw.line) || (raw.line as number) < 1 || !Number.isInteger(raw.candidates) || (raw.candidates as number) < 1) return undefined;
  return { file, line: raw.line as number, operation, confidence, candidates: raw.candidates as number };
}

function group(raw: unknown): RetainerGroup | undefined {
  if (!isObject(raw) || !Array.isArray(raw.path)) return undefined;
  const path = raw.path.map(step);
  if (path.length === 0 || path.some((s) => s === undefined)) return undefined;
  const { objects, bytes, bytesPerRun, entriesPerRun } = raw;
  if (!isCount(objects) || !isCount(bytes) || !isCount(bytesPerRun) || !isCount(entriesPerRun)) return undefined;
  const line = holdingLine(raw.holdingLine);
  return { path: path as RetainerStep[], objects, bytes, bytesPerRun, entriesPerRun, ...(line ? { holdingLine: line } : {}) };
}

/** The answer, checked; throws when it is not a `WhyRetained` at all. */
export function parseWhyRetained(raw: unknown): WhyRetained {
  if (!isObject(raw) || !isCount(raw.runs) || !isCount(raw.keptBytes) || !Array.isArray(raw.groups)) {
    throw new Error('the process answered Taskmem.whyRetained without runs, keptBytes and groups');
  }
  const groups = raw.groups.map(group).filter((g): g is RetainerGroup => g !== undefined);
  const truncated = text(raw.truncated);
  return { runs: raw.runs, keptBytes: raw.keptBytes, groups, pauseMs: isCount(raw.pauseMs) ? raw.pauseMs : 0, ...(truncated ? { truncated } : {}) };
}
