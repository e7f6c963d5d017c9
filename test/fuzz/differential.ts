/**
 * The differential check of one fuzz case: every path's values against the brute-force
 * reference (`reference/`), value for value.
 *
 * - export: DuckDB point-in-time export with the sweep and the SQL engine, at the case's export
 *   times (anywhere around now);
 * - materialized: `materialize` up to now into an online store, read at times ≥ now;
 * - pushed: the records pushed in arrival order through `POST /push`'s handler, read at times ≥ now;
 * - streamed (Kafka test only): `readOnline` on the store the worker wrote.
 *
 * Stores and folders are the caller's ({@link FuzzEnv}), so the unit test runs the in-process
 * paths on SQLite and the Kafka test the same checks on Redis.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PUSH_LIMITS, DefaultPushHandler } from '../../api/push/default-push-handler.ts';
import { LarderError } from '../../core/errors.ts';
import { materialize } from '../../materialize/materialize.ts';
import type { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import type { OnlineStore, OnlineStoreOptions } from '../../online/online-store.ts';
import { floatsEqual } from '../../aggregation/index.ts';
import { referenceFeatures, referenceModeTotals, type EntityRow } from '../../reference/index.ts';
import type { Repository, ResolvedFeature } from '../../definitions/repository.ts';
import { encodeEntityKey } from '../../aggregation/tiles.ts';
import type { FeatureValue } from '../../core/types.ts';
import { getOnlineFeatures } from '../../retrieval/index.ts';
import type { CaseRow, FuzzCase } from './fuzz-case.ts';

type Rec = Record<string, unknown>;

export interface Mismatch {
  path: string;
  feature: string;
  key: string;
  t: number;
  got: unknown;
  want: unknown;
}

export const sameValue = (a: unknown, b: unknown): boolean =>
  typeof a === 'number' && typeof b === 'number'
    ? floatsEqual(a, b)
    : Array.isArray(a) && Array.isArray(b)
      ? JSON.stringify(a) === JSON.stringify(b)
      : a === b;

/**
 * {@link sameValue}, or for a `mode` feature a value whose total weight ties the reference's
 * mode's up to float rounding (`floatsEqual`): `mode` totals add in float, so which of two
 * such values wins depends on the order of a path's additions (weights past 2^53 or
 * fractional; docs/definitions.md, `mode`). `c` is the case the reference was given.
 */
export function sameFeatureValue(
  repo: Repository,
  c: FuzzCase,
  name: string,
  row: EntityRow,
  got: unknown,
  want: unknown,
): boolean {
  if (sameValue(got, want)) return true;
  if (typeof got !== 'string' || typeof want !== 'string') return false;
  const [view, feature] = name.split('__');
  if (!repo.featureViews.has(view!)) return false;
  const totals = referenceModeTotals(
    repo,
    {
      user_events_batch: recordsOf(c, 'user_events'),
      transactions_batch: recordsOf(c, 'transactions'),
    },
    row,
    view!,
    feature!,
  );
  const a = totals?.get(got);
  const b = totals?.get(want);
  return a !== undefined && b !== undefined && floatsEqual(a, b);
}

export const features = (repo: Repository): ResolvedFeature[] => [
  ...[...repo.featureViews.values()].flatMap((v) =>
    v.spec.features.map((f) => ({
      view: v.spec.name,
      feature: f.name,
      type: f.type,
      onDemand: false,
    })),
  ),
  ...onDemandFeatures(repo),
];

/** The features of the on-demand views (the case's `od`). */
export const onDemandFeatures = (repo: Repository): ResolvedFeature[] =>
  [...repo.onDemandViews.values()].flatMap((v) =>
    v.spec.features.map((f) => ({
      view: v.spec.name,
      feature: f.name,
      type: f.type,
      onDemand: true,
    })),
  );

export const recordsOf = (c: FuzzCase, source: 'user_events' | 'transactions'): Rec[] =>
  c.records.filter((r) => r.source === source).map((r) => r.record);

/**
 * `ingest.maxFutureSkew` (default 5m): every path refuses a record stamped later than now + this
 * (push: a 400 for the whole request; stream: a dead letter; batch files: a counted reject).
 */
export const FUTURE_SKEW_MS = DEFAULT_PUSH_LIMITS.maxFutureSkewMs;

/** Whether the ingest rules refuse `record` at the case's "now" (a future timestamp). */
export const refusedAt = (c: FuzzCase, record: Rec): boolean =>
  (record.timestamp as number) > c.now + FUTURE_SKEW_MS;

