/**
 * The in-process paths of the differential fuzzer (no services): export with both DuckDB
 * engines, materialization into SQLite (in one run, and in two: the second incremental after
 * more records were appended, `incremental.ts`), pushes into SQLite, and the records as Avro
 * stream messages decoded and folded as the stream worker does (`avro-path.ts`), each against
 * the reference.
 * Used by the bounded unit test (`fuzz.test.ts`), the regressions and `npm run fuzz`.
 *
 * @example
 * const env = await openInProcessEnv();
 * const mismatches = await env.check(atAnchor(c, ANCHOR));
 * await env.close();
 */
import { join } from 'node:path';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { buildRepository } from './definitions.ts';
import {
  checkExport,
  checkMaterialized,
  checkPushed,
  guarded,
  writeSources,
  type Mismatch,
  type StoreFactory,
} from './differential.ts';
import type { FuzzCase } from './fuzz-case.ts';
import { checkAvroStreamed, openAvroProducer } from './avro-path.ts';
import { checkIncremental } from './incremental.ts';
import { checkExportFromFile } from './entity-file-path.ts';
import { checkBatchView } from './batch-view-path.ts';

/** A whole day (2023-11-15), the anchor of the in-process runs: no wall clock involved. */
export const ANCHOR = 1_700_006_400_000;

export interface InProcessEnv {
  /** Every in-process path's mismatches for a case (already at its anchor). */
  check(c: FuzzCase): Promise<Mismatch[]>;
  /** Records the Avro path sent so far, as Avro and (what the `.avsc` cannot carry) as JSON. */
  readonly avroRecords: { avro: number; json: number };
  close(): Promise<void>;
}

export async function openInProcessEnv(): Promise<InProcessEnv> {
  const tmp = tempDir();
  const dataDir = join(tmp.dir, 'data');
  // The ingest rules judge "later than now" by the case's clock, as push and stream do.
  let now = 0;
  const duck = (engine: 'sweep' | 'sql'): DuckDBOfflineStore =>
    new DuckDBOfflineStore(
      {
        type: 'duckdb',
        dataDir,
        home: join(tmp.dir, `home-${engine}`),
        memoryLimit: '512MB',
        engine,
        ...(engine === 'sweep' ? { sweepThreads: 1 } : {}),
      },
      { clock: () => now },
    );
  const sweep = duck('sweep');
  const sql = duck('sql');
  await Promise.all([sweep.init(), sql.init()]);
  const sqlitePath = join(tmp.dir, 'online.sqlite');
  const sqlite: StoreFactory = (options) =>
    createOnlineStore({ type: 'sqlite', path: sqlitePath }, options);
  const producer = await openAvroProducer(buildRepository([]));
  const avroRecords = { avro: 0, json: 0 };
  return {
    avroRecords,
    async check(c) {
      now = c.now;
      const repo = buildRepository(c.plans, c.onDemand, c.batch ?? null);
      writeSources(dataDir, c);
      const paths: [string, () => Promise<Mismatch[]>][] = [
        ['export (sweep)', () => checkExport('export (sweep)', sweep, repo, c)],
        ['export (sql)', () => checkExport('export (sql)', sql, repo, c)],
        [
          'export from an entity file (sweep)',
          () => checkExportFromFile('export from an entity file (sweep)', tmp.dir, sweep, repo, c),
        ],
        ['batch view', () => checkBatchView('batch view', { sweep, sql }, repo, c)],
        [
          'materialized (SQLite)',
          () => checkMaterialized('materialized (SQLite)', sweep, sqlite, repo, c),
        ],
        ['pushed (SQLite)', () => checkPushed('pushed (SQLite)', sqlite, repo, c)],
        [
          'streamed as Avro, decoded in process (SQLite)',
          () =>
            checkAvroStreamed(
              'streamed as Avro, decoded in process (SQLite)',
              producer,
              sqlite,
              repo,
              c,
              avroRecords,
            ),
        ],
        [
          'materialized incrementally (SQLite)',
          () =>
            checkIncremental(
              'materialized incrementally (SQLite)',
              dataDir,
              sweep,
              sqlite,
              repo,
              c,
            ),
        ],
      ];
      const out: Mismatch[] = [];
      for (const [path, run] of paths) out.push(...(await guarded(path, run)));
      return out;
    },
    async close() {
      await Promise.all([sweep.close(), sql.close(), producer.close()]);
      tmp.cleanup();
    },
  };
}
