/**
 * Appends typed columns held in typed arrays to a Parquet file another writer made (DuckDB),
 * row group by row group, keeping its bytes and extending its footer — so the file then holds
 * the other writer's columns and these, row for row: no join, no sort, no second pass over the
 * data. This is how the sweep engine writes an export's feature columns.
 *
 * Values are numbers in a `Float64Array`, NaN for null (the sweep's representation). Each new
 * column is OPTIONAL, one uncompressed data page (v1) per row group, with DuckDB's own schema
 * conventions (BIGINT as INT64 + INT_64, VARCHAR as BYTE_ARRAY + UTF8), null counts and, for
 * numbers and sorted dictionaries, min/max statistics:
 * - `int64`: a dictionary when the chunk's values span fewer than 2^16 (counts, ages in days),
 *   else PLAIN; non-integers round half to even, as DuckDB's cast does;
 * - `float64`: PLAIN (the array's bytes, nulls left out);
 * - `bool`: PLAIN (bit-packed), values 0/1;
 * - `string`: a dictionary page per chunk (only the codes the chunk uses) and RLE-coded indices,
 *   from codes into a string list, or from an array of strings;
 * - `list` (`last_n`'s `*_list` types): a Parquet LIST in DuckDB's three-level layout, read back
 *   as `VARCHAR[]` / `BIGINT[]` / `DOUBLE[]`: rows as offsets into one array of items (string
 *   items dictionary-coded per chunk, numbers PLAIN), repetition and definition levels
 *   hybrid-encoded; no list is null (an empty one is empty), only null-count statistics.
 *
 * @example
 * // COPY (SELECT user_id FROM ent) TO '/tmp/e.parquet' (FORMAT parquet)
 * appendColumns('/tmp/e.parquet', [
 *   { name: 'clicks_1h', type: 'int64', values: Float64Array.of(3, 0) },
 *   { name: 'platform', type: 'string', codes: Float64Array.of(1, NaN), dict: ['ios', 'web'] },
 * ]);
 * // SELECT user_id, clicks_1h, platform FROM read_parquet('/tmp/e.parquet') → same row order
 */
import { closeSync, fstatSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import {
  decodeStruct,
  encodeStruct,
  field,
  list,
  req,
  struct,
  T,
  utf8,
  type TList,
  type TStruct,
  type TValue,
} from './thrift-compact.ts';

export type AppendColumn =
  | { name: string; type: 'int64' | 'float64' | 'bool'; values: Float64Array }
  /** Codes into `dict` (NaN = null). */
  | { name: string; type: 'string'; codes: Float64Array; dict: readonly string[] }
  | { name: string; type: 'string'; strings: readonly (string | null)[] }
  | ListColumn;

/**
 * A list per row (`last_n`): row r's items are `items[offsets[r] … offsets[r+1]-1]`, numbers, or
 * codes into `dict` when the element is a string. No row is null (a row without items is an
 * empty list); a NaN item is a null element.
 */
export interface ListColumn {
  name: string;
  type: 'list';
  element: 'int64' | 'float64' | 'string';
  offsets: Int32Array;
  items: Float64Array;
  dict?: readonly string[];
}

// Parquet's enums (parquet.thrift).
const BOOLEAN = 0;
const INT64 = 2;
const DOUBLE = 5;
const BYTE_ARRAY = 6;
const OPTIONAL = 1;
const REPEATED = 2;
const UTF8 = 0;
const LIST = 3;
const INT_64 = 18;
const PLAIN = 0;
const PLAIN_DICTIONARY = 2;
const RLE = 3;
const DATA_PAGE = 0;
const DICTIONARY_PAGE = 2;
const MAGIC = Buffer.from('PAR1');
/** A dictionary for int64 chunks whose values span less than this. */
const INT_DICT_SPAN = 1 << 16;

/**
 * Zeroed bytes for a page: 64 KiB or more in shared memory. Pages live until the file is
 * written, and V8 starts a full GC of the heap per ~64 MB of ArrayBuffers allocated (an
 * export's pages are about its file's size); shared memory is not counted.
 */
function pageBytes(n: number): Uint8Array {
  return n < 1 << 16 ? new Uint8Array(n) : new Uint8Array(new SharedArrayBuffer(n));
}

/** A growable byte buffer. */
class Bytes {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number) {
    this.buf = pageBytes(Math.max(16, capacity));
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = pageBytes(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  varint(v: number): void {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.len++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.len++] = v;
  }
  int32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.len++] = v & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 24) & 0xff;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/*
 * Parquet's RLE / bit-packed hybrid encoding, built 8 values at a time: a group of 8 equal values
 * extends (or starts) an RLE run, any other group joins the current bit-packed run (at most 63
 * groups, so its header is one byte). Only the last group may be short (zero-padded when
 * bit-packed). The two encoders below share that scheme, written out inline: they run once per
 * value of every exported column.
 */

/** Writes an RLE run (`count` × `value`, `valueBytes` wide) at `p`; returns the end. */
function rleRun(
  b: Uint8Array,
  p: number,
  count: number,
  value: number,
  valueBytes: number,
): number {
  let c = count * 2;
  while (c >= 0x80) {
    b[p++] = (c & 0x7f) | 0x80;
    c >>>= 7;
  }
  b[p++] = c;
  for (let k = 0; k < valueBytes; k++) b[p++] = (value >>> (8 * k)) & 0xff;
  return p;
}

/** Definition levels from presence bits (see {@link Levels}), hybrid-encoded. */
function encodeLevels(levels: Levels, out: Bytes): void {
  const { n, bits } = levels;
  // At most 6 bytes per group (an RLE run of 8) plus a header per 63 groups.
  out.ensure(6 * ((n + 7) >> 3) + 16);
  out.len = packedRuns(out.buf, out.len, bits, n, 1);
}