/** The case without the records every ingest path refuses. */
export const acceptedCase = (c: FuzzCase): FuzzCase => ({
  ...c,
  records: c.records.filter((r) => !refusedAt(c, r.record)),
});

/** `ingest.maxKeyBytes` (default 1024): push and stream refuse longer join keys. */
export const MAX_KEY_BYTES = DEFAULT_PUSH_LIMITS.maxKeyBytes;

/**
 * The fields a push names when it refuses `r` (a future timestamp, or a join key some view of
 * its source reads longer than `ingest.maxKeyBytes`; batch files do not check key sizes), or
 * none when push and stream accept it.
 */
export function onlineRefusals(c: FuzzCase, r: FuzzCase['records'][number]): string[] {
  const out = refusedAt(c, r.record) ? ['timestamp'] : [];
  for (const v of c.plans)
    if (v.source === r.source)
      for (const k of [v.key, v.productKey])
        if (k && 'col' in k) {
          const value = valueAt(r.record, k.col);
          if (typeof value === 'string' && Buffer.byteLength(value) > MAX_KEY_BYTES)
            out.push(k.col);
        }
  return out;
}

/** The case without the records push and stream refuse. */
export const onlineAcceptedCase = (c: FuzzCase): FuzzCase => ({
  ...c,
  records: c.records.filter((r) => onlineRefusals(c, r).length === 0),
});

const valueAt = (r: Rec, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Rec)[k] : undefined), r);

/** The reference's values for `rows`, named `view__feature`. */
export function referenceValues(
  repo: Repository,
  c: FuzzCase,
  rows: readonly EntityRow[],
): Record<string, FeatureValue | null>[] {
  return referenceFeatures(
    repo,
    {
      user_events_batch: recordsOf(c, 'user_events'),
      transactions_batch: recordsOf(c, 'transactions'),
    },
    rows,
    features(repo),
    { fullFeatureNames: true },
  );
}

/** Entity rows, with the request field `req` when the case's on-demand view has one. */
export const entityRows = (c: FuzzCase, rows: readonly CaseRow[]): EntityRow[] =>
  rows.map((r) => ({
    user_id: r.user_id,
    product_id: r.product_id,
    event_timestamp: r.t,
    ...(c.onDemand?.request ? { req: r.req ?? null } : {}),
  }));

/** Replaces the raw JSON Lines of both sources under `dataDir` with the case's records. */
export function writeSources(dataDir: string, c: FuzzCase): void {
  const name = `part-${randomUUID()}.jsonl`; // a new name: no cached index of an older case applies
  for (const [source, dir] of [
    ['user_events', 'raw/user_events'],
    ['transactions', 'raw/transactions'],
  ] as const) {
    const folder = join(dataDir, dir);
    mkdirSync(folder, { recursive: true });
    for (const f of readdirSync(folder)) rmSync(join(folder, f));
    const lines = recordsOf(c, source).map((r) => JSON.stringify(r));
    writeFileSync(join(folder, name), lines.length > 0 ? lines.join('\n') + '\n' : '');
  }
}

/** Point-in-time export (records already written with {@link writeSources}) vs the reference. */
export async function checkExport(
  path: string,
  store: DuckDBOfflineStore,
  repo: Repository,
  c: FuzzCase,
): Promise<Mismatch[]> {
  const rows = entityRows(c, c.exportRows);
  const got = await store.exportPointInTime({
    repo,
    features: features(repo),
    entities: { type: 'rows', rows },
    out: { type: 'memory' },
    fullFeatureNames: true,
  });
  const out: Mismatch[] = [];
  // The store's clock is the case's "now": records later than now + the skew are its rejects
  // (in the sources the views read).
  for (const source of new Set(c.plans.map((v) => v.source))) {
    const reports = got.rejects.filter((r) => r.source === `${source}_batch`);
    const count = reports.reduce((n, r) => n + r.count, 0);
    const want = recordsOf(c, source).filter((r) => refusedAt(c, r)).length;
    const reasons = reports.flatMap((r) => r.examples.map((e) => e.reason));
    if (count !== want || reasons.some((m) => !m.includes('is later than now + 5m')))
      out.push({ path, feature: `(rejects of ${source})`, key: '', t: 0, got: reports, want });
  }
  const accepted = acceptedCase(c);
  const want = referenceValues(repo, accepted, rows);
  rows.forEach((row, i) => {
    for (const [k, v] of Object.entries(want[i]!)) {
      const value = got.data![i]![k] ?? null;
      if (!sameFeatureValue(repo, accepted, k, row, value, v))
        out.push(mismatch(path, repo, k, row, value, v));
    }
  });
  return out;
}

