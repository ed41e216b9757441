// A task that keeps a KNOWN number of bytes on the V8 heap per call, for the accuracy figure of
// `npm run bench`. Every call keeps BATCH small arrays (`new Array(ELEMENTS)` filled with small
// integers: V8 allocates exactly ELEMENTS slots for `new Array(n)` and Smis live in the slots), plus
// the batch array itself, in a module-level list.
//
// Truth from V8's object layout (64-bit, no pointer compression: Node's default build):
//   JSArray   = map + properties + elements + length           = 4 x 8 = 32 bytes
//   FixedArray(n) = map + length + n slots                      = 16 + 8n bytes
//   one kept array = 32 + 16 + 8 x ELEMENTS;  the batch = 32 + 16 + 8 x BATCH
// (`expectedBytesPerCall()` below; `npm run bench` checks it against a control measurement of the
// heap in a bare process.) The module-level `kept` list grows too; it is preallocated so that its
// growth does not add to the per-call figure.
'use strict';

const BATCH = 2000;
const ELEMENTS = 64;
const MAX_CALLS = 200;

const kept = new Array(MAX_CALLS).fill(0);
let calls = 0;

function keepKnownBytes() {
  const batch = new Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    const row = new Array(ELEMENTS);
    for (let j = 0; j < ELEMENTS; j++) row[j] = (i + j) & 0xff;
    batch[i] = row;
  }
  kept[calls++ % MAX_CALLS] = batch;
  return calls;
}

function expectedBytesPerCall(pointerSize = 8) {
  const jsArray = 4 * pointerSize;
  const fixedArray = (n) => 2 * pointerSize + n * pointerSize;
  return BATCH * (jsArray + fixedArray(ELEMENTS)) + jsArray + fixedArray(BATCH);
}

module.exports = { keepKnownBytes, expectedBytesPerCall, BATCH, ELEMENTS, MAX_CALLS };
