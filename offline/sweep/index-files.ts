/**
 * A cached {@link PassIndex} as files (see `duckdb/sweep/index-cache.ts`), read where the sweep
 * runs: a sweep worker reads its own index with plain synchronous reads while the main thread
 * and DuckDB code the entity rows, so the reads neither queue in libuv's thread pool ahead of
 * DuckDB's result chunks nor cross threads afterwards. Each file is one typed array's bytes,
 * little-endian.
 *
 * @example
 * const index = readIndexFiles({ keyCount: 2, offsets: { path: 'p0.offsets', type: 'i32', length: 3 }, … });
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { IndexArray, PassIndex, SweepColumn } from './pass-index.ts';

/** One array's file; `length` null when only the file knows it (mode items). */
export interface IndexFile {
  path: string;
  type: 'f64' | 'i32' | 'u8';
  length: number | null;
}

/**
 * A values column's file: doubles (`f64`, NaN = skipped), dictionary codes (`u8` with 255 or
 * `i32` with -1 for skipped; read back as doubles), or `'ts'` when the values are the event
 * times themselves (a `last` of the timestamp) and no file is kept.
 */
export type ValuesFile = IndexFile | 'ts';

export type FileColumn =
  | { kind: 'flags'; flags: IndexFile }
  | { kind: 'values'; values: ValuesFile; dict: string[] | null }
  | {
      kind: 'items';
      offsets: IndexFile;
      ts: IndexFile;
      codes: IndexFile;
      weights: IndexFile;
      dict: string[];
    };

export interface IndexFiles {
  keyCount: number;
  offsets: IndexFile;
  ts: IndexFile;
  dup: IndexFile;
  columns: [string, FileColumn][];
}

/** A file that is missing, short, or inconsistent with its siblings. */
export class IndexFileError extends Error {}

const BYTES = { f64: 8, i32: 4, u8: 1 } as const;

/** Whether a file of `size` bytes can hold `f`'s array (its length, when known). */
export function fits(f: IndexFile, size: number): boolean {
  const bytes = BYTES[f.type];
  return size % bytes === 0 && (f.length === null || size === f.length * bytes);
}

export function readArray(f: IndexFile): IndexArray {
  let fd: number;
  try {
    fd = openSync(f.path, 'r');
  } catch (e) {
    throw new IndexFileError(`sweep index: cannot open ${f.path}: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (!fits(f, size))
      throw new IndexFileError(
        `sweep index: ${f.path} has ${size} bytes, expected ${f.length ?? 'a multiple of'} × ${BYTES[f.type]}`,
      );
    const buf = new ArrayBuffer(size);
    const view = new Uint8Array(buf);
    for (let done = 0; done < size;) {
      const n = readSync(fd, view, done, size - done, done);
      if (n === 0) throw new IndexFileError(`sweep index: ${f.path} ended early`);
      done += n;
    }
    return f.type === 'f64'
      ? new Float64Array(buf)
      : f.type === 'i32'
        ? new Int32Array(buf)
        : new Uint8Array(buf);
  } finally {
    closeSync(fd);
  }
}

/** Doubles by byte: a `.u8` code file's bytes widened by lookup (255, skipped → NaN). */
const U8_VALUES = Float64Array.from({ length: 256 }, (_, c) => (c === 255 ? NaN : c));

/**
 * A values column as doubles: codes widened (their null marker → NaN), `'ts'` → `ts`. Bytes
 * go through {@link U8_VALUES} and 32-bit codes as `c + 1` through a table of their own
 * (index 0 = -1 → NaN) while their codes are few: whether an event is skipped is a coin
 * toss, which as a branch per event cost more than the widening itself.
 */
function readValues(f: ValuesFile, ts: Float64Array): Float64Array {
  if (f === 'ts') return ts;
  const a = readArray(f);
  if (a instanceof Float64Array) return a;
  const out = new Float64Array(a.length);
  if (a instanceof Uint8Array) {
    for (let i = 0; i < a.length; i++) out[i] = U8_VALUES[a[i]!]!;
    return out;
  }
  let max = -1;
  for (let i = 0; i < a.length; i++) max = Math.max(max, a[i]!);
  if (max < 1 << 20) {
    const table = new Float64Array(max + 2);
    table[0] = NaN;
    for (let c = 0; c <= max; c++) table[c + 1] = c;
    for (let i = 0; i < a.length; i++) out[i] = table[a[i]! + 1]!;
    return out;
  }
  for (let i = 0; i < a.length; i++) {
    const c = a[i]!;
    out[i] = c === -1 ? NaN : c;
  }
  return out;
}

/**
 * One column (synchronously), over the partition's event times `ts`. `read` reads a file; an
 * index's columns share one read per file ({@link readIndexFiles}).
 */
export function readColumn(
  c: FileColumn,
  ts: Float64Array,
  read: (f: IndexFile) => IndexArray = readArray,
  readValuesOf: (f: ValuesFile) => Float64Array = (f) => readValues(f, ts),
): SweepColumn {
  if (c.kind === 'flags') return { kind: 'flags', flags: read(c.flags) as Uint8Array };
  if (c.kind === 'values') return { kind: 'values', values: readValuesOf(c.values), dict: c.dict };
  const offsets = read(c.offsets) as Int32Array;
  const its = read(c.ts) as Float64Array;
  const codes = read(c.codes) as Int32Array;
  const weights = read(c.weights) as Float64Array;
  const n = offsets[offsets.length - 1];
  if (n !== its.length || n !== codes.length || n !== weights.length)
    throw new IndexFileError(`sweep index: the items of ${c.offsets.path} disagree in length`);
  return { kind: 'items', offsets, ts: its, codes, weights, dict: c.dict };
}

/**
 * Reads every file of `files` (synchronously); throws {@link IndexFileError} when one is bad.
 * A file that several columns name (features with the same input, e.g. a view's session
 * features: 72 MB per 9M events each) is read, and widened, once; the columns share the array
 * (sweeps only read their inputs).
 */
export function readIndexFiles(files: IndexFiles): PassIndex {
  const ts = readArray(files.ts) as Float64Array;
  const arrays = new Map<string, IndexArray>();
  const read = (f: IndexFile): IndexArray => {
    const key = `${f.type}:${f.path}`;
    let a = arrays.get(key);
    if (!a) arrays.set(key, (a = readArray(f)));
    return a;
  };
  const widened = new Map<string, Float64Array>();
  const values = (f: ValuesFile): Float64Array => {
    if (f === 'ts') return ts;
    const key = `${f.type}:${f.path}`;
    let a = widened.get(key);
    if (!a) widened.set(key, (a = readValues(f, ts)));
    return a;
  };
  const columns = new Map<string, SweepColumn>();
  for (const [name, c] of files.columns) columns.set(name, readColumn(c, ts, read, values));
  return {
    keyCount: files.keyCount,
    offsets: readArray(files.offsets) as Int32Array,
    ts,
    dup: readArray(files.dup) as Uint8Array,
    columns,
  };
}
