/**
 * V8's heap spaces as the task processes read them (bootloader and harness). Compiled code is V8's,
 * not the task's: optimizing and deoptimizing a hot function moves 200+ KiB in and out of code space
 * between two runs, so retained figures leave it out.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

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

/**
 * Whether this V8 knows `--compact-with-stack` and `--concurrent-array-buffer-sweeping` (V8 11 and
 * later; Node 20 is 11.3). An unknown flag would print "unrecognized flag" on the program's stderr
 * at every collection.
 */
const CAN_SET_GC_FLAGS = Number(process.versions.v8.split('.')[0]) >= 11;

/**
 * One full GC, as `node --expose-gc`'s gc() runs it, without a global `gc` the program could see,
 * without compaction, and with the dead ArrayBuffers' backing stores freed before it returns.
 * - A GC called from JavaScript runs with a stack, and compacting with a stack left the used size
 *   40-260 KiB off (old and code space alike) in about one reading in three, back at the next:
 *   measured on a plain `node --expose-gc` loop of two small tasks, no inspector, 177-268 readings
 *   off in 600 with compaction, 3-4 without it.
 * - V8 sweeps array buffers on a background thread, so Node's count of backing stores
 *   (`arrayBuffers`) read right after gc() still held the Buffers that died since the last GC: off
 *   in 33-150 readings of 300 by up to 2.8 MiB on a loop of 16 KiB Buffers made and dropped (more
 *   under CPU load), exact in 300 of 300 with the sweep done in the GC, at the same cost.
 * Both flags are set for this collection only: the program's own GCs run as before.
 */
export function exposeFullGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  if (!CAN_SET_GC_FLAGS) return gc;
  return () => {
    v8.setFlagsFromString('--no-compact-with-stack');
    v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');
    try {
      gc();
    } finally {
      v8.setFlagsFromString('--concurrent-array-buffer-sweeping');
      v8.setFlagsFromString('--compact-with-stack');
    }
  };
}

/** Readings taken when code space moves while the heap is read (settledReading). */
const READING_ATTEMPTS = 3;

/**
 * A full GC and V8's used heap right after it, with compiled code. V8 installs optimized code at any
 * interrupt, and code installed between reading the heap and reading code space made a harness run
 * read 10-33 KiB low and the next as much high (temporaries, 10 of 10 sessions). So code is read on
 * both sides of the heap, and the reading is taken again after another GC when it moved. The heap
 * figure includes what the first code reading allocates (Node's statistics objects), the same every
 * time, so increments stay exact.
 */
export function settledReading(fullGc: () => void): { usedHeap: number; code: number } {
  fullGc();
  for (let attempt = 1; ; attempt++) {
    const codeBefore = compiledCodeBytes();
    const usedHeap = v8.getHeapStatistics().used_heap_size;
    const code = compiledCodeBytes();
    if (code === codeBefore || attempt === READING_ATTEMPTS) return { usedHeap, code };
    fullGc();
  }
}
