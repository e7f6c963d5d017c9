/**
 * An on-disk cache of sweep indexes (see `build-pass-index.ts`), so exports over the same raw
 * data skip scanning and sorting it: training sets are usually exported many times over one
 * history (new label spines, new feature lists). Like the validated-Parquet cache, an entry
 * depends only on the data and the definitions:
 *
 * `<home>/offline-cache/sweep-v<N>/<pass hash>-<data hash>/`
 * - `meta.json`, `keys.parquet`: the key dictionary and its partitions (written last);
 * - `p<i>.ts`, `p<i>.dup`, `p<i>.offsets`: partition i's event times, replay flags, key offsets;
 * - `<column>.dict.json`, `p<i>.<column>[.items part]`: one input column, keyed by the hash of
 *   what it reads (aggregation family, input, where, weight), shared by every feature reading
 *   the same thing and added to the entry when a later export needs a new one.
 *
 * The pass hash covers the source schema, keys, filter and partition size; the data hash the
 * source files (path, size, mtime). An entry for the same pass over older data is deleted when
 * a new one is written. Every file is written to a temp name and renamed, so a crash or a
 * concurrent export never leaves a half-written file; a missing or truncated file is rebuilt.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileColumn, IndexFile, IndexFiles } from '../../sweep/index-files.ts';
import type { IndexArray, PassIndex, SweepColumn } from '../../sweep/pass-index.ts';
import type { DuckDBClient } from '../duckdb-client.ts';
import { sqlString } from '../duckdb-client.ts';
import type { Pass, PassFeature } from '../sql/feature-pass.ts';
import type { Partition, PassPlan } from './build-pass-index.ts';

/** Bump when the layout or the meaning of a cached array changes. */
const VERSION = 1;

const hash = (v: unknown): string =>
  createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 24);

/** The kind of input column a feature reads: count flags, mode items, or values. */
export function columnFamily(pf: PassFeature): SweepColumn['kind'] {
  const a = pf.feature.aggregation;
  return a === 'count' ? 'flags' : a === 'mode' ? 'items' : 'values';
}

/** What an input column reads: features with the same key share the column. */
export function columnKey(pf: PassFeature): string {
  const f = pf.feature;
  const family = columnFamily(pf);
  return hash([family, f.input, f.where, family === 'items' ? f.weight : null]);
}

interface Meta {
  version: number;
  keyCount: number;
  partitions: Partition[];
}

function writeAtomic(path: string, data: IndexArray | string): void {
  const tmp = `${path}.${randomUUID()}.tmp`;
  writeFileSync(
    tmp,
    typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  renameSync(tmp, path);
}

async function readIndexArray<T extends IndexArray>(
  path: string,
  make: (b: ArrayBuffer, off: number, n: number) => T,
  bytes: number,
  expected: number | null,
): Promise<T | null> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch {
    return null;
  }
  if (buf.byteLength % bytes !== 0) return null;
  const n = buf.byteLength / bytes;
  if (expected !== null && n !== expected) return null;
  // readFileSync's buffer may sit at an unaligned offset of a shared pool: copy when it does.
  if (buf.byteOffset % bytes !== 0) {
    const copy = new Uint8Array(buf.byteLength);
    copy.set(buf);
    return make(copy.buffer, 0, n);
  }
  return make(buf.buffer as ArrayBuffer, buf.byteOffset, n);
}

const f64 = (b: ArrayBuffer, o: number, n: number): Float64Array => new Float64Array(b, o, n);
const i32 = (b: ArrayBuffer, o: number, n: number): Int32Array => new Int32Array(b, o, n);
const u8 = (b: ArrayBuffer, o: number, n: number): Uint8Array => new Uint8Array(b, o, n);

export class SweepIndexCache {
  readonly #root: string;

  constructor(cacheDir: string) {
    this.#root = join(cacheDir, `sweep-v${VERSION}`);
  }

  /** The entry of `pass` over the data `fingerprint` identifies (it may not exist yet). */
  entry(pass: Pass, fingerprint: string, partitionEvents: number): IndexCacheEntry {
    const def = hash([pass.schema, pass.keys, pass.filter, partitionEvents]);
    return new IndexCacheEntry(this.#root, def, hash(fingerprint));
  }
}

export class IndexCacheEntry {
  readonly dir: string;
  readonly #root: string;
  readonly #def: string;

  constructor(root: string, def: string, data: string) {
    this.#root = root;
    this.#def = def;
    this.dir = join(root, `${def}-${data}`);
  }

  #meta(): Meta | null {
    try {
      const m = JSON.parse(readFileSync(join(this.dir, 'meta.json'), 'utf8')) as Meta;
      return m.version === VERSION && existsSync(join(this.dir, 'keys.parquet')) ? m : null;
    } catch {
      return null;
    }
  }

  /** The cached key dictionary as a temp table, or null when the entry has none. */
  async loadPlan(client: DuckDBClient, keyTable: string): Promise<PassPlan | null> {
    const meta = this.#meta();
    if (!meta) return null;
    await client.run(
      `CREATE TEMP TABLE ${keyTable} AS SELECT * FROM read_parquet(${sqlString(join(this.dir, 'keys.parquet'))})`,
    );
    return { keyTable, keyCount: meta.keyCount, partitions: meta.partitions, dicts: new Map() };
  }

