/**
 * V8's heap spaces as the task processes read them (bootloader and harness). Compiled code is V8's,
 * not the task's: optimizing and deoptimizing a hot function moves 200+ KiB in and out of code space
 * between two runs, so retained figures leave it out.
 */
import * as v8 from 'node:v8';

/** Whether a heap space holds compiled code. */
export function isCompiledCodeSpace(name: string): boolean {
  return name === 'code_space' || name === 'code_large_object_space';
}

/** Bytes of compiled code now. */
export function compiledCodeBytes(): number {
  let code = 0;
  for (const space of v8.getHeapSpaceStatistics()) if (isCompiledCodeSpace(space.space_name)) code += space.space_used_size;
  return code;
}
