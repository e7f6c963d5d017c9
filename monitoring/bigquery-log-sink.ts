/**
 * Writes feature-log rows to a BigQuery table of the BigQuery offline store (default
 * `<dataset>.larder_feature_log`, `offlineStore.featureLogTable`), created when missing with the
 * Parquet file's columns and partitioned by day on `ts`. Rows are streamed
 * (`tabledata.insertAll`) in requests of at most {@link INSERT_CHUNK_ROWS} rows, each row with
 * the insert id `<request_id>:<row>` so BigQuery drops a retried row it already has (best
 * effort). A request that fails transiently (HTTP 429 and 5xx, a connection reset or timeout, a
 * table gone since it was created) is retried with backoff; otherwise the write fails and the
 * feature log counts the rows not written as `sink_error` (docs/monitoring.md "Feature logging").
 */
import { BigQuery } from '@google-cloud/bigquery';
import { LarderError } from '../core/errors.ts';
import { logColumns, type FeatureLogRow, type FeatureLogSink } from './feature-log.ts';

/** The table feature logs go to when `featureLogTable` is not set. */
export const FEATURE_LOG_TABLE = 'larder_feature_log';

/** Rows per insertAll request (BigQuery recommends about 500). */
export const INSERT_CHUNK_ROWS = 500;

/** The columns of the log table, as created. */
export const LOG_TABLE_COLUMNS =
  'request_id STRING, service STRING, ts TIMESTAMP, `row` INT64, entities STRING, features STRING, statuses STRING, model STRING, arm STRING, score FLOAT64';

/** A row as insertAll takes it: the insert id, and the columns. */
export interface InsertRow {
  insertId: string;
  json: Record<string, unknown>;
}

/** The slice of the BigQuery client the log table needs (a fake in tests). */
export interface LogTableClient {
  /** Runs a GoogleSQL statement (DDL or a query) and returns its rows. */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Streams rows into `dataset.table` (tabledata.insertAll). */
  insert(dataset: string, table: string, rows: InsertRow[]): Promise<void>;
}

/** Where the log table is: `project`, `dataset`, `table`. */
export interface LogTableLocation {
  project: string;
  dataset: string;
  table: string;
}

/**
 * The log table of a BigQuery offline store's options: `featureLogTable` is `table` (in the
 * store's dataset) or `dataset.table`.
 *
 * @example
 * logTableOf({ project: 'p', dataset: 'features' }) // { project: 'p', dataset: 'features', table: 'larder_feature_log' }
 */
export function logTableOf(store: {
  project: string;
  dataset: string;
  featureLogTable?: string | undefined;
}): LogTableLocation {
  const name = store.featureLogTable ?? FEATURE_LOG_TABLE;
  const dot = name.indexOf('.');
  return dot < 0
    ? { project: store.project, dataset: store.dataset, table: name }
    : { project: store.project, dataset: name.slice(0, dot), table: name.slice(dot + 1) };
}

/** `project.dataset.table`, quoted for GoogleSQL. */
export const logTableSql = (t: LogTableLocation): string =>
  `\`${t.project}.${t.dataset}.${t.table}\``;

/** A {@link LogTableClient} over the real client library. */
export function createLogTableClient(opts: {
  project: string;
  location?: string | undefined;
  apiEndpoint?: string | undefined;
}): LogTableClient {
  const bq = new BigQuery({
    projectId: opts.project,
    ...(opts.location ? { location: opts.location } : {}),
    ...(opts.apiEndpoint ? { apiEndpoint: opts.apiEndpoint } : {}),
  });
  return {
    async query(sql) {
      const [rows] = await bq.query({
        query: sql,
        useLegacySql: false,
        ...(opts.location ? { location: opts.location } : {}),
      });
      return rows as Record<string, unknown>[];
    },
    async insert(dataset, table, rows) {
      await bq.dataset(dataset).table(table).insert(rows, { raw: true });
    },
  };
}

const TRANSIENT_REASONS = new Set(['backendError', 'internalError', 'rateLimitExceeded']);
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** Whether retrying the same insert can help: 429/5xx, a network failure, a transient reason. */
export function isTransient(e: unknown): boolean {
  const x = e as {
    code?: unknown;
    errors?: { reason?: string }[];
    cause?: unknown;
    name?: string;
  };
  if (x?.name === 'PartialFailureError') return false; // rows refused: the same rows fail again
  if (typeof x?.code === 'number') return x.code === 429 || x.code >= 500;
  if (typeof x?.code === 'string' && TRANSIENT_NET.has(x.code)) return true;
  if (x?.errors?.some((r) => r.reason && TRANSIENT_REASONS.has(r.reason))) return true;
  return x?.cause !== undefined && x.cause !== e ? isTransient(x.cause) : false;
}

