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
 *   the same thing and added to the entry when a later export needs a new one. Values that are
 *   dictionary codes are kept as `.u8` (255 = skipped) or `.i32` (-1), values equal to the event
 *   times as an empty `.is-ts` marker: a third of the bytes an export reads, for the e-commerce
 *   repository, versus one double per event and column.
 *
 * The pass hash covers the source schema, keys, filter and partition size; the data hash the
 * source files (path, size, mtime). An entry for the same pass over older data is deleted when
 * a new one is written, and so are entries of other layout versions. Every file is written to a temp name and renamed, so a crash or a
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
} from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../../core/write-file-atomic.ts';
import {
  fits,
  IndexFileError,
  readArray,
  readColumn,
  type FileColumn,
  type IndexFile,
  type IndexFiles,
} from '../../sweep/index-files.ts';
import type { PassIndex, SweepColumn } from '../../sweep/pass-index.ts';
import type { DuckDBClient } from '../../local/duckdb-client.ts';
import { sqlString } from '../../local/duckdb-client.ts';
import type { Pass, PassFeature } from '../../export/pass.ts';
import type { Partition, PassPlan } from './build-pass-index.ts';
import { isSequenceKind } from '../../../core/sequence.ts';

/** Bump when the layout or the meaning of a cached array changes. */
const VERSION = 3; // 3: numeric inputs above 1e300 are skipped (docs/concepts.md "Nulls")

/** A file's size, or null when it is not there. */
function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

/** Whether `f` is there with a size that fits its array (checked with `stat`). */
function ok(f: IndexFile): boolean {
  const size = sizeOf(f.path);
  return size !== null && fits(f, size);
}

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
  const key = [family, f.input, f.where, family === 'items' ? f.weight : null];
  // A sequence feature's values column encodes (value code, match): never shared with others.
  return hash(isSequenceKind(f.aggregation) ? [...key, 'sequence'] : key);
}

