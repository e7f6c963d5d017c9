/**
 * Writes feature-log rows as Parquet files under `<dir>/<service>/` (`dir` is
 * `$LARDER_DATA_DIR/logs`), one file per flush, named `<epoch ms>-<pid>-<seq>.parquet` so
 * several server processes never collide. Columns (docs/monitoring.md "Feature logging"):
 * `request_id`, `service`, `ts` (TIMESTAMP, the read's evaluation time), `row`, `entities`,
 * `features`, `statuses` (JSON objects as VARCHAR), `model`, `arm`, `score`.
 * Rows go through a JSON-lines file DuckDB converts (COPY), removed afterwards.
 *
 * @example
 * const sink = new ParquetLogSink(join(config.dataDir, 'logs'));
 * await sink.write(rows); // → logs/recommendation_v1/1765029600000-4242-0.parquet
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBClient } from '../offline/local/duckdb-client.ts';
import { logColumns, type FeatureLogRow, type FeatureLogSink } from './feature-log.ts';

const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The column types of a log file, as `read_json` reads the JSON lines. */
const COLUMNS =
  "{request_id: 'VARCHAR', service: 'VARCHAR', ts: 'BIGINT', row: 'INTEGER', entities: 'VARCHAR', features: 'VARCHAR', statuses: 'VARCHAR', model: 'VARCHAR', arm: 'VARCHAR', score: 'DOUBLE'}";

export class ParquetLogSink implements FeatureLogSink {
  readonly destination = 'parquet';
  readonly #dir: string;
  #client: Promise<DuckDBClient> | null = null;
  #seq = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #open(): Promise<DuckDBClient> {
    // Lazy, and reset on failure (the next flush tries again).
    this.#client ??= DuckDBClient.open({ threads: '1' }).catch((e: unknown) => {
      this.#client = null;
      throw e;
    });
    return this.#client;
  }

  async write(rows: readonly FeatureLogRow[]): Promise<void> {
    const byService = new Map<string, FeatureLogRow[]>();
    for (const r of rows) {
      const list = byService.get(r.service);
      if (list) list.push(r);
      else byService.set(r.service, [r]);
    }
    const db = await this.#open();
    for (const [service, list] of byService) {
      const dir = join(this.#dir, service);
      mkdirSync(dir, { recursive: true });
      const base = join(dir, `${Date.now()}-${process.pid}-${this.#seq++}`);
      const tmp = `${base}.jsonl.tmp`;
      writeFileSync(tmp, list.map((r) => JSON.stringify(logColumns(r))).join('\n') + '\n');
      try {
        // Written under a temporary name and renamed into place, so a reader of `*.parquet`
        // never sees half a file.
        await db.run(
          `COPY (SELECT request_id, service, make_timestamp(ts * 1000) AS ts, row, entities, features, statuses, model, arm, score
             FROM read_json(${sqlString(tmp)}, format = 'newline_delimited', columns = ${COLUMNS}))
           TO ${sqlString(`${base}.parquet.tmp`)} (FORMAT parquet)`,
        );
        renameSync(`${base}.parquet.tmp`, `${base}.parquet`);
      } finally {
        rmSync(tmp, { force: true });
      }
    }
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    if (c) (await c.catch(() => null))?.close();
  }
}