/** Which rows of a chunk are present: bit j of `bits[g]` is row 8g+j's (1 = not null). */
interface Levels {
  n: number;
  nulls: number;
  bits: Uint8Array;
}

/**
 * One pass over rows `[r0, r0+n)`: their presence bits, the present values compacted into
 * `into` (`m` of them), and how many are ±Infinity (which this pass counts as null: callers
 * then take an exact path). No branch depends on the data — nulls in feature columns are often
 * scattered at random, and a mispredicted branch per value cost more than the rest of the pass.
 * A double is NaN or infinite when its exponent bits are all ones.
 */
function scan(
  values: Float64Array,
  r0: number,
  n: number,
  into: Float64Array,
): Levels & { m: number; infinite: number } {
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  const bits = new Uint8Array((n + 7) >> 3);
  let m = 0;
  let infinite = 0;
  for (let g = 0, i = 0; i < n; g++, i += 8) {
    const k = n - i < 8 ? n - i : 8;
    let b = 0;
    for (let j = 0; j < k; j++) {
      const r = r0 + i + j;
      const hi = words[2 * r + 1]!;
      const ok = ((((hi >>> 20) & 0x7ff) + 1) >>> 11) ^ 1;
      const t = ((hi & 0x7fffffff) ^ 0x7ff00000) | words[2 * r]!;
      infinite += 1 ^ ((t | -t) >>> 31);
      into[m] = values[r]!;
      m += ok;
      b |= ok << j;
    }
    bits[g] = b;
  }
  return { n, nulls: n - m, bits, m, infinite };
}

/** Where {@link presence} compacts values it does not keep (not shared with callers' scratch). */
let levelScratch = new Float64Array(0);

/** The presence of rows `[r0, r0+n)` with `nulls` NaNs among them (no bits when all or none). */
function presence(
  values: Float64Array,
  r0: number,
  n: number,
  nulls: number,
): Levels | { n: number; nulls: number } {
  if (nulls === 0 || nulls === n) return { n, nulls };
  if (levelScratch.length < n) levelScratch = new Float64Array(n);
  const levels = scan(values, r0, n, levelScratch);
  if (levels.infinite === 0) return levels;
  // ±Infinity is a value: the exact (branching) test.
  for (let g = 0, i = 0; i < n; g++, i += 8) {
    let b = 0;
    for (let j = 0; j < 8 && i + j < n; j++) {
      const x = values[r0 + i + j]!;
      if (x === x) b |= 1 << j;
    }
    levels.bits[g] = b;
  }
  return { n, nulls, bits: levels.bits };
}

/** Dictionary indices `idx[0 … m-1]`, hybrid-encoded at `width` bits (≤ 24). */
function encodeIndices(idx: Int32Array, m: number, width: number, out: Bytes): void {
  if (width > 24) throw new Error(`RLE/bit-packed hybrid: bit width ${width} > 24`);
  const valueBytes = (width + 7) >> 3;
  // Per group at most max(width, 8) bytes plus a header.
  out.ensure(((m + 7) >> 3) * (Math.max(width, 8) + 1) + 16);
  const b = out.buf;
  let p = out.len;
  let header = -1;
  let groups = 0;
  let rleValue = 0;
  let rleCount = 0;
  for (let i = 0; i < m; i += 8) {
    const k = m - i < 8 ? m - i : 8;
    const v = idx[i]!;
    let j = 1;
    while (j < k && idx[i + j] === v) j++;
    if (j === k) {
      if (rleCount > 0 && rleValue === v) {
        rleCount += k;
        continue;
      }
      if (header >= 0) {
        b[header] = (groups << 1) | 1;
        header = -1;
        groups = 0;
      }
      if (rleCount > 0) p = rleRun(b, p, rleCount, rleValue, valueBytes);
      rleValue = v;
      rleCount = k;
      continue;
    }
    if (rleCount > 0) {
      p = rleRun(b, p, rleCount, rleValue, valueBytes);
      rleCount = 0;
    }
    if (header < 0) header = p++;
    if (width <= 8 && k === 8) p = packGroup(idx, i, width, b, p);
    else {
      let acc = 0;
      let bits = 0;
      for (j = 0; j < 8; j++) {
        acc |= (j < k ? idx[i + j]! : 0) << bits;
        bits += width;
        while (bits >= 8) {
          b[p++] = acc & 0xff;
          acc >>>= 8;
          bits -= 8;
        }
      }
    }
    if (++groups === 63) {
      b[header] = (63 << 1) | 1;
      header = -1;
      groups = 0;
    }
  }
  if (header >= 0) b[header] = (groups << 1) | 1;
  if (rleCount > 0) p = rleRun(b, p, rleCount, rleValue, valueBytes);
  out.len = p;
}

/**
 * Bit-packs the 8 values `idx[i … i+7]` (each below 2^width, width ≤ 8) into `width` bytes at
 * `p`, as {@link encodeIndices}'s generic loop does, without its per-value byte loop: values
 * 0–3 and 4–7 are two 32-bit accumulators of 4·width bits each; when 4·width is not a whole
 * number of bytes (odd widths), the byte in the middle takes the low half of both. Returns the
 * end.
 */
function packGroup(idx: Int32Array, i: number, width: number, b: Uint8Array, p: number): number {
  const lo =
    idx[i]! | (idx[i + 1]! << width) | (idx[i + 2]! << (2 * width)) | (idx[i + 3]! << (3 * width));
  let hi =
    idx[i + 4]! |
    (idx[i + 5]! << width) |
    (idx[i + 6]! << (2 * width)) |
    (idx[i + 7]! << (3 * width));
  const whole = width >> 1; // whole bytes of each half: 4·width = 8·whole (+ 4 when odd)
  for (let s = 0; s < whole; s++) b[p++] = (lo >>> (8 * s)) & 0xff;
  if (width & 1) {
    b[p++] = ((lo >>> (8 * whole)) & 0xf) | ((hi & 0xf) << 4);
    hi >>>= 4;
  }
  for (let s = 0; s < whole; s++) b[p++] = (hi >>> (8 * s)) & 0xff;
  return p;
}