interface Meta {
  version: number;
  keyCount: number;
  partitions: Partition[];
}

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
    // Without the keys' event counts (`__n`): only planning a pass reads them, over the table
    // it builds (≈ 15 of 53 CPU-ms for the 10M benchmark's three key tables).
    await client.run(
      `CREATE TEMP TABLE ${keyTable} AS SELECT * EXCLUDE (__n) FROM read_parquet(${sqlString(join(this.dir, 'keys.parquet'))})`,
    );
    return { keyTable, keyCount: meta.keyCount, partitions: meta.partitions, dicts: new Map() };
  }

  /** Saves a new plan (replacing entries of the same pass over other data). */
  async savePlan(client: DuckDBClient, plan: PassPlan): Promise<void> {
    // Entries of other layout versions are never read again.
    const parent = dirname(this.#root);
    if (existsSync(parent))
      for (const name of readdirSync(parent))
        if (/^sweep-v\d+$/.test(name) && join(parent, name) !== this.#root)
          rmSync(join(parent, name), { recursive: true, force: true });
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
    writeFileAtomic(join(this.dir, 'meta.json'), JSON.stringify(meta));
  }

  loadDict(key: string): string[] | null {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${key}.dict.json`), 'utf8')) as string[];
    } catch {
      return null;
    }
  }

  saveDict(key: string, strings: string[]): void {
    writeFileAtomic(join(this.dir, `${key}.dict.json`), JSON.stringify(strings));
  }

  /** Partition `p`'s times, replay flags and offsets; null when missing or inconsistent. */
  loadBase(p: number, part: Partition): Pick<PassIndex, 'ts' | 'dup' | 'offsets'> | null {
    const base = join(this.dir, `p${p}`);
    try {
      return {
        ts: readArray({ path: `${base}.ts`, type: 'f64', length: part.events }) as Float64Array,
        dup: readArray({ path: `${base}.dup`, type: 'u8', length: part.events }) as Uint8Array,
        offsets: readArray({
          path: `${base}.offsets`,
          type: 'i32',
          length: part.to - part.from + 1,
        }) as Int32Array,
      };
    } catch (e) {
      if (e instanceof IndexFileError) return null;
      throw e;
    }
  }

  saveBase(p: number, index: PassIndex): void {
    const base = join(this.dir, `p${p}`);
    writeFileAtomic(`${base}.ts`, index.ts);
    writeFileAtomic(`${base}.dup`, index.dup);
    writeFileAtomic(`${base}.offsets`, index.offsets);
  }

  /** A cached input column of partition `p` over its event times `ts`, or null. */
  loadColumn(
    p: number,
    part: Partition,
    column: { key: string; family: SweepColumn['kind']; dict: string[] | null },
    ts: Float64Array,
  ): SweepColumn | null {
    const f = this.#fileColumn(p, part, column);
    if (!f) return null;
    try {
      return readColumn(f, ts);
    } catch (e) {
      if (e instanceof IndexFileError) return null;
      throw e;
    }
  }

  /** Where column `key` of partition `p` is kept (checked with `stat`), or null. */
  #fileColumn(
    p: number,
    part: Partition,
    c: { key: string; family: SweepColumn['kind']; dict: string[] | null },
  ): FileColumn | null {
    const keys = part.to - part.from;
    const base = join(this.dir, `p${p}.${c.key}`);
    const file = (path: string, type: IndexFile['type'], length: number | null): IndexFile => ({
      path,
      type,
      length,
    });
    if (c.family === 'flags') {
      const flags = file(base, 'u8', part.events);
      return ok(flags) ? { kind: 'flags', flags } : null;
    }
    if (c.family === 'values') {
      if (sizeOf(`${base}.is-ts`) !== null) return { kind: 'values', values: 'ts', dict: c.dict };
      for (const f of [
        file(`${base}.u8`, 'u8', part.events),
        file(`${base}.i32`, 'i32', part.events),
        file(base, 'f64', part.events),
      ])
        if (ok(f)) return { kind: 'values', values: f, dict: c.dict };
      return null;
    }
    if (!c.dict) return null;
    const items: FileColumn = {
      kind: 'items',
      offsets: file(`${base}.offsets`, 'i32', keys + 1),
      ts: file(`${base}.ts`, 'f64', null),
      codes: file(`${base}.codes`, 'i32', null),
      weights: file(`${base}.weights`, 'f64', null),
      dict: c.dict,
    };
    return [items.offsets, items.ts, items.codes, items.weights].every(ok) ? items : null;
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
    if (![out.offsets, out.ts, out.dup].every(ok)) return null;
    for (const c of columns) {
      const fc = this.#fileColumn(p, part, c);
      if (!fc) return null;
      out.columns.push([c.col, fc]);
    }
    return out;
  }

  /**
   * Keeps column `key` of partition `p`: values as dictionary codes when they are codes (1 byte
   * for up to 255 strings), or as a marker when they are the event times `ts` themselves.
   */
  saveColumn(p: number, key: string, col: SweepColumn, ts: Float64Array): void {
    const base = join(this.dir, `p${p}.${key}`);
    if (col.kind === 'flags') writeFileAtomic(base, col.flags);
    else if (col.kind === 'values') {
      const v = col.values;
      if (col.dict) {
        const narrow = col.dict.length < 255;
        const codes = narrow ? new Uint8Array(v.length) : new Int32Array(v.length);
        const none = narrow ? 255 : -1;
        for (let i = 0; i < v.length; i++) codes[i] = v[i] !== v[i] ? none : v[i]!;
        writeFileAtomic(`${base}.${narrow ? 'u8' : 'i32'}`, codes);
      } else if (v === ts || (v.length === ts.length && v.every((x, i) => x === ts[i])))
        writeFileAtomic(`${base}.is-ts`, '');
      else writeFileAtomic(base, v);
    } else {
      writeFileAtomic(`${base}.ts`, col.ts);
      writeFileAtomic(`${base}.codes`, col.codes);
      writeFileAtomic(`${base}.weights`, col.weights);
      writeFileAtomic(`${base}.offsets`, col.offsets); // last: it marks the column complete
    }
  }
}
