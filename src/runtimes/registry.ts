/** Every runtime the session can profile, by the name a process registers with. A new runtime is one line here. */
import type { RuntimeKind } from '../core/model';
import type { RuntimeDescription } from './adapter';
import { nodeRuntime } from './node';
import { pythonRuntime } from './python';

const RUNTIMES: Readonly<Record<RuntimeKind, RuntimeDescription>> = {
  node: nodeRuntime,
  python: pythonRuntime,
};

export function isRuntimeKind(value: unknown): value is RuntimeKind {
  return typeof value === 'string' && Object.hasOwn(RUNTIMES, value);
}

export function runtimeOf(kind: RuntimeKind): RuntimeDescription {
  return RUNTIMES[kind];
}

/** In registry order: notes of several runtimes come out in this order. */
export function allRuntimes(): readonly RuntimeDescription[] {
  return Object.values(RUNTIMES);
}