const isNotFound = (e: unknown): boolean => (e as { code?: unknown })?.code === 404;

const describe = (e: unknown): string => {
  const x = e as { name?: string; errors?: { errors?: { message?: string }[] }[] };
  if (x?.name === 'PartialFailureError') {
    const first = x.errors?.[0]?.errors?.[0]?.message;
    return `BigQuery refused rows${first ? `: ${first}` : ''}`;
  }
  return e instanceof Error ? e.message : String(e);
};

/** A row as the table's columns (`ts` as an ISO-8601 timestamp; JSON objects as strings). */
export const rowColumns = (r: FeatureLogRow): Record<string, unknown> => ({
  ...logColumns(r),
  ts: new Date(r.t).toISOString(),
});

export interface BigQueryLogSinkOptions {
  /** Attempts per insert request, the first included (default 4). */
  attempts?: number;
  /** Backoff before retry n (1-based): `backoffMs · 2^(n−1)` (default 250). */
  backoffMs?: number;
}

/**
 * @example
 * const sink = new BigQueryLogSink(createLogTableClient({ project }), logTableOf(config.offlineStore));
 * await sink.write(rows); // → project.dataset.larder_feature_log
 */
export class BigQueryLogSink implements FeatureLogSink {
  readonly destination = 'bigquery';
  readonly table: LogTableLocation;
  readonly #client: LogTableClient;
  readonly #attempts: number;
  readonly #backoffMs: number;
  /** The table made ready by this process (reset on failure, and when the table is gone). */
  #ready: Promise<void> | null = null;

  constructor(client: LogTableClient, table: LogTableLocation, opts: BigQueryLogSinkOptions = {}) {
    this.#client = client;
    this.table = table;
    this.#attempts = opts.attempts ?? 4;
    this.#backoffMs = opts.backoffMs ?? 250;
  }

  #prepare(): Promise<void> {
    this.#ready ??= this.#client
      .query(
        `CREATE TABLE IF NOT EXISTS ${logTableSql(this.table)} (${LOG_TABLE_COLUMNS}) PARTITION BY DATE(ts)`,
      )
      .then(() => undefined)
      .catch((e: unknown) => {
        this.#ready = null;
        throw e;
      });
    return this.#ready;
  }

  async #insert(rows: InsertRow[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#prepare();
        await this.#client.insert(this.table.dataset, this.table.table, rows);
        return;
      } catch (e) {
        // A table dropped since it was created: create it again, then retry.
        if (isNotFound(e)) this.#ready = null;
        if (attempt >= this.#attempts || !(isTransient(e) || isNotFound(e))) throw e;
        await new Promise((r) => setTimeout(r, this.#backoffMs * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Inserts the rows in order; when a request fails for good, throws a `LARDER_STORE_UNAVAILABLE`
   * error whose `written` is the count of rows inserted before it.
   */
  async write(rows: readonly FeatureLogRow[]): Promise<void> {
    let written = 0;
    for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
      const chunk = rows.slice(i, i + INSERT_CHUNK_ROWS).map((r) => ({
        insertId: `${r.requestId}:${r.row}`,
        json: rowColumns(r),
      }));
      try {
        await this.#insert(chunk);
      } catch (e) {
        const t = this.table;
        throw Object.assign(
          new LarderError(
            'LARDER_STORE_UNAVAILABLE',
            `BigQuery insert into ${t.project}.${t.dataset}.${t.table} failed: ${describe(e)}`,
            { cause: e },
          ),
          { written },
        );
      }
      written += chunk.length;
    }
  }

  async close(): Promise<void> {
    this.#ready = null;
  }
}

/**
 * The `'bigquery'` destination when the offline store is not BigQuery: every write fails
 * (`sink_error`), saying what to configure.
 */
export class UnconfiguredBigQueryLogSink implements FeatureLogSink {
  readonly destination = 'bigquery';
  readonly #store: string;

  constructor(store: string) {
    this.#store = store;
  }

  write(): Promise<void> {
    return Promise.reject(
      new LarderError(
        'LARDER_CONFIG_INVALID',
        `logging to 'bigquery' needs a BigQuery offline store (offlineStore.type is '${this.#store}')`,
        { hint: "set offlineStore: { type: 'bigquery', project, dataset } or log to 'parquet'" },
      ),
    );
  }

  async close(): Promise<void> {}
}