export function mismatch(
  path: string,
  repo: Repository,
  name: string,
  row: EntityRow,
  got: unknown,
  want: unknown,
): Mismatch {
  const [view] = name.split('__');
  const def = repo.featureViews.get(view!) ?? repo.onDemandViews.get(view!)!;
  const keys = def.entityDefs.map((e) => String(row[e.spec.joinKey]));
  return { path, feature: name, key: keys.join(' × '), t: row.event_timestamp, got, want };
}

/**
 * The entity rows of the case's online reads: a read before the newest record's time is moved
 * to that time when a record is stamped after now (see {@link checkOnline}).
 */
export function onlineReadRows(c: FuzzCase): EntityRow[] {
  const newest = Math.max(c.now, ...c.records.map((r) => r.record.timestamp as number));
  return entityRows(
    c,
    c.onlineReads.map((r) => (r.t < newest && newest > c.now ? { ...r, t: newest } : r)),
  );
}

/** Online reads of every view at the case's online read times vs the reference. */
export async function checkOnline(
  path: string,
  store: OnlineStore,
  repo: Repository,
  c: FuzzCase,
): Promise<Mismatch[]> {
  // A record stamped after now (within the skew) counts in online reads from the start of its
  // hop, and a lifetime feature reads NULL before its newest record's time (docs/concepts.md,
  // "Records stamped after now"): reads are compared from the newest record's time on.
  const rows = onlineReadRows(c);
  const want = referenceValues(repo, c, rows);
  const out: Mismatch[] = [];
  for (const def of repo.featureViews.values()) {
    const view = def.spec;
    const joinKeys = def.entityDefs.map((e) => e.spec.joinKey);
    const results = await store.readMany(
      rows.map((r) => ({
        view,
        entityKeys: [encodeEntityKey(joinKeys.map((k) => r[k] as string))],
        t: r.event_timestamp,
      })),
    );
    rows.forEach((row, i) => {
      view.features.forEach((f, j) => {
        const name = `${view.name}__${f.name}`;
        const got = results[i]!.rows[0]![j]!.value;
        if (!sameFeatureValue(repo, c, name, row, got, want[i]![name] ?? null))
          out.push(mismatch(path, repo, name, row, got, want[i]![name] ?? null));
      });
    });
  }
  // On-demand features through online retrieval (one request per row: each has its own t).
  const od = onDemandFeatures(repo);
  if (od.length > 0)
    for (const [i, row] of rows.entries()) {
      const res = await getOnlineFeatures(
        { repo, store, maxEntityRows: 1 },
        {
          ref: { features: od.map((f) => `${f.view}:${f.feature}`) },
          entities: {
            user_id: [row.user_id],
            product_id: [row.product_id],
            ...('req' in row ? { req: [row.req] } : {}),
          },
          fullFeatureNames: true,
          t: row.event_timestamp,
        },
      );
      for (const f of od) {
        const name = `${f.view}__${f.feature}`;
        const got = res.columns.find((col) => col.name === name)!.values[0] ?? null;
        if (!sameFeatureValue(repo, c, name, row, got, want[i]![name] ?? null))
          out.push(mismatch(path, repo, name, row, got, want[i]![name] ?? null));
      }
    }
  return out;
}

export type StoreFactory = (options: OnlineStoreOptions) => OnlineStore;

/** Materializes up to `c.now` into a fresh store, then compares online reads. */
export async function checkMaterialized(
  path: string,
  offline: DuckDBOfflineStore,
  factory: StoreFactory,
  repo: Repository,
  c: FuzzCase,
): Promise<Mismatch[]> {
  const online = factory({
    namespace: `fuzz-${randomUUID()}`,
    views: [...repo.featureViews.values()].map((v) => v.spec),
    clock: () => c.now,
  });
  await online.init();
  try {
    await materialize({ repo, offline, online, end: c.now });
    // Materialization loads events up to its end: later ones (futureTimestamps) are not in it.
    const upToNow = c.records.filter((r) => (r.record.timestamp as number) <= c.now);
    return await checkOnline(path, online, repo, { ...c, records: upToNow });
  } finally {
    await online.teardown();
    await online.close();
  }
}

