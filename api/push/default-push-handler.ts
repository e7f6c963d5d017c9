/**
 * The built-in push path: rows → records of the source's batch source, validated with its zod
 * schema and the shared ingest rules (`offline/validate-record.ts`: no event time later than
 * now + `ingest.maxFutureSkew`, no join key over `ingest.maxKeyBytes`; the first bad row is a
 * 400 naming the row and field), then applied to every feature view fed by the source
 * (`streaming/apply-records.ts`) and/or appended to the offline store through its append
 * path (`OfflineStore.appendRecords`, the stream worker's too: the DuckDB store's
 * `$LARDER_DATA_DIR/<batch source path>/push-<YYYY-MM-DD>.jsonl`, or the batch source's
 * BigQuery table), with origin `push:<a new UUID>` and the row numbers as offsets.
 *
 * With an idempotency key, the online writes and the key (with the request's fingerprint and
 * the answer) are stored in one atomic step (`OnlineStore.applyIdempotent`), then the rows are
 * appended; a repeat of the key answers the stored answer and applies and appends nothing.
 * See docs/api.md for the rules.
 */
import { createHash } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { JsonlAppender } from '../../offline/append/jsonl-append.ts';
import type { AppendOrigin, OfflineStore } from '../../offline/offline-store.ts';
import {
  ingestProblem,
  refusedRecordProblem,
  type IngestLimits,
} from '../../offline/validate-record.ts';
import { badRequest, LarderError, storeFailure } from '../../core/errors.ts';
import {
  applyRecords,
  foldRecords,
  joinKeyPaths,
  type ApplyObserver,
} from '../../streaming/apply-records.ts';
import type { BatchSourceDef } from '../../definitions/dsl/sources.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { PushHandler, PushRequest, PushResult } from './push-handler.ts';
import type { ServingSnapshot } from '../serving-state.ts';
import { parseSourceRecord } from '../../definitions/source-record.ts';

const STORE_HINT = 'check that the online store is up (GET /ready)';

/** How long an idempotency key is kept: 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface PushLimits {
  /** Rows per push (`serve.maxPushRows`, default 1000). */
  maxPushRows: number;
  /** `ingest.maxFutureSkew` in ms (default 5 minutes). */
  maxFutureSkewMs: number;
  /** `ingest.maxKeyBytes` (default 1024). */
  maxKeyBytes: number;
}

export const DEFAULT_PUSH_LIMITS: PushLimits = {
  maxPushRows: 1000,
  maxFutureSkewMs: 5 * 60_000,
  maxKeyBytes: 1024,
};

/** The batch source behind a pushable source (a push or stream source), if `name` is one. */
export function pushableBatchSource(repo: Repository, name: string): BatchSourceDef | undefined {
  return (repo.pushSources.get(name) ?? repo.streamSources.get(name))?.batch;
}

function batchSourceOf(repo: Repository, name: string): BatchSourceDef {
  const batch = pushableBatchSource(repo, name);
  if (batch) return batch;
  throw new LarderError('LARDER_NOT_FOUND', `unknown push source "${name}"`, {
    field: 'push_source_name',
    hint: `pushable sources (push and stream sources): ${[...repo.pushSources.keys(), ...repo.streamSources.keys()].join(', ') || '(none)'}`,
  });
}

/** Column-wise `df` → row records; ragged columns and more than `maxRows` rows are a 400. */
export function rowsOf(
  columns: Readonly<Record<string, readonly unknown[]>>,
  maxRows = Infinity,
): Record<string, unknown>[] {
  const names = Object.keys(columns);
  const n = names.length === 0 ? 0 : columns[names[0]!]!.length;
  for (const k of names)
    if (columns[k]!.length !== n)
      throw badRequest(
        `df.${k}`,
        `ragged columns: "${k}" has ${columns[k]!.length} values but "${names[0]}" has ${n}`,
        undefined,
        'ragged_columns',
      );
  if (n > maxRows)
    throw badRequest(
      'df',
      `too many rows: ${n} (the limit is ${maxRows} rows per push, serve.maxPushRows)`,
      `split the push into requests of at most ${maxRows} rows`,
      'too_many_rows',
    );
  const rows: Record<string, unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const r: Record<string, unknown> = {};
    for (const k of names) r[k] = columns[k]![i];
    rows[i] = r;
  }
  return rows;
}

/** SHA-256 of what a push means: source, target and the rows (column order ignored). */
export function pushFingerprint(req: PushRequest): string {
  const cols = Object.keys(req.columns)
    .sort()
    .map((k) => [k, req.columns[k]]);
  return createHash('sha256')
    .update(JSON.stringify([req.source, req.to, cols]))
    .digest('hex');
}

/** What the push path needs of the offline store. */
export type PushOfflineStore = Pick<OfflineStore, 'appendRecords' | 'appendLocation'>;