/** Bits needed for values `0 … count-1` (at least 1). */
const bitWidth = (count: number): number => Math.max(1, 32 - Math.clz32(Math.max(0, count - 1)));

/** Reused scratch for a chunk's dictionary indices and int64 values (encoding is synchronous). */
let scratch = new Int32Array(0);
const indices = (m: number): Int32Array =>
  scratch.length >= m ? scratch : (scratch = new Int32Array(Math.max(m, 2 * scratch.length)));
let scratch64 = new Float64Array(0);
const f64Scratch = (m: number): Float64Array =>
  scratch64.length >= m
    ? scratch64
    : (scratch64 = new Float64Array(Math.max(m, 2 * scratch64.length)));

export interface EncodedChunk {
  /** The chunk's bytes in pieces: its pages (dictionary page first), headers included. */
  parts: Uint8Array[];
  size: number;
  /** Length of the dictionary page (header included), 0 without one. */
  dictionaryBytes: number;
  physical: number;
  encodings: number[];
  statistics: TStruct;
  /** Level entries (the column chunk's `num_values`) when not one per row: a list column's. */
  levels?: number;
}

/** A page: its header, then its body's pieces. */
function page(type: number, body: Uint8Array[], header: [number, number, TStruct]): Uint8Array[] {
  const len = body.reduce((s, b) => s + b.length, 0);
  return [
    encodeStruct(struct([1, T.I32, type], [2, T.I32, len], [3, T.I32, len], header)),
    ...body,
  ];
}

const dataPage = (n: number, encoding: number, body: Uint8Array[]): Uint8Array[] =>
  page(DATA_PAGE, body, [
    5,
    T.STRUCT,
    struct([1, T.I32, n], [2, T.I32, encoding], [3, T.I32, RLE], [4, T.I32, RLE]),
  ]);

const dictionaryPage = (entries: number, body: Uint8Array): Uint8Array[] =>
  page(DICTIONARY_PAGE, [body], [7, T.STRUCT, struct([1, T.I32, entries], [2, T.I32, PLAIN])]);

const statistics = (nulls: number, min?: Uint8Array, max?: Uint8Array): TStruct =>
  min && max
    ? struct([3, T.I64, BigInt(nulls)], [5, T.BINARY, max], [6, T.BINARY, min])
    : struct([3, T.I64, BigInt(nulls)]);

/** Room for a page's levels: a bit per row, a header byte per 504 rows, the length, slack. */
const levelBytes = (n: number): number => (n >> 3) + (n >> 5) + 64;

/** A v1 data page's definition levels: a 4-byte length, then the levels. */
function writeLevels(levels: Levels | { n: number; nulls: number }, out: Bytes): void {
  const at = out.len;
  const { n, nulls } = levels;
  out.int32(0);
  if (nulls === 0 || nulls === n) {
    out.varint(n * 2);
    out.byte(nulls === 0 ? 1 : 0);
  } else encodeLevels(levels as Levels, out);
  const len = out.len - at - 4;
  out.buf[at] = len & 0xff;
  out.buf[at + 1] = (len >>> 8) & 0xff;
  out.buf[at + 2] = (len >>> 16) & 0xff;
  out.buf[at + 3] = (len >>> 24) & 0xff;
}

function countNulls(values: Float64Array, r0: number, n: number): number {
  let nulls = 0;
  for (let i = r0; i < r0 + n; i++) {
    const x = values[i]!;
    if (x !== x) nulls++;
  }
  return nulls;
}

const float64Bytes = (x: number): Uint8Array => new Uint8Array(Float64Array.of(x).buffer);
const int64Bytes = (x: number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(x), true);
  return b;
};

/** DuckDB's DOUBLE → BIGINT cast: round half to even; beyond ±2^53 is an error. */
function toInt64(x: number, name: string): number {
  const v = Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
  if (!Number.isSafeInteger(v))
    throw new Error(`column ${name}: ${x} is not an int64 value this writer can hold exactly`);
  return v === 0 ? 0 : v;
}

/** Slots of small non-negative integers (1 + dictionary index; 0 = unseen), reset after use. */
const smallSlots = new Int32Array(INT_DICT_SPAN);

/**
 * The common case of an int64 chunk in one pass: every value a whole number in
 * `[0, 2^16)` (counts, days), coded straight into a dictionary; null when a value is not.
 */
