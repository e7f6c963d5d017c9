/**
 * Batch view conformance (spec "Batch views: SQL snapshots"), run by every offline store's
 * conformance suite: the e-commerce views `user_segments` and `product_popularity` with exact
 * hand-computed values — snapshot boundaries (a record at exactly D belongs to the next
 * snapshot; one at D − window to this one), entities missing from a snapshot, exports at times
 * across several snapshots, time grids, and batch features beside window features.
 */
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { DefinitionError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { tempRepo } from '../support/temp-repo.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { EntitySource, ExportSummary } from '../../offline/offline-store.ts';
import type { ConformanceHarness } from './conformance-harness.ts';
import { transactionRecord, userEventRecord } from '../support/records.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** A snapshot time (00:00 UTC). */
const D = Date.UTC(2024, 1, 10);

const order = (id: string, userId: string, ts: number, amount: number, status = 'completed') =>
  JSON.stringify(
    transactionRecord({
      transactionId: id,
      userId,
      orderItems: [],
      totalAmount: amount,
      status,
      timestamp: ts,
    }),
  );

const event = (
  id: string,
  eventType: string,
  ts: number,
  productId: string | null,
  userId: string | null = 'u1',
) =>
  JSON.stringify(
    userEventRecord({
      eventId: id,
      userId,
      eventType,
      timestamp: ts,
      properties: { productId },
      platform: 'web',
    }),
  );

const ROOT = resolve(import.meta.dirname, '../..');
/** A view over the example's transactions whose query returns a string and an extra column. */
const BAD_VIEW = `
import { batchView, col } from 'larder';
import { user } from '${ROOT}/examples/ecommerce/features/entities.ts';
import { transactions, transactionsBatch } from '${ROOT}/examples/ecommerce/features/sources.ts';
export { user, transactions, transactionsBatch };
export const bad = batchView({
  name: 'bad', entities: [user], source: transactions,
  columns: { user_id: col('userId') }, every: '1d', ttl: '1d',
  query: 'SELECT user_id, MAX(user_id) AS amount_sum, COUNT(*) AS n FROM source GROUP BY user_id',
  features: { amount_sum: 'float64' },
});
`;

/** A view whose query passes apply (an empty input) and fails on any record: 'u1' is no number. */
const CAST_VIEW = `
import { batchView, col } from 'larder';
import { user } from '${ROOT}/examples/ecommerce/features/entities.ts';
import { transactions, transactionsBatch } from '${ROOT}/examples/ecommerce/features/sources.ts';
export { user, transactions, transactionsBatch };
export const casts = batchView({
  name: 'casts', entities: [user], source: transactions,
  columns: { user_id: col('userId'), total_amount: col('totalAmount') }, every: '1d', ttl: '1d',
  query: 'SELECT user_id, SUM(total_amount) / CAST(user_id AS BIGINT) AS amount_sum FROM source GROUP BY user_id',
  features: { amount_sum: 'float64' },
});
`;

const SEGMENTS = ['recency_days', 'frequency_30d', 'monetary_30d', 'segment'] as const;

export function describeBatchViewConformance(
  ctx: () => { h: ConformanceHarness; shop: Repository },
): void {
  async function run(
    entities: Record<string, unknown>[] | EntitySource,
    features: string[],
  ): Promise<ExportSummary> {
    const { h, shop } = ctx();
    return h.store.exportPointInTime({
      repo: shop,
      features: shop.resolveFeatures({ features }),
      entities: Array.isArray(entities) ? { type: 'rows', rows: entities } : entities,
      out: { type: 'memory' },
    });
  }
  async function writeOrders(): Promise<void> {
    const { h, shop } = ctx();
    await h.writeSource(shop.batchSources.get('transactions_batch')!.spec, [
      order('o1', 'u1', D - 30 * DAY - 1, 500),
      order('o2', 'u1', D - 30 * DAY, 100),
      order('o3', 'u1', D - 1, 50),
      order('o4', 'u1', D, 1000),
      order('o5', 'u1', D - 2 * DAY, 999, 'pending'),
      order('o6', 'u2', D - 8 * DAY, 10),
      ...[1, 2, 3, 4, 5].map((i) => order(`o7${i}`, 'u3', D - i * HOUR, 300)),
    ]);
  }
  const segments = SEGMENTS.map((f) => `user_segments:${f}`);
  const row = (r: Record<string, unknown>): unknown[] => SEGMENTS.map((f) => r[f]);

  it('batch views: user_segments snapshot boundaries, segments, missing entities', async () => {
    await writeOrders();
    const got = await run(
      [
        { user_id: 'u1', event_timestamp: D },
        { user_id: 'u1', event_timestamp: D + DAY - 1 },
        { user_id: 'u1', event_timestamp: D + DAY },
        { user_id: 'u1', event_timestamp: D - 1 },
        { user_id: 'u2', event_timestamp: D },
        { user_id: 'u3', event_timestamp: D + 5 * HOUR },
        { user_id: 'nobody', event_timestamp: D },
        { user_id: 'u2', event_timestamp: D - 40 * DAY },
      ],
      segments,
    );
    expect(got.data!.map(row)).toEqual([
      // Snapshot D reads [D − 30d, D): o2 and o3 (o1 is 1 ms too old, o4 is at D, o5 pending).
      [0, 2, 150, 'regular'],
      [0, 2, 150, 'regular'],
      // Snapshot D + 1d: o3 and o4 (o2 left the window); the newest is o4 at D.
      [1, 2, 1050, 'regular'],
      // Snapshot D − 1d: o1 and o2; the newest is 29 days before it.
      [29, 2, 600, 'at_risk'],
      [8, 1, 10, 'new'],
      [0, 5, 1500, 'champion'],
      [null, null, null, null],
      [null, null, null, null],
    ]);
  });

  it('batch views: product_popularity weights, distinct viewers, window start', async () => {
    const { h, shop } = ctx();
    await h.writeSource(shop.batchSources.get('user_events_batch')!.spec, [
      event('e1', 'page_view', D - 1, 'p1'),
      event('e2', 'page_view', D - 2 * HOUR, 'p1'),
      event('e3', 'page_view', D - 7 * DAY, 'p1', 'u2'),
      event('e4', 'page_view', D - HOUR, 'p1', null),
      event('e5', 'add_to_cart', D - 7 * DAY - 1, 'p1'),
      event('e6', 'add_to_cart', D - 5 * DAY, 'p1'),
      event('e7', 'purchase', D - 3 * HOUR, 'p1'),
      event('e8', 'page_view', D - HOUR, null),
      event('e9', 'search', D - HOUR, 'p2'),
      event('e10', 'purchase', D, 'p2'),
    ]);
    const got = await run(
      [
        { product_id: 'p1', event_timestamp: D + HOUR },
        { product_id: 'p2', event_timestamp: D + HOUR },
        { product_id: 'p2', event_timestamp: D + DAY },
        { product_id: 'p3', event_timestamp: D + HOUR },
      ],
      ['product_popularity:popularity_score', 'product_popularity:distinct_viewers_7d'],
    );
    expect(got.data!.map((r) => [r.popularity_score, r.distinct_viewers_7d])).toEqual([
      // 4 page views (one anonymous), 1 add_to_cart (e5 is 1 ms too old), 1 purchase.
      [(4 + 3 + 10) / 7, 2],
      [0, 0],
      [10 / 7, 0],
      [null, null],
    ]);
  });

  it('batch views: the batch_v1 service, and batch features beside window features', async () => {
    await writeOrders();
    const { shop } = ctx();
    const svc = await ctx().h.store.exportPointInTime({
      repo: shop,
      features: shop.resolveFeatures({ service: 'batch_v1' }),
      entities: { type: 'rows', rows: [{ user_id: 'u2', product_id: 'p1', event_timestamp: D }] },
      out: { type: 'memory' },
    });
    expect(svc.columns.map((c) => c.name)).toEqual([
      'user_id',
      'product_id',
      'event_timestamp',
      ...SEGMENTS,
      'popularity_score',
      'distinct_viewers_7d',
    ]);
    expect(svc.data![0]).toMatchObject({ segment: 'new', popularity_score: (4 + 3 + 10) / 7 });
    const rows = [
      { user_id: 'u1', event_timestamp: D + HOUR },
      { user_id: 'u3', event_timestamp: D },
    ];
    const alone = await run(rows, ['user_purchases:spend_30d']);
    const mixed = await run(rows, [
      'user_segments:segment',
      'user_purchases:spend_30d',
      'user_segments:monetary_30d',
    ]);
    expect(mixed.data!.map((r) => [r.segment, r.spend_30d, r.monetary_30d])).toEqual([
      ['regular', alone.data![0]!.spend_30d, 150],
      ['champion', alone.data![1]!.spend_30d, 1500],
    ]);
  });

  it('batch views: apply runs each query on an empty input on the store', async () => {
    await writeOrders();
    const { h, shop } = ctx();
    for (const name of shop.batchViews.keys()) await h.store.checkBatchView(shop, name);
    const r = tempRepo({ 'bad.ts': BAD_VIEW });
    try {
      const repo = await loadRepository(r.dir);
      const err = await h.store.checkBatchView(repo, 'bad').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DefinitionError);
      expect((err as DefinitionError).problems.map((p) => p.message)).toEqual([
        expect.stringMatching(
          /^column "amount_sum" is (VARCHAR|STRING), which is not a float64 \(run on an empty input on (DuckDB|BigQuery)\)$/,
        ),
        expect.stringMatching(/^the query returns column "n", which is neither a join key/),
      ]);
    } finally {
      r.cleanup();
    }
  });

  it("batch views: a query that fails on the records is the view's definition error, naming D", async () => {
    await writeOrders();
    const { h } = ctx();
    const r = tempRepo({ 'casts.ts': CAST_VIEW });
    try {
      const repo = await loadRepository(r.dir);
      await h.store.checkBatchView(repo, 'casts'); // an empty input: nothing to cast
      // The first snapshot with a record fails: D − 29 d holds o1 (D − 30 d − 1 ms) and o2.
      const first = D - 29 * DAY;
      const runs = [
        // An export over several snapshot times (one query job on BigQuery), and materialize's one.
        () =>
          h.store.exportPointInTime({
            repo,
            features: repo.resolveFeatures({ features: ['casts:amount_sum'] }),
            entities: {
              type: 'rows',
              rows: [-31, -29, -2, 0, 1].map((d) => ({
                user_id: 'u1',
                event_timestamp: D + d * DAY,
              })),
            },
            out: { type: 'memory' },
          }),
        () => h.store.batchSnapshot({ repo, view: 'casts', at: first }),
      ];
      for (const run of runs) {
        const err = await run().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(DefinitionError);
        expect((err as DefinitionError).code).toBe('LARDER_DEFINITION_INVALID');
        expect((err as Error).message).toMatch(
          new RegExp(
            `^1 problem in the feature definitions:\\n {2}\\S+casts\\.ts:\\d+: batch view "casts" → query: the query fails: [^\\n]+ \\(snapshot at ${new Date(first).toISOString().replaceAll('.', '\\.')}( on BigQuery)?\\)\\n`,
          ),
        );
        expect((err as Error).message).toMatch(/hint: make the query hold for every record/);
      }
    } finally {
      r.cleanup();
    }
  });

  it('batch views: a time grid samples the entities of the source across snapshots', async () => {
    await writeOrders();
    const got = await run({ type: 'grid', start: D - DAY, end: D + DAY, everyMs: DAY }, [
      'user_segments:frequency_30d',
    ]);
    const by = got.data!.map((r) => [r.user_id, r.event_timestamp, r.frequency_30d]);
    expect(by).toEqual(
      expect.arrayContaining([
        ['u1', D - DAY, 2],
        ['u1', D, 2],
        ['u1', D + DAY, 2],
        ['u2', D - DAY, 1],
        ['u3', D - DAY, null],
        ['u3', D, 5],
      ]),
    );
    expect(by).toHaveLength(9);
  });

  it('batch views: records later than now + ingest.maxFutureSkew are left out of snapshots and counted', async () => {
    const { h, shop } = ctx();
    // A day boundary a year ahead of the store's clock: a snapshot a day later would read it.
    const ahead = Math.floor((Date.now() + 366 * DAY) / DAY) * DAY;
    await h.writeSource(shop.batchSources.get('transactions_batch')!.spec, [
      order('o1', 'u1', D - 1, 50),
      order('o2', 'u1', ahead, 1000),
    ]);
    const got = await run(
      [
        { user_id: 'u1', event_timestamp: D },
        { user_id: 'u1', event_timestamp: ahead + DAY + HOUR },
      ],
      segments,
    );
    expect(got.data!.map(row)).toEqual([
      [0, 1, 50, 'new'],
      [null, null, null, null],
    ]);
    expect(got.rejects.map((r) => [r.source, r.count])).toEqual([['transactions_batch', 1]]);
  });
}