/** Pushes the records in arrival order (chunks of `chunk`) into a fresh store, then compares. */
export async function checkPushed(
  path: string,
  factory: StoreFactory,
  repo: Repository,
  c: FuzzCase,
  chunk = 7,
): Promise<Mismatch[]> {
  const store = factory({
    namespace: `fuzz-${randomUUID()}`,
    views: [...repo.featureViews.values()].map((v) => v.spec),
    clock: () => c.now,
  });
  await store.init();
  const dir = join('.cache', 'fuzz-push');
  const handler = new DefaultPushHandler(dir, () => c.now);
  const snapshot = { repo, store, version: 0, loadedAt: c.now };
  try {
    const out = await pushRecords(path, c, chunk, async (source, columns) => {
      await handler.push(snapshot, { source, columns, to: 'online' });
    });
    return [...out, ...(await checkOnline(path, store, repo, onlineAcceptedCase(c)))];
  } finally {
    await store.teardown();
    await store.close();
  }
}

/**
 * Sends the case's records in arrival order, in pushes of at most `chunk` records of one
 * source, through `push` (resolves when applied, rejects with the push's error); the push
 * answers that differ from the ingest rules' are mismatches.
 */
export async function pushRecords(
  path: string,
  c: FuzzCase,
  chunk: number,
  push: (source: string, columns: Record<string, unknown[]>) => Promise<void>,
): Promise<Mismatch[]> {
  const out: Mismatch[] = [];
  for (let i = 0; i < c.records.length;) {
    const source = c.records[i]!.source;
    let batch: FuzzCase['records'] = [];
    while (i < c.records.length && c.records[i]!.source === source && batch.length < chunk)
      batch.push(c.records[i++]!);
    // A push with a record the ingest rules refuse (later than now + the skew, a join key
    // over maxKeyBytes) is a 400 naming its first such row and applies none of its rows; the
    // client drops that row and pushes the rest again.
    for (;;) {
      const refused = batch.findIndex((r) => onlineRefusals(c, r).length > 0);
      const fields = refused < 0 ? [] : onlineRefusals(c, batch[refused]!);
      const columns = columnsOf(batch.map((r) => r.record));
      const error = await push(source, columns).then(
        () => null,
        (e: unknown) => e,
      );
      if (refused < 0 && error === null) break;
      if (refused < 0 || !isIngestRefusal(error, refused, fields)) {
        out.push({
          path,
          feature: '(push answer)',
          key: '',
          t: batch[0]!.record.timestamp as number,
          got: error === null ? 'applied' : String(error),
          want: refused < 0 ? 'applied' : `400 for df.${fields.join('|')}[${refused}]`,
        });
        break;
      }
      batch = batch.filter((_, j) => j !== refused);
    }
  }
  return out;
}

/** The push handler's 400 for row `row`, naming one of `fields` (the timestamp is checked first). */
const isIngestRefusal = (e: unknown, row: number, fields: string[]): boolean =>
  e instanceof LarderError &&
  e.code === 'LARDER_BAD_REQUEST' &&
  (fields[0] === 'timestamp'
    ? e.field === `df.timestamp[${row}]` && e.message.includes('is later than now + 5m')
    : fields.some((f) => e.field === `df.${f}[${row}]`) &&
      e.message.includes(`the limit is ${MAX_KEY_BYTES}`));

/** Row records → Feast's column-wise `df` (a field a row lacks is null there). */
export function columnsOf(rows: readonly Rec[]): Record<string, unknown[]> {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(names.map((n) => [n, rows.map((r) => (n in r ? r[n] : null))]));
}

/** Runs one path's check; a thrown error is that path's mismatch (so shrinking keeps it). */
export async function guarded(path: string, run: () => Promise<Mismatch[]>): Promise<Mismatch[]> {
  try {
    return await run();
  } catch (e) {
    const err = e as Error & { code?: string };
    return [
      {
        path,
        feature: '(error)',
        key: '',
        t: 0,
        got: `${err.code ?? err.name}: ${err.message}`,
        want: null,
      },
    ];
  }
}

export function describeMismatches(list: readonly Mismatch[], max = 5): string {
  return list
    .slice(0, max)
    .map(
      (m) =>
        `${m.path}: ${m.feature} for ${JSON.stringify(m.key)} at ${m.t}: got ${JSON.stringify(m.got)}, reference ${JSON.stringify(m.want)}`,
    )
    .join('\n');
}