function encodeSmallInts(values: Float64Array, r0: number, n: number): EncodedChunk | null {
  const idx = indices(n);
  const dict: number[] = [];
  let m = 0;
  let min = Infinity;
  let max = -Infinity;
  let small = true;
  for (let i = r0; i < r0 + n; i++) {
    const x = values[i]!;
    if (x !== x) continue;
    const v = x | 0;
    if (v !== x || v < 0 || v >= INT_DICT_SPAN) {
      small = false;
      break;
    }
    let d = smallSlots[v]!;
    if (d === 0) {
      d = smallSlots[v] = dict.push(v);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    idx[m++] = d - 1;
  }
  for (const v of dict) smallSlots[v] = 0;
  if (!small || m === 0) return null;
  const nulls = n - m;
  const stats = statistics(nulls, int64Bytes(min), int64Bytes(max));
  return int64DictionaryChunk(values, r0, n, nulls, { dict, idx, m }, stats);
}

/** An int64 chunk as its dictionary (`dict`, by index) and the present rows' indices. */
function int64DictionaryChunk(
  values: Float64Array,
  r0: number,
  n: number,
  nulls: number,
  coded: { dict: number[]; idx: Int32Array; m: number },
  stats: TStruct,
): EncodedChunk {
  const { dict, idx, m } = coded;
  const width = bitWidth(dict.length);
  const out = new Bytes(levelBytes(n));
  writeLevels(presence(values, r0, n, nulls), out);
  out.byte(width);
  encodeIndices(idx, m, width, out);
  const d = pageBytes(dict.length * 8);
  writeInt64s(dict, d);
  return chunk(
    INT64,
    dictionaryPage(dict.length, d),
    dataPage(n, PLAIN_DICTIONARY, [out.view()]),
    stats,
  );
}

function encodeInt64(name: string, values: Float64Array, r0: number, n: number): EncodedChunk {
  const small = encodeSmallInts(values, r0, n);
  if (small) return small;
  // The present values (rounded like DuckDB's cast when they need it), their min and max.
  const present = f64Scratch(n);
  let m = 0;
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = r0; i < r0 + n; i++) {
    const x = values[i]!;
    if (x !== x) continue;
    present[m++] = x;
    if (x < min) min = x;
    if (x > max) max = x;
    if ((x | 0) !== x && Math.floor(x) !== x) integral = false;
  }
  if (m > 0 && !(integral && Number.isSafeInteger(min) && Number.isSafeInteger(max))) {
    min = Infinity;
    max = -Infinity;
    for (let k = 0; k < m; k++) {
      const v = toInt64(present[k]!, name);
      present[k] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const nulls = n - m;
  const stats = m > 0 ? statistics(nulls, int64Bytes(min), int64Bytes(max)) : statistics(nulls);
  if (m > 0 && max - min < INT_DICT_SPAN) {
    // A dictionary in order of first appearance: slot[v - min] is 1 + its index.
    const slot = new Int32Array(max - min + 1);
    const dict: number[] = [];
    const idx = indices(m);
    for (let k = 0; k < m; k++) {
      const v = present[k]!;
      let d = slot[v - min]!;
      if (d === 0) d = slot[v - min] = dict.push(v);
      idx[k] = d - 1;
    }
    return int64DictionaryChunk(values, r0, n, nulls, { dict, idx, m }, stats);
  }
  const out = new Bytes(levelBytes(n));
  writeLevels(presence(values, r0, n, nulls), out);
  const plain = pageBytes(m * 8);
  writeInt64s(present.subarray(0, m), plain);
  return chunk(INT64, null, dataPage(n, PLAIN, [out.view(), plain]), stats);
}

/** Little-endian int64s of safe integers (two's complement from the 32-bit halves). */
function writeInt64s(xs: ArrayLike<number>, into: Uint8Array): void {
  const w = new Int32Array(into.buffer, into.byteOffset, xs.length * 2);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k]!;
    const hi = Math.floor(x / 4294967296);
    w[2 * k] = x - hi * 4294967296;
    w[2 * k + 1] = hi;
  }
}

function encodeFloat64(values: Float64Array, r0: number, n: number): EncodedChunk {
  // The present values compacted into the page's own array, and the levels, in one pass.
  const into = new Float64Array(pageBytes(n * 8).buffer);
  const sc = scan(values, r0, n, into);
  if (sc.infinite > 0) return encodeFloat64Exact(values, r0, n);
  const present = into.subarray(0, sc.m);
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < present.length; k++) {
    const x = present[k]!;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const out = new Bytes(levelBytes(n));
  writeLevels(sc.nulls === 0 || sc.nulls === n ? { n, nulls: sc.nulls } : sc, out);
  return float64Chunk(n, sc.nulls, present, min, max, out);
}

function float64Chunk(
  n: number,
  nulls: number,
  present: Float64Array,
  min: number,
  max: number,
  levels: Bytes,
): EncodedChunk {
  const stats =
    present.length > 0
      ? // -0 as the minimum and +0 as the maximum, as the format asks.
        statistics(nulls, float64Bytes(min === 0 ? -0 : min), float64Bytes(max === 0 ? 0 : max))
      : statistics(nulls);
  const bytes = new Uint8Array(present.buffer, present.byteOffset, present.byteLength);
  return chunk(DOUBLE, null, dataPage(n, PLAIN, [levels.view(), bytes]), stats);
}

/** A chunk holding ±Infinity: the plain (branching) way. */
function encodeFloat64Exact(values: Float64Array, r0: number, n: number): EncodedChunk {
  let nulls = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = r0; i < r0 + n; i++) {
    const x = values[i]!;
    if (x !== x) nulls++;
    else {
      if (x < min) min = x;
      if (x > max) max = x;
    }
  }
  const out = new Bytes(levelBytes(n));
  writeLevels(presence(values, r0, n, nulls), out);
  const present = new Float64Array(pageBytes((n - nulls) * 8).buffer);
  for (let i = r0, k = 0; i < r0 + n; i++) {
    const x = values[i]!;
    if (x === x) present[k++] = x;
  }
  return float64Chunk(n, nulls, present, min, max, out);
}

function encodeBool(values: Float64Array, r0: number, n: number): EncodedChunk {
  const nulls = countNulls(values, r0, n);
  const out = new Bytes(levelBytes(n));
  writeLevels(presence(values, r0, n, nulls), out);
  const bits = new Uint8Array((n - nulls + 7) >> 3);
  let k = 0;
  let ones = 0;
  for (let i = r0; i < r0 + n; i++) {
    const x = values[i]!;
    if (x !== x) continue;
    if (x !== 0) {
      bits[k >> 3]! |= 1 << (k & 7);
      ones++;
    }
    k++;
  }
  const stats =
    k > 0
      ? statistics(nulls, Uint8Array.of(ones === k ? 1 : 0), Uint8Array.of(ones > 0 ? 1 : 0))
      : statistics(nulls);
  return chunk(BOOLEAN, null, dataPage(n, PLAIN, [out.view(), bits]), stats);
}

