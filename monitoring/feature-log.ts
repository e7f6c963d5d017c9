/**
 * Feature logging: what `serve` served, kept in a bounded buffer and written by a sink off the
 * request path. A request only enqueues (a reference to its entities and its response); rows are
 * built and written when the buffer flushes — on a timer, when it holds `flushRows` rows, and on
 * `drain()` (server shutdown). When the buffer holds `capacity` rows a request's rows are dropped
 * and counted, never waited for (docs/monitoring.md "Feature logging").
 */
import { randomUUID } from 'node:crypto';

/** One logged entity row: what one entity of one request was served. */
export interface FeatureLogRow {
  requestId: string;
  service: string;
  /** Evaluation time of the read, epoch ms. */
  t: number;
  /** Row index within the request. */
  row: number;
  /** Entity keys (and request-data fields) of the row. */
  entities: Record<string, unknown>;
  /** Feature values by output name (null = no value). */
  values: Record<string, unknown>;
  /** Feature statuses by output name (PRESENT, NOT_FOUND, NULL_VALUE, OUTSIDE_MAX_AGE). */
  statuses: Record<string, string>;
  model: string | null;
  arm: string | null;
  score: number | null;
}

/**
 * A row as the log files' and table's columns (docs/monitoring.md "Feature logging"): `ts` as
 * epoch ms, the entity keys, values and statuses as JSON text.
 */
export const logColumns = (r: FeatureLogRow): Record<string, unknown> => ({
  request_id: r.requestId,
  service: r.service,
  ts: r.t,
  row: r.row,
  entities: JSON.stringify(r.entities),
  features: JSON.stringify(r.values),
  statuses: JSON.stringify(r.statuses),
  model: r.model,
  arm: r.arm,
  score: r.score,
});

/** A logged row as it is read back (`larder skew`). */
export interface LoggedRow {
  requestId: string;
  row: number;
  t: number;
  entities: Record<string, unknown>;
  values: Record<string, unknown>;
  statuses: Record<string, string>;
}

/** Where flushed rows go; `write` may be slow, it never runs on a request. */
export interface FeatureLogSink {
  /** The destination name services list in `logging.destination` ('parquet'). */
  readonly destination: string;
  /** Writes the rows; an error may carry `written`, the count of rows written before it. */
  write(rows: readonly FeatureLogRow[]): Promise<void>;
  close(): Promise<void>;
}

/** The served response as the log reads it (retrieval's `OnlineFeaturesResponse`). */
export interface ServedColumns {
  readonly columns: readonly {
    readonly name: string;
    readonly values: readonly unknown[];
    readonly statuses: readonly string[];
  }[];
}

/** One request as enqueued: references only, expanded into rows at flush. */
export interface ServedRequest {
  /** Set when the request is expanded (one id for every destination). */
  requestId?: string;
  service: string;
  logging: { readonly sample: number; readonly destinations: readonly string[] };
  t: number;
  entities: Readonly<Record<string, readonly unknown[]>>;
  response: ServedColumns;
  /** A model's scoring: the model, the experiment arm (null: none), a score per row. */
  model?: { name: string; arm: string | null; scores: ArrayLike<number | null> };
}

export interface FeatureLogOptions {
  sinks: readonly FeatureLogSink[];
  /** Rows the buffer holds at most (default 100 000); more are dropped and counted. */
  capacity?: number;
  /** Flush when this many rows wait (default 10 000). */
  flushRows?: number;
  /** Flush at least this often, ms (default 1 000). */
  flushMs?: number;
  /** Sampling draw in [0, 1) (tests pin it). */
  random?: () => number;
  /** Counts rows: written by a destination, or dropped (`buffer_full`, `sink_error`). */
  onRows?: (event: 'written' | 'dropped', destination: string, n: number, reason?: string) => void;
  /** Hears a sink failure (the rows are dropped and counted). */
  onError?: (e: unknown, destination: string) => void;
}

const rowsOf = (r: ServedRequest): number => {
  const first = Object.values(r.entities)[0];
  return first ? first.length : 0;
};