/** The DuckDB store's append path over `dataDir` (JSON Lines files), without a store. */
export function jsonlPushStore(dataDir: string, clock: () => number): PushOfflineStore {
  const appender = new JsonlAppender(dataDir, clock);
  return {
    appendRecords: (req) => Promise.resolve(appender.append(req)),
    appendLocation: (source, origin, at) => appender.location(source, origin, at),
  };
}

/**
 * @example
 * const handler = new DefaultPushHandler(createOfflineStore(config));
 * await handler.push(state.current, { source: 'user_events', columns, to: 'online' });
 */
export class DefaultPushHandler implements PushHandler {
  readonly #offline: PushOfflineStore;
  readonly #clock: () => number;
  readonly #limits: PushLimits;

  /** @param offline the offline store pushes append to, or a data dir (DuckDB's files there). */
  constructor(
    offline: PushOfflineStore | string,
    clock: () => number = Date.now,
    limits: Partial<PushLimits> = {},
  ) {
    this.#offline = typeof offline === 'string' ? jsonlPushStore(offline, clock) : offline;
    this.#clock = clock;
    this.#limits = { ...DEFAULT_PUSH_LIMITS, ...limits };
  }

  async push(
    snapshot: ServingSnapshot,
    req: PushRequest,
    observer?: ApplyObserver,
  ): Promise<PushResult> {
    const batch = batchSourceOf(snapshot.repo, req.source);
    const rows = rowsOf(req.columns, this.#limits.maxPushRows);
    const now = this.#clock();
    const limits: IngestLimits = {
      now,
      maxFutureSkewMs: this.#limits.maxFutureSkewMs,
      maxKeyBytes: this.#limits.maxKeyBytes,
    };
    const keyFields = joinKeyPaths(snapshot.repo, req.source);
    const hint = `records of "${req.source}" follow the schema of batch source "${batch.spec.name}"`;
    const records: Record<string, unknown>[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = parseSourceRecord(batch.recordSchema, batch.spec.schema, rows[i]);
      if (!r.success) {
        const p = refusedRecordProblem(batch.spec.schema, rows[i], r.error.issues[0]!);
        throw badRequest(`df.${p.field}[${i}]`, `row ${i}: ${p.message}`, hint, 'invalid_record');
      }
      const record = r.data as Record<string, unknown>;
      const p = ingestProblem(record, batch.spec.timestampField, keyFields, limits);
      if (p)
        throw badRequest(`df.${p.field}[${i}]`, `row ${i}: ${p.message}`, hint, 'invalid_record');
      records[i] = record;
    }
    const origin: AppendOrigin = { kind: 'push', id: randomUUID() };
    const file =
      req.to !== 'online' && records.length > 0
        ? this.#offline.appendLocation(batch.spec, origin, now)
        : null;
    const appendOffline = async (): Promise<void> => {
      if (file === null) return;
      await this.#offline.appendRecords({
        source: batch.spec,
        origin,
        records: records.map((record, offset) => ({ offset, record })),
        ingestedAt: now,
      });
    };
    const fields = batch.spec;
    // A store's failure is answered as on reads: a non-Larder error is LARDER_STORE_UNAVAILABLE.
    const { store } = snapshot;
    const failed = (e: unknown): never => {
      throw storeFailure(e, 'online store write failed', STORE_HINT);
    };
    if (req.idempotencyKey === undefined) {
      let views: string[] = [];
      if (req.to !== 'offline' && records.length > 0)
        views = (
          await applyRecords(
            snapshot.repo,
            {
              mergeTiles: (t) => store.mergeTiles(t).catch(failed),
              mergeLifetime: (l) => store.mergeLifetime(l).catch(failed),
            },
            req.source,
            records,
            fields,
            observer,
          )
        ).views;
      await appendOffline();
      return { rows: records.length, views, file };
    }
    const online = req.to !== 'offline';
    const folded = online
      ? foldRecords(snapshot.repo, req.source, records, fields, observer !== undefined)
      : { tiles: [], lifetime: [], views: [], applied: [] };
    const result: PushResult = { rows: records.length, views: folded.views, file };
    const fingerprint = pushFingerprint(req);
    const outcome = await store
      .applyIdempotent({
        key: req.idempotencyKey,
        fingerprint,
        response: JSON.stringify(result),
        ttlMs: IDEMPOTENCY_TTL_MS,
        tiles: folded.tiles,
        lifetime: folded.lifetime,
      })
      .catch(failed);
    if (outcome.status === 'duplicate') {
      if (outcome.fingerprint !== fingerprint)
        throw new LarderError(
          'LARDER_IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key "${req.idempotencyKey}" was used for a different push in the last 24 h`,
          {
            field: 'idempotency-key',
            hint: 'send a new key for a new push; repeat a key only to retry the same push',
          },
        );
      return { ...(JSON.parse(outcome.response) as PushResult), replayed: true };
    }
    if (online && records.length > 0)
      observer?.({ source: req.source, records, views: folded.applied });
    await appendOffline();
    return result;
  }
}