/** The PLAIN dictionary page's values: the `used` entries of `dict`, each length-prefixed, in order. */
function usedEntries(dict: Utf8Dict, used: readonly number[]): Uint8Array {
  let len = 0;
  for (const c of used) len += 4 + dict.bytes[c]!.length;
  const d = new Bytes(len);
  for (const c of used) {
    d.int32(dict.bytes[c]!.length);
    d.bytes(dict.bytes[c]!);
  }
  return d.view();
}

/** A string column's dictionary as UTF-8, and whether it is in byte order (min/max valid). */
interface Utf8Dict {
  bytes: Uint8Array[];
  ordered: boolean;
}

function utf8Dict(dict: readonly string[]): Utf8Dict {
  const bytes = dict.map((s) => Buffer.from(s, 'utf8'));
  let ordered = true;
  for (let i = 1; i < bytes.length && ordered; i++)
    ordered = Buffer.compare(bytes[i - 1]!, bytes[i]!) < 0;
  return { bytes, ordered };
}

function encodeString(codes: Float64Array, dict: Utf8Dict, r0: number, n: number): EncodedChunk {
  // The chunk's own dictionary, in order of first appearance: slot[code] is 1 + its index.
  const slot = new Int32Array(dict.bytes.length);
  const used: number[] = [];
  const idx = indices(n);
  // Nulls out first (no branch on them), then the codes.
  const present = f64Scratch(n);
  const levels = scan(codes, r0, n, present);
  const { m, nulls } = levels;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < m; k++) {
    const c = present[k]!;
    let d = slot[c]!;
    if (d === 0) {
      d = slot[c] = used.push(c);
      if (c < lo) lo = c;
      if (c > hi) hi = c;
    }
    idx[k] = d - 1;
  }
  const width = bitWidth(used.length);
  const out = new Bytes(levelBytes(n));
  writeLevels(nulls === 0 || nulls === n ? { n, nulls } : levels, out);
  out.byte(width);
  encodeIndices(idx, m, width, out);
  // Codes in byte order: the least and greatest used codes are the min and max strings.
  const stats =
    m > 0 && dict.ordered ? statistics(nulls, dict.bytes[lo]!, dict.bytes[hi]!) : statistics(nulls);
  return chunk(
    BYTE_ARRAY,
    dictionaryPage(used.length, usedEntries(dict, used)),
    dataPage(n, PLAIN_DICTIONARY, [out.view()]),
    stats,
  );
}

/** Packed level scratch for list columns (encoding is synchronous). */
let repScratch = new Uint8Array(0);
let defScratch = new Uint8Array(0);

/**
 * `count` levels of `width` (1 or 2) bits packed 8 to a group, hybrid-encoded into `b` from
 * `p` (room ensured by the caller): a group whose entries are all equal joins or starts an RLE
 * run, any other is bit-packed as it is; returns the end. Presence bits (`width` 1, the last
 * group's padding zero) and list levels share it.
 */
function packedRuns(
  b: Uint8Array,
  p: number,
  packed: Uint8Array,
  count: number,
  width: 1 | 2,
): number {
  const full = width === 1 ? 0xff : 0xffff;
  const spread = width === 1 ? 0xff : 0x5555;
  const low = width === 1 ? 1 : 3;
  let header = -1;
  let groups = 0;
  let rleValue = 0;
  let rleCount = 0;
  for (let g = 0, i = 0; i < count; g++, i += 8) {
    const k = count - i < 8 ? count - i : 8;
    const w = width === 1 ? packed[g]! : packed[2 * g]! | (packed[2 * g + 1]! << 8);
    const v = w & low;
    const mask = k === 8 ? full : (1 << (k * width)) - 1;
    if (((w ^ (v * spread)) & mask) === 0) {
      if (rleCount > 0 && rleValue === v) {
        rleCount += k;
        continue;
      }
      if (header >= 0) {
        b[header] = (groups << 1) | 1;
        header = -1;
        groups = 0;
      }
      if (rleCount > 0) p = rleRun(b, p, rleCount, rleValue, 1);
      rleValue = v;
      rleCount = k;
      continue;
    }
    if (rleCount > 0) {
      p = rleRun(b, p, rleCount, rleValue, 1);
      rleCount = 0;
    }
    if (header < 0) header = p++;
    b[p++] = w & 0xff;
    if (width === 2) b[p++] = w >>> 8;
    if (++groups === 63) {
      b[header] = (63 << 1) | 1;
      header = -1;
      groups = 0;
    }
  }
  if (header >= 0) b[header] = (groups << 1) | 1;
  if (rleCount > 0) p = rleRun(b, p, rleCount, rleValue, 1);
  return p;
}

/**
 * `count` levels of `width` (1 or 2) bits packed 8 to a group (`width` bytes per group, entry
 * j of group g at bit `width·j` of its little-endian word, the last group zero-padded),
 * hybrid-encoded with their 4-byte length — byte for byte what {@link encodeIndices} writes for
 * the same levels, a whole group compared at once instead of value by value.
 */
function writePackedLevels(packed: Uint8Array, count: number, width: 1 | 2, out: Bytes): void {
  const at = out.len;
  out.int32(0);
  out.ensure(((count + 7) >> 3) * 9 + 16);
  const b = out.buf;
  const p = packedRuns(b, out.len, packed, count, width);
  out.len = p;
  const len = p - at - 4;
  b[at] = len & 0xff;
  b[at + 1] = (len >>> 8) & 0xff;
  b[at + 2] = (len >>> 16) & 0xff;
  b[at + 3] = (len >>> 24) & 0xff;
}

/**
 * The repetition levels (1 bit) then the definition levels (2 bits) of rows `[r0, r0+n)` of a
 * list column with `entries` level entries and `nullItems` null elements (see
 * {@link encodeList}), written from the offsets straight into packed groups: repetition is all
 * 1s but a 0 where each row starts; definition is all 3s (one RLE run when no row is empty and
 * no element null) but a 1 for an empty row and a 2 for a null element.
 */