/** Expands enqueued requests into rows (feature columns = response columns not in entities). */
export function expandRows(reqs: readonly ServedRequest[]): FeatureLogRow[] {
  const out: FeatureLogRow[] = [];
  for (const r of reqs) {
    const requestId = (r.requestId ??= randomUUID());
    const keys = Object.keys(r.entities);
    const features = r.response.columns.filter((c) => !(c.name in r.entities));
    const n = rowsOf(r);
    for (let i = 0; i < n; i++) {
      const entities: Record<string, unknown> = {};
      for (const k of keys) entities[k] = r.entities[k]![i] ?? null;
      const values: Record<string, unknown> = {};
      const statuses: Record<string, string> = {};
      for (const c of features) {
        values[c.name] = c.values[i] ?? null;
        statuses[c.name] = c.statuses[i] ?? 'NOT_FOUND';
      }
      out.push({
        requestId,
        service: r.service,
        t: r.t,
        row: i,
        entities,
        values,
        statuses,
        model: r.model?.name ?? null,
        arm: r.model?.arm ?? null,
        score: r.model?.scores[i] ?? null,
      });
    }
  }
  return out;
}

/**
 * @example
 * const log = new FeatureLog({ sinks: [new ParquetLogSink(`${dataDir}/logs`)] });
 * log.enqueue({ service, logging, t, entities: req.entities, response: res }); // per request
 * await log.drain(); // at shutdown: everything enqueued is written
 */
export class FeatureLog {
  readonly #sinks: readonly FeatureLogSink[];
  readonly #capacity: number;
  readonly #flushRows: number;
  readonly #random: () => number;
  readonly #onRows: NonNullable<FeatureLogOptions['onRows']>;
  readonly #onError: NonNullable<FeatureLogOptions['onError']>;
  #pending: ServedRequest[] = [];
  #pendingRows = 0;
  /** Rows taken from the buffer and not yet written. */
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | null;
  #flushScheduled = false;
  #closed = false;

  constructor(opts: FeatureLogOptions) {
    this.#sinks = opts.sinks;
    this.#capacity = opts.capacity ?? 100_000;
    this.#flushRows = opts.flushRows ?? 10_000;
    this.#random = opts.random ?? Math.random;
    this.#onRows = opts.onRows ?? (() => undefined);
    this.#onError = opts.onError ?? (() => undefined);
    this.#timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.#timer.unref();
  }

  /** Rows waiting in the buffer. */
  get buffered(): number {
    return this.#pendingRows;
  }

  /**
   * The request path's only call: samples the request and keeps a reference to it; O(1), never
   * waits. Returns whether the request was kept.
   */
  enqueue(req: ServedRequest): boolean {
    if (this.#closed || this.#sinks.length === 0) return false;
    const sample = req.logging.sample;
    if (sample < 1 && this.#random() >= sample) return false;
    const n = rowsOf(req);
    if (this.#pendingRows + n > this.#capacity) {
      for (const d of req.logging.destinations) this.#onRows('dropped', d, n, 'buffer_full');
      return false;
    }
    this.#pending.push(req);
    this.#pendingRows += n;
    if (this.#pendingRows >= this.#flushRows && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => void this.flush());
    }
    return true;
  }

  /** Writes what the buffer holds now (after any write in progress); resolves when written. */
  flush(): Promise<void> {
    this.#flushScheduled = false;
    if (this.#pending.length === 0) return this.#writing;
    const batch = this.#pending;
    this.#pending = [];
    this.#pendingRows = 0;
    this.#writing = this.#writing.then(() => this.#write(batch));
    return this.#writing;
  }

  async #write(batch: ServedRequest[]): Promise<void> {
    await Promise.all(
      this.#sinks.map(async (s) => {
        const mine = batch.filter((r) => r.logging.destinations.includes(s.destination));
        if (mine.length === 0) return;
        const rows = expandRows(mine);
        try {
          await s.write(rows);
          this.#onRows('written', s.destination, rows.length);
        } catch (e) {
          // A sink that wrote part of the rows before failing says how many (`written`).
          const w = (e as { written?: unknown } | null)?.written;
          const written = typeof w === 'number' ? Math.min(w, rows.length) : 0;
          if (written > 0) this.#onRows('written', s.destination, written);
          this.#onRows('dropped', s.destination, rows.length - written, 'sink_error');
          this.#onError(e, s.destination);
        }
      }),
    );
  }

  /** Stops the timer, writes everything enqueued, closes the sinks (server shutdown). */
  async drain(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
    this.#closed = true;
    await Promise.all(this.#sinks.map((s) => s.close()));
  }
}
