/**
 * The embedded DuckDB an offline store works in: opened on first use (a failed start is retried
 * by the next call), spilling to its own folder under `<home>/duckdb-tmp/`, with fresh names
 * for temp tables and a way to drop them all. The DuckDB store reads its sources here; every
 * store loads entity rows, computes on-demand features and writes outputs here.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LarderError } from '../../core/errors.ts';
import { DuckDBClient, ident, type SqlTrace } from './duckdb-client.ts';

export interface LocalDatabaseOptions {
  /** `$LARDER_HOME`: spill files go to `<home>/duckdb-tmp/<random>/`. */
  home: string;
  /** DuckDB memory limit, e.g. `'2GB'`. */
  memoryLimit: string;
  threads?: number;
  /** Statement timings on stderr (`config.trace.sql`, default off). */
  trace?: SqlTrace;
}

export class LocalDatabase {
  /** A scratch folder of this database's own (spill files, uploads), removed by `close`. */
  readonly tmpDir: string;
  readonly #options: LocalDatabaseOptions;
  #client: DuckDBClient | null = null;
  #initPromise: Promise<DuckDBClient> | null = null;
  #seq = 0;

  constructor(options: LocalDatabaseOptions) {
    this.#options = options;
    this.tmpDir = join(options.home, 'duckdb-tmp', randomUUID());
  }

  /** The connection, opened on first call; throws LARDER_STORE_UNAVAILABLE when DuckDB cannot start. */
  connect(): Promise<DuckDBClient> {
    this.#initPromise ??= (async () => {
      mkdirSync(this.tmpDir, { recursive: true });
      const settings: Record<string, string> = {
        memory_limit: this.#options.memoryLimit,
        temp_directory: this.tmpDir,
        preserve_insertion_order: 'true',
      };
      if (this.#options.threads) settings.threads = String(this.#options.threads);
      const client = await DuckDBClient.open(settings, this.#options.trace);
      await client.run(`SET TimeZone = 'UTC'`);
      // Progress of long statements for `DuckDBClient.progress` (never printed by DuckDB).
      await client.run('SET enable_progress_bar = true');
      await client.run('SET enable_progress_bar_print = false');
      this.#client = client;
      return client;
    })().catch((e: unknown) => {
      this.#initPromise = null; // a later call retries
      throw new LarderError(
        'LARDER_STORE_UNAVAILABLE',
        `cannot start DuckDB: ${(e as Error).message}`,
        { cause: e },
      );
    });
    return this.#initPromise;
  }

  /** A fresh name for a temp table or file: `<prefix>_<n>`. */
  name(prefix: string): string {
    return `${prefix}_${++this.#seq}`;
  }

  /** Drops every temp view and table (the end of an export, of a tiles read). */
  async dropTemps(client: DuckDBClient): Promise<void> {
    const views = await client.all(
      `SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal`,
    );
    for (const v of views) await client.run(`DROP VIEW IF EXISTS ${ident(String(v.view_name))}`);
    const temps = await client.all(`SELECT table_name FROM duckdb_tables() WHERE temporary`);
    for (const t of temps) await client.run(`DROP TABLE IF EXISTS ${ident(String(t.table_name))}`);
  }

  close(): void {
    this.#client?.close();
    this.#client = null;
    this.#initPromise = null;
    rmSync(this.tmpDir, { recursive: true, force: true });
  }
}