function writeListLevels(
  offsets: Int32Array,
  items: Float64Array,
  r0: number,
  n: number,
  nullItems: number,
  out: Bytes,
): number {
  // Room for an entry per item and per row; the rows' pass finds how many there are.
  const most = (offsets[r0 + n]! - offsets[r0]! + n + 7) >> 3;
  if (repScratch.length < most) repScratch = new Uint8Array(Math.max(most, 2 * repScratch.length));
  if (defScratch.length < 2 * most)
    defScratch = new Uint8Array(Math.max(2 * most, 2 * defScratch.length));
  const rep = repScratch;
  const def = defScratch;
  rep.fill(0xff, 0, most);
  def.fill(0xff, 0, 2 * most);
  let empties = 0;
  let e = 0;
  for (let r = r0; r < r0 + n; r++) {
    const from = offsets[r]!;
    const to = offsets[r + 1]!;
    rep[e >> 3] = rep[e >> 3]! & ~(1 << (e & 7));
    if (from === to) {
      def[e >> 2] = def[e >> 2]! & ~(2 << (2 * (e & 3))); // 3 → 1
      empties++;
      e++;
      continue;
    }
    if (nullItems > 0)
      for (let j = from; j < to; j++) {
        const x = items[j]!;
        if (x !== x) {
          const at = e + j - from;
          def[at >> 2] = def[at >> 2]! & ~(1 << (2 * (at & 3))); // 3 → 2
        }
      }
    e += to - from;
  }
  const entries = e;
  const groups = (entries + 7) >> 3;
  if (entries & 7) {
    rep[groups - 1] = rep[groups - 1]! & ((1 << (entries & 7)) - 1);
    const g = 2 * (groups - 1);
    const word = (def[g]! | (def[g + 1]! << 8)) & ((1 << (2 * (entries & 7))) - 1);
    def[g] = word & 0xff;
    def[g + 1] = word >>> 8;
  }
  writePackedLevels(rep, entries, 1, out);
  if (empties > 0 || nullItems > 0) writePackedLevels(def, entries, 2, out);
  else {
    // Every entry a present element: one run of 3s, as the group-by-group encoder merges it.
    const at = out.len;
    out.int32(0);
    out.ensure(16);
    if (entries > 0) out.len = rleRun(out.buf, out.len, entries, 3, 1);
    const len = out.len - at - 4;
    out.buf[at] = len & 0xff;
    out.buf[at + 1] = (len >>> 8) & 0xff;
    out.buf[at + 2] = (len >>> 16) & 0xff;
    out.buf[at + 3] = (len >>> 24) & 0xff;
  }
  return entries;
}

/**
 * A list column's levels for rows `[r0, r0+n)` as {@link encodeList} writes them (repetition,
 * then definition, each with its 4-byte length): exported for the byte-for-byte test against
 * the value-by-value encoding.
 */
export function encodeListLevels(
  offsets: Int32Array,
  items: Float64Array,
  r0: number,
  n: number,
): Uint8Array {
  let nullItems = 0;
  for (let j = offsets[r0]!; j < offsets[r0 + n]!; j++) if (items[j] !== items[j]) nullItems++;
  const out = new Bytes(64);
  writeListLevels(offsets, items, r0, n, nullItems, out);
  return out.view().slice();
}

/**
 * Rows `[r0, r0+n)` of a list column as one data page of the three-level LIST layout
 * (`optional group (LIST) { repeated group list { optional element } }`, DuckDB's): an entry per
 * item, or one for an empty list; repetition level 0 starts a row, 1 continues it; definition
 * level 1 is an empty list, 2 a null element, 3 a present one. Strings are dictionary-coded
 * (the chunk's used codes), int64 and float64 PLAIN.
 */
function encodeList(c: ListColumn, dict: Utf8Dict | null, r0: number, n: number): EncodedChunk {
  const { offsets, items } = c;
  const from = offsets[r0]!;
  const to = offsets[r0 + n]!;
  // The present elements in order (entries of empty rows hold none): the items themselves
  // (read only) up to the first null one, compacted from there on.
  let j0 = from;
  while (j0 < to && items[j0] === items[j0]) j0++;
  let present = items.subarray(from, to);
  let m = to - from;
  if (j0 < to) {
    present = f64Scratch(to - from);
    present.set(items.subarray(from, j0));
    m = j0 - from;
    for (let j = j0; j < to; j++) {
      const x = items[j]!;
      present[m] = x;
      m += x === x ? 1 : 0;
    }
  }
  const nullItems = to - from - m;
  const out = new Bytes(to - from + n + 64);
  const entries = writeListLevels(offsets, items, r0, n, nullItems, out);
  const stats = statistics(entries - m);
  let data: Uint8Array[];
  let dictPage: Uint8Array[] | null = null;
  let physical: number;
  let encoding = PLAIN;
  if (c.element === 'string') {
    if (!dict) throw new Error(`list column ${c.name} of strings has no dictionary`);
    const slot = new Int32Array(dict.bytes.length);
    const used: number[] = [];
    const idx = indices(m);
    for (let k = 0; k < m; k++) {
      const code = present[k]! | 0;
      let d = slot[code]!;
      if (d === 0) d = slot[code] = used.push(code);
      idx[k] = d - 1;
    }
    const width = bitWidth(used.length);
    out.byte(width);
    encodeIndices(idx, m, width, out);
    dictPage = dictionaryPage(used.length, usedEntries(dict, used));
    data = [out.view()];
    physical = BYTE_ARRAY;
    encoding = PLAIN_DICTIONARY;
  } else if (c.element === 'int64') {
    const plain = pageBytes(m * 8);
    const w = new Int32Array(plain.buffer);
    for (let k = 0; k < m; k++) {
      let x = present[k]!;
      if (!Number.isSafeInteger(x)) x = toInt64(x, c.name);
      const hi = Math.floor(x / 4294967296);
      w[2 * k] = x - hi * 4294967296;
      w[2 * k + 1] = hi;
    }
    data = [out.view(), plain];
    physical = INT64;
  } else {
    const plain = pageBytes(m * 8);
    new Float64Array(plain.buffer).set(present.subarray(0, m));
    data = [out.view(), plain];
    physical = DOUBLE;
  }
  return {
    ...chunk(physical, dictPage, dataPage(entries, encoding, data), stats),
    levels: entries,
  };
}

