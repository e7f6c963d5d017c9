/**
 * The native JSON Lines validator's parity harness: both validators' cache entries of one file
 * (the native executable's and DuckDB's), compared column types, rows `EXCEPT ALL` both ways and
 * counts. Shared by the native validation tests (hand-picked, random and byte-mutated lines).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cachedJsonl } from '../../offline/duckdb/jsonl-cache.ts';
import {
  NATIVE_VALIDATOR,
  runNative,
  writePlan,
  type NativeResult,
} from '../../offline/duckdb/native-validate.ts';
import { sqlString, type DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { DuckDBSources } from '../../offline/duckdb/duckdb-sources.ts';
import { LocalDatabase } from '../../offline/local/local-database.ts';
import type { RecordType } from '../../definitions/record-schema.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { RejectReport } from '../../offline/offline-store.ts';
import { WIDE } from './jsonl-line-arbs.ts';

/** Builds the executable when it is missing (CI has cargo); a clear error when it cannot. */
export function ensureNativeValidator(): void {
  if (existsSync(NATIVE_VALIDATOR)) return;
  const r = spawnSync(process.execPath, ['native/build.mjs'], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(NATIVE_VALIDATOR))
    throw new Error(
      'the native JSON Lines validator is not built and `npm run build:native` failed: install cargo (https://rustup.rs)',
    );
}

/** A record of `WIDE.SCHEMA` (test/support/jsonl-line-arbs.ts) every rule accepts. */
export const WIDE_GOOD = {
  id: 'x',
  code: 'ab',
  qty: 5,
  score: 0.5,
  ratio: null,
  tags: ['ab'],
  n: null,
  kind: 'a',
  ts: 1,
  x: null,
  flag: true,
  attrs: {},
  counts: {},
  items: [],
  ctx: null,
};

/** Both validators' entries of files, written under `dir`, read through `db()`. */
export class NativeEntries {
  #n = 0;
  constructor(
    private readonly db: () => DuckDBClient,
    private readonly dir: string,
  ) {}

  /** DuckDB's entry of `file` (the cache without the native validator). */
  async duckdb(file: string, schema: RecordType): Promise<string> {
    const home = join(this.dir, `duckdb-${this.#n++}`);
    const [entry] = await cachedJsonl(this.db(), home, schema, [file], undefined, false);
    return entry!;
  }

  /** The native validator's run over `file` (its entry, when it decided every line). */
  async native(file: string, schema: RecordType): Promise<{ out: string; r: NativeResult }> {
    const plan = join(this.dir, `plan-${this.#n}.json`);
    const out = join(this.dir, `native-${this.#n++}.parquet`);
    writePlan(plan, schema);
    return { out, r: await runNative(NATIVE_VALIDATOR, plan, file, file, out) };
  }

  /** Rows of `a` not in `b` (with duplicates), as JSON text (cut at 300 characters). */
  async except(a: string, b: string): Promise<string[]> {
    const rows = await this.db().all(
      `SELECT left(to_json(t)::VARCHAR, 300) AS r FROM (SELECT * FROM read_parquet(${sqlString(a)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(b)})) t`,
    );
    return rows.map((r) => String(r.r));
  }

  async count(path: string): Promise<number> {
    const [r] = await this.db().all(
      `SELECT count(*)::INT AS n FROM read_parquet(${sqlString(path)})`,
    );
    return Number(r!.n);
  }

  /** Column names and types of a Parquet file, as DuckDB reads them. */
  async types(path: string): Promise<string[]> {
    const rows = await this.db().all(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
    return rows.map((r) => `${String(r.column_name)} ${String(r.column_type)}`);
  }

  /** The same columns and types, and the same rows both ways. */
  async expectSame(a: string, b: string, what: string): Promise<void> {
    expect(await this.types(b), what).toEqual(await this.types(a));
    expect(await this.except(a, b), what).toEqual([]);
    expect(await this.except(b, a), what).toEqual([]);
    expect(await this.count(b), what).toBe(await this.count(a));
  }
}

/**
 * Loads the JSON Lines files of `dir` (a folder below `dataDir`) as a batch source of
 * `WIDE.SCHEMA`, in a DuckDB of its own under `home` (clock 2024-01-01, 5 minutes' future
 * skew, 3 reject examples), with or without the validation cache and the native validator;
 * `inspect` sees the loaded table before the database closes. Returns the reject reports.
 */
export async function loadWideSource(
  o: {
    dataDir: string;
    dir: string;
    home: string;
    cache: boolean;
    native: boolean;
    memoryLimit: string;
  },
  inspect?: (client: DuckDBClient, table: string) => Promise<void>,
): Promise<RejectReport[]> {
  const local = new LocalDatabase({ home: o.home, memoryLimit: o.memoryLimit, threads: 1 });
  const client = await local.connect();
  try {
    const s = new DuckDBSources(
      {
        dataDir: o.dataDir,
        cacheDir: join(o.home, 'offline-cache'),
        cacheJsonl: o.cache,
        nativeValidation: o.native,
        rejectExamples: 3,
        ingest: { clock: () => Date.UTC(2024, 0, 1), maxFutureSkewMs: 300_000 },
      },
      local,
    );
    const spec: BatchSourceSpec = {
      kind: 'batch_source',
      name: 's',
      path: o.dir.slice(o.dataDir.length + 1),
      bigqueryTable: 's',
      timestampField: 'ts',
      idField: 'id',
      schema: WIDE.SCHEMA,
      description: '',
    };
    const rejects: RejectReport[] = [];
    const { table } = await s.load(client, spec, WIDE.FIELDS, rejects);
    await inspect?.(client, table);
    return rejects;
  } finally {
    local.close();
  }
}