  /** Saves a new plan (replacing entries of the same pass over other data). */
  async savePlan(client: DuckDBClient, plan: PassPlan): Promise<void> {
    if (existsSync(this.#root))
      for (const name of readdirSync(this.#root))
        if (name.startsWith(`${this.#def}-`) && join(this.#root, name) !== this.dir)
          rmSync(join(this.#root, name), { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `keys.${randomUUID()}.tmp.parquet`);
    try {
      await client.run(`COPY ${plan.keyTable} TO ${sqlString(tmp)} (FORMAT parquet)`);
      renameSync(tmp, join(this.dir, 'keys.parquet'));
    } finally {
      rmSync(tmp, { force: true });
    }
    const meta: Meta = { version: VERSION, keyCount: plan.keyCount, partitions: plan.partitions };
    writeAtomic(join(this.dir, 'meta.json'), JSON.stringify(meta));
  }

  loadDict(key: string): string[] | null {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${key}.dict.json`), 'utf8')) as string[];
    } catch {
      return null;
    }
  }

  saveDict(key: string, strings: string[]): void {
    writeAtomic(join(this.dir, `${key}.dict.json`), JSON.stringify(strings));
  }

  /** Partition `p`'s times, replay flags and offsets; null when missing or inconsistent. */
  async loadBase(
    p: number,
    part: Partition,
  ): Promise<Pick<PassIndex, 'ts' | 'dup' | 'offsets'> | null> {
    const base = join(this.dir, `p${p}`);
    const [ts, dup, offsets] = await Promise.all([
      readIndexArray(`${base}.ts`, f64, 8, part.events),
      readIndexArray(`${base}.dup`, u8, 1, part.events),
      readIndexArray(`${base}.offsets`, i32, 4, part.to - part.from + 1),
    ]);
    return ts && dup && offsets ? { ts, dup, offsets } : null;
  }

  saveBase(p: number, index: PassIndex): void {
    const base = join(this.dir, `p${p}`);
    writeAtomic(`${base}.ts`, index.ts);
    writeAtomic(`${base}.dup`, index.dup);
    writeAtomic(`${base}.offsets`, index.offsets);
  }

  /** A cached input column of partition `p` (`events` long), or null. */
  async loadColumn(
    p: number,
    part: Partition,
    key: string,
    family: SweepColumn['kind'],
    dict: string[] | null,
  ): Promise<SweepColumn | null> {
    const base = join(this.dir, `p${p}.${key}`);
    if (family === 'flags') {
      const flags = await readIndexArray(base, u8, 1, part.events);
      return flags && { kind: 'flags', flags };
    }
    if (family === 'values') {
      const values = await readIndexArray(base, f64, 8, part.events);
      return values && { kind: 'values', values, dict };
    }
    if (!dict) return null;
    const offsets = await readIndexArray(`${base}.offsets`, i32, 4, part.to - part.from + 1);
    if (!offsets) return null;
    const n = offsets[offsets.length - 1]!;
    const [ts, codes, weights] = await Promise.all([
      readIndexArray(`${base}.ts`, f64, 8, n),
      readIndexArray(`${base}.codes`, i32, 4, n),
      readIndexArray(`${base}.weights`, f64, 8, n),
    ]);
    return ts && codes && weights ? { kind: 'items', offsets, ts, codes, weights, dict } : null;
  }

  /**
   * Partition `p`'s index as files a sweep worker reads itself, when every file is there with
   * its expected size (checked with `stat`); null otherwise (then {@link loadBase} and
   * {@link loadColumn} load what is there and the rest is built).
   */
  files(
    p: number,
    part: Partition,
    columns: readonly {
      col: string;
      key: string;
      family: SweepColumn['kind'];
      dict: string[] | null;
    }[],
  ): IndexFiles | null {
    const keys = part.to - part.from;
    const file = (path: string, type: IndexFile['type'], length: number | null): IndexFile => ({
      path: join(this.dir, path),
      type,
      length,
    });
    const out: IndexFiles = {
      keyCount: keys,
      offsets: file(`p${p}.offsets`, 'i32', keys + 1),
      ts: file(`p${p}.ts`, 'f64', part.events),
      dup: file(`p${p}.dup`, 'u8', part.events),
      columns: [],
    };
    const all: IndexFile[] = [out.offsets, out.ts, out.dup];
    for (const c of columns) {
      const base = `p${p}.${c.key}`;
      let fc: FileColumn;
      if (c.family === 'flags') fc = { kind: 'flags', flags: file(base, 'u8', part.events) };
      else if (c.family === 'values')
        fc = { kind: 'values', values: file(base, 'f64', part.events), dict: c.dict };
      else {
        if (!c.dict) return null;
        fc = {
          kind: 'items',
          offsets: file(`${base}.offsets`, 'i32', keys + 1),
          ts: file(`${base}.ts`, 'f64', null),
          codes: file(`${base}.codes`, 'i32', null),
          weights: file(`${base}.weights`, 'f64', null),
          dict: c.dict,
        };
      }
      out.columns.push([c.col, fc]);
      if (fc.kind === 'flags') all.push(fc.flags);
      else if (fc.kind === 'values') all.push(fc.values);
      else all.push(fc.offsets, fc.ts, fc.codes, fc.weights);
    }
    const BYTES = { f64: 8, i32: 4, u8: 1 } as const;
    for (const f of all) {
      let size: number;
      try {
        size = statSync(f.path).size;
      } catch {
        return null;
      }
      if (f.length !== null ? size !== f.length * BYTES[f.type] : size % BYTES[f.type] !== 0)
        return null;
    }
    return out;
  }

  saveColumn(p: number, key: string, col: SweepColumn): void {
    const base = join(this.dir, `p${p}.${key}`);
    if (col.kind === 'flags') writeAtomic(base, col.flags);
    else if (col.kind === 'values') writeAtomic(base, col.values);
    else {
      writeAtomic(`${base}.ts`, col.ts);
      writeAtomic(`${base}.codes`, col.codes);
      writeAtomic(`${base}.weights`, col.weights);
      writeAtomic(`${base}.offsets`, col.offsets); // last: it marks the column complete
    }
  }
}