function chunk(
  physical: number,
  dictPage: Uint8Array[] | null,
  data: Uint8Array[],
  statistics: TStruct,
): EncodedChunk {
  const dictionaryBytes = dictPage ? dictPage.reduce((s, b) => s + b.length, 0) : 0;
  const parts = dictPage ? [...dictPage, ...data] : data;
  return {
    parts,
    size: parts.reduce((s, b) => s + b.length, 0),
    dictionaryBytes,
    physical,
    encodings: dictPage ? [PLAIN, PLAIN_DICTIONARY, RLE] : [PLAIN, RLE],
    statistics,
  };
}

/** A column ready to encode chunk by chunk (strings coded, dictionaries in UTF-8). */
interface Prepared {
  name: string;
  encode: (r0: number, n: number) => EncodedChunk;
  /** Its schema elements (one, or a list's three) and its leaf's path. */
  schema: TStruct[];
  path: string[];
}

function prepare(c: AppendColumn): Prepared {
  const element = (physical: number, converted?: number): TStruct =>
    converted === undefined
      ? struct([1, T.I32, physical], [3, T.I32, OPTIONAL], [4, T.BINARY, utf8(c.name)])
      : struct(
          [1, T.I32, physical],
          [3, T.I32, OPTIONAL],
          [4, T.BINARY, utf8(c.name)],
          [6, T.I32, converted],
        );
  const scalar = (el: TStruct, encode: Prepared['encode']): Prepared => ({
    name: c.name,
    schema: [el],
    path: [c.name],
    encode,
  });
  switch (c.type) {
    case 'int64':
      return scalar(element(INT64, INT_64), (r0, n) => encodeInt64(c.name, c.values, r0, n));
    case 'float64':
      return scalar(element(DOUBLE), (r0, n) => encodeFloat64(c.values, r0, n));
    case 'bool':
      return scalar(element(BOOLEAN), (r0, n) => encodeBool(c.values, r0, n));
    case 'list': {
      const dict = c.dict ? utf8Dict(c.dict) : null;
      const [physical, converted] =
        c.element === 'string'
          ? [BYTE_ARRAY, UTF8]
          : c.element === 'int64'
            ? [INT64, INT_64]
            : [DOUBLE];
      const leaf = [
        [1, T.I32, physical],
        [3, T.I32, OPTIONAL],
        [4, T.BINARY, utf8('element')],
      ] as [number, number, TValue][];
      if (converted !== undefined) leaf.push([6, T.I32, converted]);
      return {
        name: c.name,
        schema: [
          struct(
            [3, T.I32, OPTIONAL],
            [4, T.BINARY, utf8(c.name)],
            [5, T.I32, 1],
            [6, T.I32, LIST],
          ),
          struct([3, T.I32, REPEATED], [4, T.BINARY, utf8('list')], [5, T.I32, 1]),
          struct(...leaf),
        ],
        path: [c.name, 'list', 'element'],
        encode: (r0, n) => encodeList(c, dict, r0, n),
      };
    }
    case 'string': {
      let codes: Float64Array;
      let dict: readonly string[];
      if ('strings' in c) {
        const seen = new Map<string, number>();
        const list: string[] = [];
        codes = new Float64Array(c.strings.length);
        c.strings.forEach((s, i) => {
          if (s === null) {
            codes[i] = NaN;
            return;
          }
          let code = seen.get(s);
          if (code === undefined) seen.set(s, (code = list.push(s) - 1));
          codes[i] = code;
        });
        dict = list;
      } else ({ codes, dict } = c);
      const d = utf8Dict(dict);
      return scalar(element(BYTE_ARRAY, UTF8), (r0, n) => encodeString(codes, d, r0, n));
    }
  }
}

const lengthOf = (c: AppendColumn): number =>
  c.type === 'list'
    ? c.offsets.length - 1
    : ('strings' in c ? c.strings : 'codes' in c ? c.codes : c.values).length;

/** Appends to an open file descriptor, tracking the offset. */
class Sink {
  constructor(
    readonly fd: number,
    public offset: number,
  ) {}
  write(b: Uint8Array): void {
    let done = 0;
    while (done < b.byteLength)
      done += writeSync(this.fd, b, done, b.byteLength - done, this.offset + done);
    this.offset += b.byteLength;
  }
  writev(parts: Uint8Array[]): void {
    const total = parts.reduce((s, b) => s + b.byteLength, 0);
    const done = writevSync(this.fd, parts, this.offset);
    this.offset += done;
    if (done < total) {
      // A short write: the rest one piece at a time.
      let skip = done;
      for (const b of parts) {
        if (skip >= b.byteLength) skip -= b.byteLength;
        else {
          this.write(b.subarray(skip));
          skip = 0;
        }
      }
    }
  }
}

