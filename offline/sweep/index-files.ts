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

export type FileColumn =
  | { kind: 'flags'; flags: IndexFile }
  | { kind: 'values'; values: IndexFile; dict: string[] | null }
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

function readArray(f: IndexFile): IndexArray {
  let fd: number;
  try {
    fd = openSync(f.path, 'r');
  } catch (e) {
    throw new IndexFileError(`sweep index: cannot open ${f.path}: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const bytes = BYTES[f.type];
    if (size % bytes !== 0 || (f.length !== null && size !== f.length * bytes))
      throw new IndexFileError(
        `sweep index: ${f.path} has ${size} bytes, expected ${f.length ?? 'a multiple of'} × ${bytes}`,
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

/** Reads every file of `files` (synchronously); throws {@link IndexFileError} when one is bad. */
export function readIndexFiles(files: IndexFiles): PassIndex {
  const columns = new Map<string, SweepColumn>();
  for (const [name, c] of files.columns) {
    if (c.kind === 'flags')
      columns.set(name, { kind: 'flags', flags: readArray(c.flags) as Uint8Array });
    else if (c.kind === 'values')
      columns.set(name, {
        kind: 'values',
        values: readArray(c.values) as Float64Array,
        dict: c.dict,
      });
    else {
      const offsets = readArray(c.offsets) as Int32Array;
      const ts = readArray(c.ts) as Float64Array;
      const codes = readArray(c.codes) as Int32Array;
      const weights = readArray(c.weights) as Float64Array;
      const n = offsets[offsets.length - 1];
      if (n !== ts.length || n !== codes.length || n !== weights.length)
        throw new IndexFileError(`sweep index: the items of ${c.offsets.path} disagree in length`);
      columns.set(name, { kind: 'items', offsets, ts, codes, weights, dict: c.dict });
    }
  }
  return {
    keyCount: files.keyCount,
    offsets: readArray(files.offsets) as Int32Array,
    ts: readArray(files.ts) as Float64Array,
    dup: readArray(files.dup) as Uint8Array,
    columns,
  };
}
