/**
 * A source map's `mappings` decoded into typed arrays, with the lookup `originalPositionFor` does.
 *
 * @jridgewell/sourcemap-codec makes one array per segment: a 1,500-line module has some 15,000, and
 * decoding a project's maps that way cost about as much as the rest of the analysis of a capture
 * (time and garbage). This is the same decoder (same VLQ arithmetic, same handling of malformed
 * input, lines sorted the same way) writing into flat arrays instead.
 */

/** Fields of segment `s` live at `s * 5` … `s * 5 + 4`: generated column, source, line, column, name. */
export interface DecodedMappings {
  /** Segments of generated line `l` are `lineStart[l]` up to `lineStart[l + 1]`. */
  lineStart: Int32Array;
  fields: Int32Array;
  /** 1, 4 or 5 per segment, as in the encoded text. */
  length: Uint8Array;
}

const CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const charToInt = new Uint8Array(128);
for (let i = 0; i < CHARS.length; i++) charToInt[CHARS.charCodeAt(i)] = i;
const COMMA = 44;

/**
 * Undefined when a value does not fit in 32 bits (only a broken map gets there; the caller then
 * uses the library, which keeps such values as doubles).
 */
export function decodeMappings(mappings: string): DecodedMappings | undefined {
  const length = mappings.length;
  // Segments take about 5-8 characters with their separator; grown as needed.
  const guess = Math.ceil(length / 5) + 16;
  let fields = new Int32Array(5 * guess);
  let lens = new Uint8Array(guess);
  const lineStart: number[] = [];
  let count = 0;
  const r: Reader = { text: mappings, pos: 0 };
  let sourcesIndex = 0;
  let sourceLine = 0;
  let sourceColumn = 0;
  let namesIndex = 0;
  do {
    let semi = mappings.indexOf(';', r.pos);
    if (semi === -1) semi = length;
    lineStart.push(count);
    const first = count;
    let sorted = true;
    let lastColumn = 0;
    let genColumn = 0;
    while (r.pos < semi) {
      if (count === lens.length) {
        const biggerFields = new Int32Array(fields.length * 2);
        biggerFields.set(fields);
        fields = biggerFields;
        const biggerLens = new Uint8Array(lens.length * 2);
        biggerLens.set(lens);
        lens = biggerLens;
      }
      const at = count * 5;
      genColumn += vlq(r);
      if (genColumn < lastColumn) sorted = false;
      lastColumn = genColumn;
      fields[at] = genColumn;
      let ok = (genColumn | 0) === genColumn;
      // A segment has 1, 4 or 5 values: after the 1st and the 4th, a comma or the line's end stops it.
      if (more(r, semi)) {
        sourcesIndex += vlq(r);
        sourceLine += vlq(r);
        sourceColumn += vlq(r);
        fields[at + 1] = sourcesIndex;
        fields[at + 2] = sourceLine;
        fields[at + 3] = sourceColumn;
        ok &&= (sourcesIndex | 0) === sourcesIndex && (sourceLine | 0) === sourceLine && (sourceColumn | 0) === sourceColumn;
        if (more(r, semi)) {
          namesIndex += vlq(r);
          fields[at + 4] = namesIndex;
          ok &&= (namesIndex | 0) === namesIndex;
          lens[count] = 5;
        } else lens[count] = 4;
      } else lens[count] = 1;
      if (!ok) return undefined;
      count++;
      r.pos++;
    }
    if (!sorted) sortLine(fields, lens, first, count);
    r.pos = semi + 1;
  } while (r.pos <= length);
  lineStart.push(count);
  return { lineStart: Int32Array.from(lineStart), fields, length: lens };
}

interface Reader {
  text: string;
  pos: number;
}

/** One VLQ value, read as sourcemap-codec reads it (past the end or an unknown character is a 0). */
function vlq(r: Reader): number {
  let value = 0;
  let shift = 0;
  let integer = 0;
  do {
    const c = r.text.charCodeAt(r.pos++);
    integer = c < 128 ? charToInt[c] : 0;
    value |= (integer & 31) << shift;
    shift += 5;
  } while (integer & 32);
  return value & 1 ? -0x80000000 | -(value >>> 1) : value >>> 1;
}

function more(r: Reader, semi: number): boolean {
  return r.pos < semi && r.text.charCodeAt(r.pos) !== COMMA;
}

/** Stable sort of one line's segments by generated column, as `Array.prototype.sort` does. */
function sortLine(fields: Int32Array, lens: Uint8Array, from: number, to: number): void {
  const order = Array.from({ length: to - from }, (_, i) => from + i).sort((a, b) => fields[a * 5] - fields[b * 5] || a - b);
  const savedFields = fields.slice(from * 5, to * 5);
  const savedLens = lens.slice(from, to);
  order.forEach((s, i) => {
    fields.set(savedFields.subarray((s - from) * 5, (s - from) * 5 + 5), (from + i) * 5);
    lens[from + i] = savedLens[s - from];
  });
}

/**
 * The segment `originalPositionFor` picks for a 0-based generated `line` (an integer) and `column`,
 * or -1: with `greatestLowerBound` the first segment at the column, else the last one before it;
 * otherwise the last segment at the column, else the first one after it.
 */
export function findSegment(decoded: DecodedMappings, line: number, column: number, greatestLowerBound: boolean): number {
  const { lineStart, fields } = decoded;
  if (line >= lineStart.length - 1) return -1;
  const from = lineStart[line];
  const to = lineStart[line + 1];
  let low = from;
  let high = to - 1;
  let found = -1;
  while (low <= high) {
    const mid = low + ((high - low) >> 1);
    const cmp = fields[mid * 5] - column;
    if (cmp === 0) {
      found = mid;
      break;
    }
    if (cmp < 0) low = mid + 1;
    else high = mid - 1;
  }
  if (found === -1) {
    const index = greatestLowerBound ? low - 1 : low;
    return index < from || index >= to ? -1 : index;
  }
  if (greatestLowerBound) {
    while (found > from && fields[(found - 1) * 5] === column) found--;
  } else {
    while (found + 1 < to && fields[(found + 1) * 5] === column) found++;
  }
  return found;
}