function columnChunk(sink: Sink, path: string[], e: EncodedChunk, rows: number): TStruct {
  const start = sink.offset;
  sink.writev(e.parts);
  const size = BigInt(e.size);
  const fields: [number, number, TValue][] = [
    [1, T.I32, e.physical],
    [2, T.LIST, list(T.I32, e.encodings)],
    [3, T.LIST, list(T.BINARY, path.map(utf8))],
    [4, T.I32, 0], // UNCOMPRESSED
    [5, T.I64, BigInt(e.levels ?? rows)],
    [6, T.I64, size],
    [7, T.I64, size],
    [9, T.I64, BigInt(start + e.dictionaryBytes)],
  ];
  if (e.dictionaryBytes > 0) fields.push([11, T.I64, BigInt(start)]);
  fields.push([12, T.STRUCT, e.statistics]);
  return struct([2, T.I64, BigInt(start)], [3, T.STRUCT, struct(...fields)]);
}

/**
 * A column encoded for a file's row groups: its schema elements (a list column's group, its
 * repeated group and its element), its leaf's path, and a chunk per row group.
 */
export interface EncodedColumn {
  name: string;
  schema: TStruct[];
  path: string[];
  chunks: EncodedChunk[];
}

/**
 * Encodes `column` for row groups of `groups` rows each (what {@link rowGroupSizes} reads from
 * the file it will be appended to). Pure: runs on any thread.
 */
export function encodeColumn(column: AppendColumn, groups: readonly number[]): EncodedColumn {
  const rows = groups.reduce((s, n) => s + n, 0);
  if (lengthOf(column) !== rows)
    throw new Error(`column ${column.name} has ${lengthOf(column)} values, the file ${rows} rows`);
  const p = prepare(column);
  const chunks: EncodedChunk[] = [];
  let r0 = 0;
  for (const n of groups) {
    chunks.push(p.encode(r0, n));
    r0 += n;
  }
  return { name: p.name, schema: p.schema, path: p.path, chunks };
}

interface Footer {
  meta: TStruct;
  /** Where the footer starts (where appended bytes go). */
  start: number;
}

function readFooter(fd: number, path: string): Footer {
  const size = fstatSync(fd).size;
  const tail = Buffer.alloc(8);
  if (size < 12) throw new Error(`${path} is not a Parquet file`);
  readSync(fd, tail, 0, 8, size - 8);
  if (!tail.subarray(4).equals(MAGIC)) throw new Error(`${path} is not a Parquet file`);
  const footerLen = tail.readInt32LE(0);
  const start = size - 8 - footerLen;
  const footer = Buffer.alloc(footerLen);
  readSync(fd, footer, 0, footerLen, start);
  return { meta: decodeStruct(footer)[0], start };
}

/** The number of rows of each row group of the Parquet file at `path`. */
export function rowGroupSizes(path: string): number[] {
  const fd = openSync(path, 'r');
  try {
    const { meta } = readFooter(fd, path);
    return (req<TList>(meta, 4).items as TStruct[]).map((rg) => Number(req<bigint>(rg, 3)));
  } finally {
    closeSync(fd);
  }
}

/** The names of a flattened Parquet schema's top-level columns (its root's children). */
function topLevelNames(schema: TStruct[]): string[] {
  const names: string[] = [];
  const children = (e: TStruct): number => (field(e, 5)?.value as number | undefined) ?? 0;
  // Skips the subtree at `i`; returns the index after it.
  const skip = (i: number): number => {
    let next = i + 1;
    for (let c = children(schema[i]!); c > 0; c--) next = skip(next);
    return next;
  };
  for (let i = 1, c = children(schema[0]!); c > 0 && i < schema.length; c--) {
    names.push(new TextDecoder().decode(req<Uint8Array>(schema[i]!, 4)));
    i = skip(i);
  }
  return names;
}

/**
 * Adds encoded columns (see {@link encodeColumn}) to the Parquet file at `path`, in place: each
 * row group gets a chunk of every new column, written over the old footer, then the footer is
 * written again with the new schema elements, chunks and column orders.
 */
export function appendEncoded(path: string, columns: readonly EncodedColumn[]): void {
  const fd = openSync(path, 'r+');
  try {
    const { meta, start } = readFooter(fd, path);
    const groups = req<TList>(meta, 4).items as TStruct[];
    const schema = req<TList>(meta, 2).items as TStruct[];
    const taken = new Set(topLevelNames(schema));
    for (const c of columns) {
      if (taken.has(c.name)) throw new Error(`the file already has a column ${c.name}`);
      taken.add(c.name);
      if (c.chunks.length !== groups.length)
        throw new Error(
          `column ${c.name} is encoded for ${c.chunks.length} row groups, the file has ${groups.length}`,
        );
    }
    const root = field(schema[0]!, 5)!;
    root.value = (root.value as number) + columns.length;
    schema.push(...columns.flatMap((c) => c.schema));

    // The columns and the new footer overwrite the old footer (they are longer).
    const sink = new Sink(fd, start);
    groups.forEach((rg, g) => {
      const n = Number(req<bigint>(rg, 3));
      const before = sink.offset;
      const chunks = columns.map((c) => columnChunk(sink, c.path, c.chunks[g]!, n));
      req<TList>(rg, 1).items.push(...chunks);
      const added = BigInt(sink.offset - before);
      for (const id of [2, 6]) {
        const f = field(rg, id);
        if (f) f.value = (f.value as bigint) + added;
      }
    });
    const orders = field(meta, 7);
    if (orders && (orders.value as TList).items.length > 0) {
      const items = (orders.value as TList).items;
      items.push(...columns.map(() => items[0]!));
    }
    const bytes = encodeStruct(meta);
    sink.write(bytes);
    const len = Buffer.alloc(4);
    len.writeInt32LE(bytes.byteLength);
    sink.write(len);
    sink.write(MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** Encodes `columns` (one value per row of the file) and appends them to the file at `path`. */
export function appendColumns(path: string, columns: readonly AppendColumn[]): void {
  const groups = rowGroupSizes(path);
  appendEncoded(
    path,
    columns.map((c) => encodeColumn(c, groups)),
  );
}
