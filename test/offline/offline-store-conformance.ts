/**
 * One conformance suite for every offline store (STYLE.md §12): small hand-written histories
 * with exact expected values, run by `duckdb.test.ts` (and the BigQuery emulator test for the
 * subset a typed warehouse supports). A store is plugged in through a {@link ConformanceHarness}
 * that owns the store and knows how to put raw records where the store reads them.
 *
 * @example
 * describeOfflineStoreConformance('duckdb', async () => duckdbHarness());
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';
import type { EntitySource, ExportSummary, OutputFormat } from '../../offline/offline-store.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import type { ConformanceHarness } from './conformance-harness.ts';
import { CONFORMANCE_REPO } from './conformance-repo.ts';
import {
  describeComputeTilesConformance,
  type ComputeTilesRuns,
} from './compute-tiles-conformance.ts';
import { describeBatchViewConformance } from './batch-view-conformance.ts';
import { userEventRecord } from '../support/records.ts';
import { referenceFeatures } from '../../reference/index.ts';

export type { ConformanceHarness };

export const T0 = Date.UTC(2024, 0, 1); // a whole day
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Read time: 00:30:15 on T0's day; its 1h window (1m hops) starts at T0 - 29m. */
const T = T0 + 30 * MIN + 15_000;
const WS = T0 - 29 * MIN;

interface Ev {
  id: string;
  userId?: string | null;
  kind?: string;
  amount?: number;
  attrs?: Record<string, string>;
  ts: number;
}
/** Three entities keyed by an int64, a string and a float64, each with a view over one source. */
const NUMBER_KEYS_REPO = `
import { z } from 'zod';
import { batchSource, col, entity, featureView, sum } from 'larder';
export const acct = entity({ name: 'acct', joinKey: 'acct_id', valueType: 'int64' });
export const handle = entity({ name: 'handle', joinKey: 'handle', valueType: 'string' });
export const gauge = entity({ name: 'gauge', joinKey: 'gauge_id', valueType: 'float64' });
export const tx = batchSource({
  name: 'tx',
  schema: z.object({ id: z.string(), acctId: z.number().int(), handle: z.string(), gauge: z.number(), amount: z.number().int(), ts: z.number().int() }),
  timestampField: 'ts', idField: 'id',
});
const features = { total: sum(col('amount'), { window: '1d' }) };
export const byAcct = featureView({ name: 'by_acct', entities: [acct], source: tx, keys: { acct_id: col('acctId') }, ttl: '30d', features });
export const byHandle = featureView({ name: 'by_handle', entities: [handle], source: tx, keys: { handle: col('handle') }, ttl: '30d', features });
export const byGauge = featureView({ name: 'by_gauge', entities: [gauge], source: tx, keys: { gauge_id: col('gauge') }, ttl: '30d', features });
`;

const ev = (e: Ev): string =>
  JSON.stringify({ userId: 'u1', kind: 'view', amount: 1, attrs: {}, ...e });

/** The suite. `factory` is called once; the harness is shared by the tests (run in order). */
export function describeOfflineStoreConformance(
  name: string,
  factory: () => Promise<ConformanceHarness>,
  opts: { computeTiles?: ComputeTilesRuns } = {},
): void {
  describe(`offline store conformance: ${name}`, () => {
    let h: ConformanceHarness;
    let repo: Repository;
    let shop: Repository;
    let repoDir: { cleanup: () => void };
    let tmp: { dir: string; cleanup: () => void };
    let src: BatchSourceSpec;

    beforeAll(async () => {
      const r = tempRepo({ 'repo.ts': CONFORMANCE_REPO });
      repoDir = r;
      repo = await loadRepository(r.dir);
      shop = await loadRepository('examples/ecommerce/features');
      src = repo.batchSources.get('ev')!.spec;
      tmp = tempDir();
      h = await factory();
      await h.store.init();
    }, 60_000);

    afterAll(async () => {
      await h?.close();
      repoDir?.cleanup();
      tmp?.cleanup();
    });

    const stats = (): ReturnType<Repository['resolveFeatures']> =>
      repo.resolveFeatures({ service: 'all' });

    async function run(
      rows: Record<string, unknown>[] | EntitySource,
      features = stats(),
      r = repo,
    ): Promise<ExportSummary> {
      const entities: EntitySource = Array.isArray(rows) ? { type: 'rows', rows } : rows;
      return h.store.exportPointInTime({
        repo: r,
        features,
        entities,
        out: { type: 'memory' },
      });
    }

    const EMPTY = {
      n_1h: 0,
      clicks_1h: 0,
      sum_1h: 0,
      avg_1h: null,
      min_1h: null,
      max_1h: null,
      last_kind_1h: null,
      mode_kind_1h: null,
    };

    it('every aggregation kind, hop boundaries (windowStart, t, t + 1 ms)', async () => {
      await h.writeSource(src, [
        ev({ id: 'e01', kind: 'click', amount: 100, ts: WS - 1 }),
        ev({ id: 'e02', kind: 'click', amount: 1, ts: WS }),
        ev({ id: 'e03', kind: 'view', amount: 5, ts: T0 }),
        ev({ id: 'e04', kind: 'view', amount: 3, ts: T }),
        ev({ id: 'e05', kind: 'click', amount: 1000, ts: T + 1 }),
      ]);
      const got = await run([
        { user_id: 'u1', event_timestamp: T },
        { user_id: 'u1', event_timestamp: T + 1 },
        { user_id: 'u1', event_timestamp: WS - 1 },
      ]);
      expect(got.data![0]).toMatchObject({
        n_1h: 3,
        clicks_1h: 1,
        sum_1h: 9,
        avg_1h: 3,
        min_1h: 1,
        max_1h: 5,
        last_kind_1h: 'view',
        mode_kind_1h: 'view',
      });
      expect(got.data![1]).toMatchObject({ n_1h: 4, clicks_1h: 2, sum_1h: 1009, max_1h: 1000 });
      expect(got.data![1]!.last_kind_1h).toBe('click');
      // At WS - 1 the window is [T0 - 89m, WS - 1]: only e01.
      expect(got.data![2]).toMatchObject({
        n_1h: 1,
        sum_1h: 100,
        min_1h: 100,
        mode_kind_1h: 'click',
      });
    });

    it('inputs above 1e300 in magnitude are null, so no sum overflows (docs/concepts.md "Nulls")', async () => {
      await h.writeSource(src, [
        ev({ id: 'e1', amount: 1e300, ts: T0 - 1 }),
        ev({ id: 'e2', amount: Number.MAX_VALUE, ts: T0 }),
        ev({ id: 'e3', amount: Number.MAX_VALUE, ts: T0 + 1 }),
        ev({ id: 'e4', amount: -1e308, ts: T0 + 2 }),
      ]);
      const got = await run([
        { user_id: 'u1', event_timestamp: T0 + 2 },
        { user_id: 'u1', event_timestamp: T0 + 59 * MIN },
      ]);
      expect(got.data![0]).toMatchObject({
        n_1h: 4,
        sum_1h: 1e300,
        avg_1h: 1e300,
        min_1h: 1e300,
        max_1h: 1e300,
      });
      // Only the two MAX_VALUE records and the -1e308 one left in the window: all skipped.
      expect(got.data![1]).toMatchObject({ n_1h: 3, sum_1h: 0, avg_1h: null, max_1h: null });
    });

    it('identical timestamps: last by greatest id (code points), mode ties → smallest value', async () => {
      await h.writeSource(src, [
        ev({ id: 'e9', kind: 'view', ts: T0, attrs: { color: 'red' } }),
        ev({ id: 'e10', kind: 'click', ts: T0, attrs: { color: 'blue' } }),
        ev({ id: 'E99', kind: 'buy', ts: T0, attrs: { color: 'green' } }),
      ]);
      const got = await run([{ user_id: 'u1', event_timestamp: T0 }]);
      // 'e9' > 'e10' > 'E99' by code point; buy/click/view tie once each → 'buy'.
      expect(got.data![0]).toMatchObject({
        n_1h: 3,
        last_kind_1h: 'view',
        color: 'red',
        mode_kind_1h: 'buy',
      });
    });

    it('a replayed record (same id and time, other value): last takes the greater value', async () => {
      // The same replays in both orders (two users), so no read order can pass by chance.
      const replays = (userId: string, colors: string[]): string[] =>
        colors.map((color, i) =>
          ev({ id: 'e5', userId, kind: ['view', 'click', 'buy'][i]!, ts: T0, attrs: { color } }),
        );
      await h.writeSource(src, [
        ev({ id: 'e1', kind: 'view', ts: T0 - 1, attrs: { color: 'zzz' } }),
        ...replays('u1', ['green', 'red', 'blue']),
        ...replays('u2', ['blue', 'red', 'green']),
      ]);
      const got = await run([
        { user_id: 'u1', event_timestamp: T0 },
        { user_id: 'u2', event_timestamp: T0 },
      ]);
      for (const row of got.data!)
        expect(row).toMatchObject({ color: 'red', last_kind_1h: 'view' });
    });

    it('empty windows, never-seen entities, rows before any data, null keys', async () => {
      await h.writeSource(src, [ev({ id: 'e1', ts: T - 2 * HOUR, attrs: { color: 'red' } })]);
      const got = await run([
        { user_id: 'u1', event_timestamp: T },
        { user_id: 'nobody', event_timestamp: T },
        { user_id: 'u1', event_timestamp: T - 3 * HOUR },
        { user_id: null, event_timestamp: T },
      ]);
      expect(got.data![0]).toMatchObject({ ...EMPTY, color: 'red', price: null });
      for (const i of [1, 2, 3]) expect(got.data![i]).toMatchObject({ ...EMPTY, color: null });
    });

    it('TTL expiry of lifetime values: exactly TTL old is valid, +1 ms is null', async () => {
      await h.writeSource(src, [ev({ id: 'e1', ts: T0, attrs: { color: 'red', price: '2.5' } })]);
      const got = await run([
        { user_id: 'u1', event_timestamp: T0 + DAY },
        { user_id: 'u1', event_timestamp: T0 + DAY + 1 },
        { user_id: 'u1', event_timestamp: T0 - 1 },
      ]);
      expect(got.data!.map((r) => [r.color, r.price])).toEqual([
        ['red', 2.5],
        [null, null],
        [null, null],
      ]);
    });

    it('anonymous events are skipped by the view filter', async () => {
      await h.writeSource(src, [
        ev({ id: 'e1', userId: null, ts: T0 }),
        ev({ id: 'e2', userId: 'u1', ts: T0, kind: 'click' }),
      ]);
      const got = await run([{ user_id: 'u1', event_timestamp: T }]);
      expect(got.data![0]).toMatchObject({ n_1h: 1, clicks_1h: 1 });
    });

    it('map-key paths and toNumber of decimal strings (non-numbers → null, skipped by last)', async () => {
      const cases: [string | undefined, number | null][] = [
        ['19.99', 19.99],
        [' 5.5 ', 5.5],
        ['1e2', 100],
        ['-3', -3],
        ['.5', 0.5],
        ['abc', null],
        ['inf', null],
        ['NaN', null],
        ['1_000', null],
        ['', null],
        [undefined, null],
      ];
      // One entity per case (its only event), written and exported together: one export job.
      await h.writeSource(
        src,
        cases.map(([text], i) =>
          ev({
            id: `e${i}`,
            userId: `u${i}`,
            ts: T0,
            attrs: text === undefined ? {} : { price: text },
          }),
        ),
      );
      const all = await run(cases.map((_, i) => ({ user_id: `u${i}`, event_timestamp: T0 })));
      cases.forEach(([text, want], i) => {
        expect({ text, price: all.data![i]!.price }).toEqual({ text, price: want });
      });
      // last non-null: a newer unparseable price does not hide the older number.
      await h.writeSource(src, [
        ev({ id: 'e1', ts: T0, attrs: { price: '7' } }),
        ev({ id: 'e2', ts: T0 + 1, attrs: { price: 'n/a', color: 'red' } }),
      ]);
      const got = await run([{ user_id: 'u1', event_timestamp: T0 + 1 }]);
      expect(got.data![0]).toMatchObject({ price: 7, color: 'red' });
    });

    it('unnest + weighted mode with ties; view filter on status', async () => {
      const tx = shop.batchSources.get('transactions_batch')!.spec;
      const t = (id: string, ts: number, status: string, items: [string, number][]): string =>
        JSON.stringify({
          transactionId: id,
          userId: 'u1',
          orderItems: items.map(([category, quantity]) => ({
            productId: 'p1',
            quantity,
            price: 1,
            category,
          })),
          totalAmount: 10,
          currency: 'EUR',
          paymentMethod: 'card',
          status,
          timestamp: ts,
        });
      await h.writeSource(tx, [
        t('t1', T0, 'completed', [
          ['toys', 1],
          ['books', 2],
        ]),
        t('t2', T0 + 1, 'completed', [['toys', 1]]),
        t('t3', T0 + 2, 'pending', [['games', 9]]),
      ]);
      const f = shop.resolveFeatures({ features: ['user_purchases:preferred_category_30d'] });
      const got = await run(
        [
          { user_id: 'u1', event_timestamp: T0 + 2 },
          { user_id: 'u1', event_timestamp: T0 },
        ],
        f,
        shop,
      );
      expect(got.data!.map((r) => r.preferred_category_30d)).toEqual(['books', 'books']);
      await h.writeSource(tx, [t('t1', T0, 'completed', [['toys', 3]])]);
      const again = await run([{ user_id: 'u1', event_timestamp: T0 }], f, shop);
      expect(again.data![0]!.preferred_category_30d).toBe('toys');
    });

    it('a quantity beyond the Avro int range: a counted reject of a batch file, kept by a BigQuery table', async () => {
      const tx = shop.batchSources.get('transactions_batch')!.spec;
      const t = (id: string, ts: number, category: string, quantity: number): string =>
        JSON.stringify({
          transactionId: id,
          userId: 'u1',
          orderItems: [{ productId: 'p1', quantity, price: 1, category }],
          totalAmount: 10,
          currency: 'EUR',
          paymentMethod: 'card',
          status: 'completed',
          timestamp: ts,
        });
      await h.writeSource(tx, [
        t('t1', T0, 'toys', 2 ** 31 - 1),
        t('t2', T0, 'books', 2 ** 31),
        t('t3', T0, 'games', 5),
      ]);
      const f = shop.resolveFeatures({ features: ['user_purchases:preferred_category_30d'] });
      const got = await run([{ user_id: 'u1', event_timestamp: T0 }], f, shop);
      if (h.rawFiles) {
        // Every path that validates records refuses it (docs/definitions.md).
        expect(got.data![0]!.preferred_category_30d).toBe('toys');
        expect(got.rejects.map((r) => [r.count, r.examples])).toEqual([
          [
            1,
            [{ line: 2, reason: 'field "orderItems[].quantity": number greater than 2147483647' }],
          ],
        ]);
      } else {
        // BigQuery tables are typed, not validated record by record: an INT64 holds it.
        expect(got.data![0]!.preferred_category_30d).toBe('books');
        expect(got.rejects).toEqual([]);
      }
    });

    it('on-demand features with request fields; labels passed through; row order kept', async () => {
      await h.writeSource(src, [
        ev({ id: 'e1', amount: 2, ts: T0 }),
        ev({ id: 'e2', userId: 'u2', amount: 5, ts: T0 }),
      ]);
      const features = repo.resolveFeatures({ features: ['stats:sum_1h', 'scaled:scaled_sum'] });
      const rows = [
        { user_id: 'u2', event_timestamp: T0 + 1, factor: 3, label: 1 },
        { user_id: 'u1', event_timestamp: T0, factor: 0.5, label: 0 },
        { user_id: 'u9', event_timestamp: T0 - DAY, factor: 2, label: 1 },
        { user_id: 'u1', event_timestamp: T0 - 1, factor: null, label: 0 },
        // 5 × 1e308 overflows: a non-finite result is null.
        { user_id: 'u2', event_timestamp: T0 + 2, factor: 1e308, label: 0 },
      ];
      const got = await run(rows, features);
      expect(got.data).toEqual([
        { user_id: 'u2', event_timestamp: T0 + 1, factor: 3, label: 1, sum_1h: 5, scaled_sum: 15 },
        { user_id: 'u1', event_timestamp: T0, factor: 0.5, label: 0, sum_1h: 2, scaled_sum: 1 },
        { user_id: 'u9', event_timestamp: T0 - DAY, factor: 2, label: 1, sum_1h: 0, scaled_sum: 0 },
        {
          user_id: 'u1',
          event_timestamp: T0 - 1,
          factor: null,
          label: 0,
          sum_1h: 0,
          scaled_sum: null,
        },
        {
          user_id: 'u2',
          event_timestamp: T0 + 2,
          factor: 1e308,
          label: 0,
          sum_1h: 5,
          scaled_sum: null,
        },
      ]);
    });

    it('the e-commerce on-demand views (recency, rates, user × product)', async () => {
      const ue = shop.batchSources.get('user_events_batch')!.spec;
      const tx = shop.batchSources.get('transactions_batch')!.spec;
      const u = (id: string, type: string, ts: number, props: Record<string, string>): string =>
        JSON.stringify(
          userEventRecord({
            eventId: id,
            userId: 'u1',
            eventType: type,
            timestamp: ts,
            properties: props,
            platform: 'mobile',
          }),
        );
      await h.writeSource(ue, [
        u('e1', 'page_view', T0 - 3 * DAY, { productId: 'p1', price: '30', category: 'fashion' }),
        u('e2', 'page_view', T0 - HOUR, { productId: 'p1' }),
        u('e3', 'page_view', T0 - HOUR, { productId: 'p1' }),
        u('e4', 'add_to_cart', T0 - HOUR, { productId: 'p1' }),
      ]);
      await h.writeSource(tx, [
        JSON.stringify({
          transactionId: 't1',
          userId: 'u1',
          orderItems: [{ productId: 'p1', quantity: 1, price: 60, category: 'fashion' }],
          totalAmount: 60,
          currency: 'EUR',
          paymentMethod: 'card',
          status: 'completed',
          timestamp: T0 - 2 * DAY,
        }),
      ]);
      const features = shop.resolveFeatures({
        features: [
          'user_recency:last_activity_days_ago',
          'product_rates:view_to_cart_rate_24h',
          'product_rates:cart_to_purchase_rate_24h',
          'user_product:price_vs_avg_order',
          'user_product:category_match',
          'user_product:device_optimization',
        ],
      });
      const got = await run(
        [
          { user_id: 'u1', product_id: 'p1', event_timestamp: T0 },
          { user_id: 'u0', product_id: 'p0', event_timestamp: T0 },
        ],
        features,
        shop,
      );
      expect(got.data![0]).toMatchObject({
        last_activity_days_ago: 0,
        view_to_cart_rate_24h: 0.5,
        cart_to_purchase_rate_24h: 0,
        price_vs_avg_order: 0.5,
        category_match: true,
        device_optimization: 0.9,
      });
      expect(got.data![1]).toMatchObject({
        last_activity_days_ago: null,
        view_to_cart_rate_24h: null,
        cart_to_purchase_rate_24h: null,
        price_vs_avg_order: null,
        category_match: false,
        device_optimization: 0.5,
      });
      await h.writeSource(ue, []);
      await h.writeSource(tx, []);
    });

    it('ISO-8601 and epoch-ms entity timestamps, from files and rows', async () => {
      await h.writeSource(src, [ev({ id: 'e1', amount: 4, ts: T0 })]);
      const iso = new Date(T0).toISOString();
      const csv = join(tmp.dir, 'ents.csv');
      writeFileSync(csv, `user_id,event_timestamp\nu1,${iso}\nu1,${T0 - 1}\n`);
      const jsonl = join(tmp.dir, 'ents.jsonl');
      writeFileSync(
        jsonl,
        `${JSON.stringify({ user_id: 'u1', event_timestamp: T0 })}\n${JSON.stringify({ user_id: 'u1', event_timestamp: T0 - 1 })}\n`,
      );
      const f = repo.resolveFeatures({ features: ['stats:sum_1h'] });
      for (const entities of [
        { type: 'file', path: csv },
        { type: 'file', path: jsonl },
        {
          type: 'rows',
          rows: [
            { user_id: 'u1', event_timestamp: iso },
            { user_id: 'u1', event_timestamp: T0 - 1 },
          ],
        },
      ] as EntitySource[]) {
        const got = await run(entities, f);
        expect(got.data!.map((r) => r.sum_1h)).toEqual([4, 0]);
      }
      // A file without the timestamp column (or a key) is refused, naming what is missing.
      const bad = join(tmp.dir, 'no-ts.csv');
      writeFileSync(bad, `user_id,when\nu1,${T0}\n`);
      await expect(run({ type: 'file', path: bad }, f)).rejects.toThrow(
        /the entity rows lack the column event_timestamp/,
      );
      await expect(run({ type: 'file', path: bad }, f)).rejects.toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        detail: { reason: 'missing_field' },
      });
      writeFileSync(bad, `event_timestamp\n${T0}\n`);
      await expect(run({ type: 'file', path: bad }, f)).rejects.toThrow(
        /the entity rows lack the column user_id/,
      );
    });

    it('entity timestamps in seconds, ms or µs, ISO-8601 and typed; the wrong unit is refused', async () => {
      await h.writeSource(src, [ev({ id: 'e1', amount: 4, ts: T0 })]);
      const f = repo.resolveFeatures({ features: ['stats:sum_1h'] });
      const sums = async (entities: EntitySource): Promise<unknown[]> =>
        (await run(entities, f)).data!.map((r) => r.sum_1h);
      const at = (n: number): number[] => [T0 + 1, T0 - 1].map((t) => Math.floor(t * n));
      // Epoch seconds, unannounced: every feature would be empty (January 1970), so refused.
      const secs = join(tmp.dir, 'secs.csv');
      writeFileSync(secs, `user_id,event_timestamp\nu1,${T0 / 1000}\nu1,${T0 / 1000 - 1}\n`);
      await expect(run({ type: 'file', path: secs }, f)).rejects.toThrow(
        /entity file .*secs\.csv: every numeric event_timestamp lies before 1973 when read as epoch milliseconds .*; they look like epoch seconds/,
      );
      await expect(run({ type: 'file', path: secs }, f)).rejects.toMatchObject({
        hint: expect.stringContaining('--timestamp-unit s'),
        detail: { reason: 'suspect_time_unit' },
      });
      expect(await sums({ type: 'file', path: secs, timestampUnit: 's' })).toEqual([4, 0]);
      // Next to ISO-8601 rows (plausible times), the numeric rows alone decide.
      const mixed = join(tmp.dir, 'mixed.csv');
      writeFileSync(mixed, `user_id,event_timestamp\nu1,2024-01-01T00:00:00Z\nu1,${T0 / 1000}\n`);
      await expect(run({ type: 'file', path: mixed }, f)).rejects.toThrow(
        /look like epoch seconds/,
      );
      const jsonl = join(tmp.dir, 'us.jsonl');
      writeFileSync(
        jsonl,
        at(1000)
          .map((t) => JSON.stringify({ user_id: 'u1', event_timestamp: t }))
          .join('\n'),
      );
      await expect(run({ type: 'file', path: jsonl }, f)).rejects.toThrow(
        /every numeric event_timestamp lies after 2500 .*they look like epoch microseconds/,
      );
      expect(await sums({ type: 'file', path: jsonl, timestampUnit: 'us' })).toEqual([4, 0]);
      const rows = [T0 / 1000, T0 / 1000 - 1].map((t) => ({ user_id: 'u1', event_timestamp: t }));
      await expect(run({ type: 'rows', rows }, f)).rejects.toThrow(/look like epoch seconds/);
      // Fractional seconds are floored to the millisecond: a row never sees a later event.
      expect(
        await sums({
          type: 'rows',
          rows: [
            { user_id: 'u1', event_timestamp: (T0 - 1) / 1000 + 0.0009 },
            { user_id: 'u1', event_timestamp: `${T0 / 1000}.0004` },
          ],
          timestampUnit: 's',
        }),
      ).toEqual([0, 4]);
      // Parquet: typed timestamps (no zone = UTC) and epoch seconds.
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const typed = join(tmp.dir, 'typed.parquet');
      const secsPq = join(tmp.dir, 'secs.parquet');
      await c.run(
        `COPY (SELECT 'u1' AS user_id, TIMESTAMP '2024-01-01 00:00:00' AS event_timestamp UNION ALL SELECT 'u1', TIMESTAMP '2023-12-31 23:59:59.999') TO '${typed}' (FORMAT parquet);` +
          `COPY (SELECT 'u1' AS user_id, ${T0 / 1000}::BIGINT AS event_timestamp UNION ALL SELECT 'u1', ${T0 / 1000 - 1}::BIGINT) TO '${secsPq}' (FORMAT parquet)`,
      );
      c.closeSync();
      db.closeSync();
      expect(await sums({ type: 'file', path: typed })).toEqual([4, 0]);
      await expect(run({ type: 'file', path: secsPq }, f)).rejects.toThrow(
        /look like epoch seconds/,
      );
      expect(await sums({ type: 'file', path: secsPq, timestampUnit: 's' })).toEqual([4, 0]);
      // ISO-8601 strings, with or without an offset (UTC), in CSV and JSON Lines.
      const iso = join(tmp.dir, 'iso.csv');
      writeFileSync(
        iso,
        'user_id,event_timestamp\nu1,2024-01-01T00:00:00\nu1,2024-01-01T00:59:59.999+01:00\n',
      );
      expect(await sums({ type: 'file', path: iso })).toEqual([4, 0]);
      // Explicitly milliseconds: taken as given, even when implausible.
      expect(await sums({ type: 'file', path: secs, timestampUnit: 'ms' })).toEqual([0, 0]);
    });

    it('malformed entity lines are refused with their line numbers; non-Parquet files too', async () => {
      await h.writeSource(src, [ev({ id: 'e1', amount: 4, ts: T0 })]);
      const f = repo.resolveFeatures({ features: ['stats:sum_1h'] });
      const csv = join(tmp.dir, 'quote.csv');
      writeFileSync(csv, `user_id,event_timestamp\nu1,${T0}\n"u1,${T0}\nu1,${T0}\n`);
      await expect(run({ type: 'file', path: csv }, f)).rejects.toThrow(
        /entity file .*quote\.csv: 1 malformed line: line 3 \(unterminated or stray quote\): "\\"u1,/,
      );
      writeFileSync(csv, `user_id,event_timestamp\nu1,${T0}\nu1,${T0},x\nu1\n"u,1",${T0}\n`);
      await expect(run({ type: 'file', path: csv }, f)).rejects.toThrow(
        /2 malformed lines: line 3 \(too many fields\): .*; line 4 \(too few fields\)/,
      );
      const jsonl = join(tmp.dir, 'broken.jsonl');
      writeFileSync(
        jsonl,
        `${JSON.stringify({ user_id: 'u1', event_timestamp: T0 })}\n{"user_id": "u1",\n\n[1]\n`,
      );
      await expect(run({ type: 'file', path: jsonl }, f)).rejects.toThrow(
        /entity file .*broken\.jsonl: 2 lines are not a JSON object: line 2 \(invalid JSON\).*; line 4 \(not an object\)/,
      );
      const notParquet = join(tmp.dir, 'rows.parquet');
      writeFileSync(notParquet, `user_id,event_timestamp\nu1,${T0}\n`);
      const err = await run({ type: 'file', path: notParquet }, f).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        message: expect.stringMatching(
          /^entity file .*rows\.parquet is not a readable Parquet file: [^\n]*$/,
        ),
      });
      // A quoted field holding the delimiter is read as one value.
      writeFileSync(csv, `user_id,event_timestamp\n"u1",${T0}\n"u,1",${T0}\n`);
      expect(
        (await run({ type: 'file', path: csv }, f)).data!.map((r) => [r.user_id, r.sum_1h]),
      ).toEqual([
        ['u1', 4],
        ['u,1', 0],
      ]);
    });

    it.each(['parquet', 'arrow', 'csv', 'jsonl'] as OutputFormat[])(
      'output format round-trip: %s',
      async (format) => {
        if (!h.store.capabilities.outputFormats.includes(format)) return;
        await h.writeSource(src, [
          ev({ id: 'e1', amount: 2.5, ts: T0, kind: 'click', attrs: { color: 'red' } }),
        ]);
        const features = stats();
        const rows = [
          { user_id: 'u1', event_timestamp: T0 },
          { user_id: 'u2', event_timestamp: T0 },
        ];
        const mem = await run(rows, features);
        const path = join(tmp.dir, `out.${format}`);
        const s = await h.store.exportPointInTime({
          repo,
          features,
          entities: { type: 'rows', rows },
          out: { type: 'file', path },
        });
        expect(s.rows).toBe(2);
        const back = await readBack(path, format);
        expect(back).toEqual(mem.data);
      },
    );

    const LIST_FEATURES = [
      'kinds_1h',
      'colors_1h',
      'recent_kinds_1h',
      'recent_colors_1h',
      'recent_amounts_1h',
      'recent_ts_1h',
    ];
    const listFeatures = () =>
      repo.resolveFeatures({ features: LIST_FEATURES.map((f) => `lists:${f}`) });

    it('count_distinct and last_n: ties, repeats, nulls, empty windows, n larger than the events', async () => {
      const records = [
        ev({ id: 'e01', kind: 'click', amount: 9, ts: WS - 1, attrs: { color: 'old' } }),
        ev({ id: 'e02', kind: 'view', amount: 1, ts: WS, attrs: { color: 'red' } }),
        ev({ id: 'e03', kind: 'click', amount: 2.5, ts: T0, attrs: { color: 'blue' } }),
        // Three events at one ms: by id (code point) 'e9' > 'e10' > 'E99'.
        ev({ id: 'e9', kind: 'buy', amount: 1, ts: T0 + MIN, attrs: { color: 'green' } }),
        ev({ id: 'e10', kind: 'view', amount: 2.5, ts: T0 + MIN, attrs: {} }),
        ev({ id: 'E99', kind: 'view', amount: 7, ts: T0 + MIN, attrs: { color: 'red' } }),
        ev({ id: 'e20', kind: 'click', amount: 1, ts: T, attrs: { color: 'red' } }),
        ev({ id: 'e21', kind: 'view', amount: 3, ts: T + 1, attrs: { color: 'pink' } }),
        ev({ id: 'e30', userId: 'u2', kind: 'buy', amount: 4, ts: T0, attrs: { color: 'red' } }),
      ];
      await h.writeSource(src, records);
      const rows = [
        { user_id: 'u1', event_timestamp: T },
        { user_id: 'u1', event_timestamp: T0 + MIN },
        { user_id: 'u2', event_timestamp: T },
        { user_id: 'u1', event_timestamp: WS - 1 },
        { user_id: 'u1', event_timestamp: T + 2 * HOUR },
        { user_id: 'nobody', event_timestamp: T },
      ];
      const got = await run(rows, listFeatures());
      expect(got.columns.filter((c) => c.type !== 'entity').map((c) => c.type)).toEqual([
        'int64',
        'int64',
        'string_list',
        'string_list',
        'float64_list',
        'int64_list',
      ]);
      expect(got.data![0]).toMatchObject({
        kinds_1h: 3,
        colors_1h: 2, // red, blue (green is a buy's)
        recent_kinds_1h: ['click', 'buy', 'view'],
        recent_colors_1h: ['red', 'green'],
        recent_amounts_1h: [1, 2.5, 7],
        recent_ts_1h: [T, T0 + MIN],
      });
      expect(got.data![1]).toMatchObject({
        recent_kinds_1h: ['buy', 'view', 'view'],
        recent_colors_1h: ['green', 'red'],
        // The window at T0 + 1m starts at T0 - 58m: e01 (9) is in it.
        recent_amounts_1h: [1, 2.5, 7, 9],
      });
      expect(got.data![2]).toMatchObject({
        kinds_1h: 1,
        colors_1h: 0,
        recent_kinds_1h: ['buy'],
        recent_colors_1h: ['red'],
        recent_amounts_1h: [4],
        recent_ts_1h: [T0],
      });
      expect(got.data![3]).toMatchObject({ kinds_1h: 1, recent_kinds_1h: ['click'] });
      const empty = {
        kinds_1h: 0,
        colors_1h: 0,
        recent_kinds_1h: [],
        recent_colors_1h: [],
        recent_amounts_1h: [],
        recent_ts_1h: [],
      };
      expect(got.data![4]).toMatchObject(empty);
      expect(got.data![5]).toMatchObject(empty);
      const want = referenceFeatures(
        repo,
        { ev: records.map((r) => JSON.parse(r) as Record<string, unknown>) },
        rows,
        listFeatures(),
      );
      got.data!.forEach((row, i) => expect(row, `row ${i}`).toMatchObject(want[i]!));
      // An on-demand view reads a list feature as an array ([] for an empty window).
      const od = await run(
        rows,
        repo.resolveFeatures({ features: ['list_size:n_recent', 'list_size:newest_kind'] }),
      );
      expect(od.data!.map((r) => [r.n_recent, r.newest_kind])).toEqual([
        [3, 'click'],
        [3, 'buy'],
        [1, 'buy'],
        [1, 'click'],
        [0, null],
        [0, null],
      ]);
    });

    it('sequence features: ties, a late event merging sessions, one-event entities, empty windows, forgotten events', async () => {
      const records = [
        // u1, session A [T0, T0 + 6m]: a tie at T0 + 1m, a gap of exactly G (5m).
        ev({ id: 's01', kind: 'click', ts: T0, attrs: { color: 'red' } }),
        ev({ id: 's02', kind: 'view', ts: T0 + MIN, attrs: { color: 'blue' } }),
        ev({ id: 's03', kind: 'buy', ts: T0 + MIN, attrs: { color: 'blue' } }),
        ev({ id: 's04', kind: 'click', ts: T0 + 6 * MIN, attrs: { color: 'red' } }),
        // Session B at T0 + 20m (a click 50 ms after a view), C at T0 + 26m…
        ev({ id: 's05', kind: 'view', ts: T0 + 20 * MIN, attrs: { color: 'red' } }),
        ev({ id: 's06', kind: 'click', ts: T0 + 20 * MIN + 50, attrs: { color: 'red' } }),
        ev({ id: 's07', kind: 'view', ts: T0 + 26 * MIN, attrs: { color: 'green' } }),
        // …merged by a late record (last in the file) at T0 + 23m without a color: it becomes
        // s07's previous event, so s07 is no color change.
        ev({ id: 's08', kind: 'view', ts: T0 + 23 * MIN }),
        // u2: one event.
        ev({ id: 't01', userId: 'u2', kind: 'click', ts: T0 + 10 * MIN }),
        // u3: the previous event of r02 is forgotten at T0 + 10m (memory from T0 - 1d).
        ev({ id: 'r01', userId: 'u3', ts: T0 - 2 * DAY, attrs: { color: 'red' } }),
        ev({ id: 'r02', userId: 'u3', ts: T0 + 5 * MIN, attrs: { color: 'blue' } }),
      ];
      await h.writeSource(src, records);
      const rows = [
        { user_id: 'u1', event_timestamp: T },
        { user_id: 'u1', event_timestamp: T0 + 22 * MIN },
        { user_id: 'u1', event_timestamp: T0 + 25 * MIN },
        { user_id: 'u1', event_timestamp: T + 2 * HOUR },
        { user_id: 'u2', event_timestamp: T0 + 10 * MIN },
        { user_id: 'u3', event_timestamp: T0 + 10 * MIN },
        { user_id: 'u3', event_timestamp: T0 - 2 * DAY + HOUR },
        { user_id: 'nobody', event_timestamp: T },
        { user_id: 'u1', event_timestamp: T0 - 1 },
      ];
      const features = repo.resolveFeatures({
        features: repo.featureViews.get('seq')!.spec.features.map((f) => `seq:${f.name}`),
      });
      const got = await run(rows, features);
      const d = got.data!;
      expect(d[0]).toMatchObject({
        sessions_1h: 2,
        buy_sessions_1h: 1,
        avg_session_1h_s: 360,
        current_events: 4,
        current_clicks: 1,
        current_duration_s: 360,
        fast_1h: 2,
        color_changes_1h: 2,
        click_kind_changes_1h: 2,
      });
      expect(d[1]).toMatchObject({ sessions_1h: 2, current_events: 2, current_clicks: 1 });
      expect(d[1]!.current_duration_s).toBeCloseTo(0.05, 9);
      expect(d[1]!.avg_session_1h_s).toBeCloseTo((360 + 0.05) / 2, 9);
      expect(d[2]).toMatchObject({ current_events: 3, current_duration_s: 180 });
      const none = {
        sessions_1h: 0,
        buy_sessions_1h: 0,
        avg_session_1h_s: null,
        current_events: 0,
        current_clicks: 0,
        current_duration_s: null,
        fast_1h: 0,
        color_changes_1h: 0,
        click_kind_changes_1h: 0,
      };
      expect(d[3]).toMatchObject(none);
      expect(d[4]).toMatchObject({
        sessions_1h: 1,
        avg_session_1h_s: 0,
        current_events: 1,
        current_clicks: 1,
        current_duration_s: 0,
        fast_1h: 0,
      });
      expect(d[5]).toMatchObject({ color_changes_1h: 0, current_events: 1 });
      expect(d[7]).toMatchObject(none);
      expect(d[8]).toMatchObject(none);
      const want = referenceFeatures(
        repo,
        { ev: records.map((r) => JSON.parse(r) as Record<string, unknown>) },
        rows,
        features,
      );
      d.forEach((row, i) => {
        for (const [k, v] of Object.entries(want[i]!)) {
          if (typeof v === 'number' && !Number.isInteger(v))
            expect(row[k], `row ${i} ${k}`).toBeCloseTo(v, 9);
          else expect(row[k], `row ${i} ${k}`).toEqual(v);
        }
      });
    });

    it.each(['parquet', 'arrow', 'csv', 'jsonl'] as OutputFormat[])(
      'list features in %s: Parquet LIST, Arrow List, JSON arrays in CSV and JSON Lines',
      async (format) => {
        if (!h.store.capabilities.outputFormats.includes(format)) return;
        await h.writeSource(src, [
          ev({ id: 'e1', kind: 'click', amount: 2.5, ts: T0, attrs: { color: 'say "hi", ok' } }),
          ev({ id: 'e2', kind: 'view', amount: 1, ts: T0 + 1, attrs: { color: 'red' } }),
        ]);
        const rows = [
          { user_id: 'u1', event_timestamp: T0 + 1 },
          { user_id: 'u2', event_timestamp: T0 },
        ];
        const features = repo.resolveFeatures({
          features: ['lists:recent_colors_1h', 'lists:recent_amounts_1h', 'lists:kinds_1h'],
        });
        const path = join(tmp.dir, `lists.${format}`);
        await h.store.exportPointInTime({
          repo,
          features,
          entities: { type: 'rows', rows },
          out: { type: 'file', path },
        });
        const expected = [
          { recent_colors_1h: ['red', 'say "hi", ok'], recent_amounts_1h: [1, 2.5], kinds_1h: 2 },
          { recent_colors_1h: [], recent_amounts_1h: [], kinds_1h: 0 },
        ];
        if (format === 'csv') {
          const lines = readFileSync(path, 'utf8').trim().split('\n');
          expect(lines[0]).toBe(
            'user_id,event_timestamp,recent_colors_1h,recent_amounts_1h,kinds_1h',
          );
          expect(lines[1]).toContain('"[""red"",""say \\""hi\\"", ok""]","[1.0,2.5]",2');
          expect(lines[2]).toContain(',[],[],0');
        } else if (format === 'jsonl') {
          const back = readFileSync(path, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Record<string, unknown>);
          back.forEach((r, i) => expect(r).toMatchObject(expected[i]!));
        } else if (format === 'arrow') {
          const table = tableFromIPC(readFileSync(path));
          expect(
            String(table.schema.fields.find((f) => f.name === 'recent_colors_1h')!.type),
          ).toMatch(/^List<Utf8>$/);
          const col = (n: string) =>
            [...table.getChild(n)!].map((v) => (v === null ? null : [...(v as Iterable<unknown>)]));
          expect(col('recent_colors_1h')).toEqual(expected.map((e) => e.recent_colors_1h));
          expect(col('recent_amounts_1h')).toEqual(expected.map((e) => e.recent_amounts_1h));
        } else {
          const back = await readBack(path, format);
          back.forEach((r, i) => expect(r).toMatchObject(expected[i]!));
          const instance = await DuckDBInstance.create(':memory:');
          const conn = await instance.connect();
          try {
            const types = (
              await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)
            ).getRowObjectsJS();
            expect(types.map((t) => [t.column_name, t.column_type])).toEqual(
              expect.arrayContaining([
                ['recent_colors_1h', 'VARCHAR[]'],
                ['recent_amounts_1h', 'DOUBLE[]'],
              ]),
            );
          } finally {
            conn.closeSync();
            instance.closeSync();
          }
        }
      },
    );

    it('bad raw records are counted per file with line-numbered examples, never aborting', async () => {
      if (!h.rawFiles) return;
      await h.writeSource(
        src,
        [
          ev({ id: 'e1', ts: T0 }),
          '{"id": "e2", "ts": ',
          JSON.stringify({ id: 'e3', userId: 'u1', kind: 'view', amount: 1, attrs: {}, ts: 'x' }),
          '',
          JSON.stringify({ id: 'e4', userId: 'u1', amount: 1, attrs: {}, ts: T0 }),
          ev({ id: 'e5', ts: T0, kind: 'nope' }),
          ev({ id: 'e6', ts: T0 }),
        ],
        'a.jsonl',
      );
      const got = await run([{ user_id: 'u1', event_timestamp: T0 }]);
      expect(got.data![0]!.n_1h).toBe(2);
      expect(got.rejects).toHaveLength(1);
      const r = got.rejects[0]!;
      expect(r.source).toBe('ev');
      expect(r.file.endsWith('a.jsonl')).toBe(true);
      expect(r.count).toBe(4);
      expect(r.examples).toEqual([
        { line: 2, reason: 'invalid JSON' },
        { line: 3, reason: 'field "ts": expected int64, got string' },
        { line: 5, reason: 'missing required field "kind"' },
        { line: 6, reason: 'field "kind": "nope" is not one of click, view, buy' },
      ]);
    });

    it('raw records stamped later than now + ingest.maxFutureSkew (default 5m) are counted rejects', async () => {
      if (!h.rawFiles) return;
      // A year ahead of the store's wall clock, and beyond JavaScript's date range.
      const ahead = Math.floor((Date.now() + 366 * 86_400_000) / MIN) * MIN;
      await h.writeSource(
        src,
        [
          ev({ id: 'e1', ts: T0 }),
          ev({ id: 'e2', ts: ahead, kind: 'click' }),
          ev({ id: 'e3', ts: T0 }),
          ev({ id: 'e4', ts: 9e15 }),
        ],
        'f.jsonl',
      );
      const got = await run([{ user_id: 'u1', event_timestamp: T0 }]);
      expect(got.data![0]!.n_1h).toBe(2);
      expect(got.rejects).toHaveLength(1);
      const r = got.rejects[0]!;
      expect(r.file.endsWith('f.jsonl')).toBe(true);
      expect(r.count).toBe(2);
      expect(r.examples.map((e) => e.line)).toEqual([2, 4]);
      expect(r.examples[0]!.reason).toMatch(
        new RegExp(`^field "ts": ${ahead} is later than now \\+ 5m \\(`),
      );
      expect(r.examples[1]!.reason).toBe(
        `field "ts": 9000000000000000 is outside JavaScript's date range (±8.64e15 ms)`,
      );
    });

    it('int64 values beyond ±(2^53 − 1) are counted rejects on both validators, not read as null', async () => {
      if (!h.rawFiles) return;
      // 1e20 is an integer to zod and JSON, NULL to DuckDB's BIGINT cast, rounded in JavaScript:
      // every path refuses it with the same reason (the stream and /push: record-decoder tests).
      const base = { userId: 'u1', kind: 'view', amount: 1, attrs: {} };
      await h.writeSource(
        src,
        [
          ev({ id: 'e1', ts: T0 }),
          `{"id": "e2", "userId": "u1", "kind": "view", "amount": 1, "attrs": {}, "ts": 100000000000000000000}`,
          JSON.stringify({ id: 'e3', ...base, ts: -(2 ** 53) }),
          JSON.stringify({ id: 'e4', ...base, ts: T0 + 1 }),
        ],
        'i.jsonl',
      );
      const got = await run([{ user_id: 'u1', event_timestamp: T0 + 1 }]);
      expect(got.data![0]!.n_1h).toBe(2);
      expect(got.rejects).toHaveLength(1);
      const r = got.rejects[0]!;
      expect(r.count).toBe(2);
      const reason = `field "ts": outside the int64 range read exactly on every path (±9007199254740991)`;
      expect(r.examples).toEqual([
        { line: 2, reason },
        { line: 3, reason },
      ]);
    });

    it('every store leaves out records later than now + ingest.maxFutureSkew or outside JavaScript dates, counted; long join keys are kept', async () => {
      const now = Date.now();
      const ahead = Math.floor((now + 366 * DAY) / MIN) * MIN;
      // Within the 5m skew: accepted, and counted from its own time on.
      const soon = Math.floor((now + 2 * MIN) / MIN) * MIN;
      // Over ingest.maxKeyBytes (1024): push and the stream refuse it, batch reads keep it.
      const long = 'k'.repeat(1025);
      await h.writeSource(
        src,
        [
          ev({ id: 'e1', ts: T0 }),
          ev({ id: 'e2', ts: ahead, kind: 'click' }),
          ev({ id: 'e3', ts: soon }),
          ev({ id: 'e4', ts: 9e15 }),
          ev({ id: 'e5', userId: long, ts: T0 }),
          ev({ id: 'e6', ts: -9e15 }),
        ],
        'f.jsonl',
      );
      const got = await run([
        { user_id: 'u1', event_timestamp: T0 },
        { user_id: 'u1', event_timestamp: soon },
        { user_id: 'u1', event_timestamp: ahead },
        { user_id: long, event_timestamp: T0 },
      ]);
      expect(got.data!.map((r) => [r.n_1h, r.clicks_1h])).toEqual([
        [1, 0],
        [1, 0],
        [0, 0],
        [1, 0],
      ]);
      // One report per file (DuckDB) or table (BigQuery: `<project>.<dataset>.ev`, no examples).
      expect(got.rejects.map((r) => [r.source, r.count])).toEqual([['ev', 3]]);
      expect(got.rejects[0]!.file).toMatch(h.rawFiles ? /\/f\.jsonl$/ : /\.ev$/);

      // Materialization reads the same rows: no tile at `ahead`, the same rejects.
      const computed = await h.store.computeTiles(repo.featureViews.get('stats')!.spec, {
        repo,
        start: T0 - HOUR,
        end: ahead + HOUR,
      });
      const tiles: string[] = [];
      for await (const b of computed.batches)
        for (const t of b.tiles) tiles.push(`${String(t.key[0]).slice(0, 4)} ${t.hop}`);
      expect(tiles.sort()).toEqual([`kkkk ${T0 / MIN}`, `u1 ${T0 / MIN}`, `u1 ${soon / MIN}`]);
      expect(computed.rejects().map((r) => [r.source, r.count])).toEqual([['ev', 3]]);
    });

    it('entity-file join keys read as their declared type: int64, string and float64 keys spelled as JSON numbers', async () => {
      // The rule of test/offline/join-key-numbers.test.ts (docs/api.md "Join keys") on every
      // store: the keys are read once, locally, then joined where the store computes (BigQuery:
      // uploaded as text and compared with each source key cast to STRING).
      const keyed = tempRepo({ 'repo.ts': NUMBER_KEYS_REPO });
      try {
        const r = await loadRepository(keyed.dir);
        const tx = r.batchSources.get('tx')!.spec;
        // Record i has amount 10^i: a total names the records a key matched.
        const recs: [number, string, number][] = [
          [1, '1', 1],
          [1000, '1000', 0.5],
          [0, '0', 0],
          [7, '1.5', 1e21],
          [7, '1.0', -2.25],
          [8, '0.000001', 3],
        ];
        await h.writeSource(
          tx,
          recs.map(([acctId, handle, gauge], i) =>
            JSON.stringify({ id: `r${i}`, acctId, handle, gauge, amount: 10 ** i, ts: T - MIN }),
          ),
        );
        let n = 0;
        const totals = async (view: string, key: string, spelled: string[]) => {
          const path = join(tmp.dir, `number-keys-${n++}.jsonl`);
          writeFileSync(
            path,
            spelled.map((k) => `{"${key}":${k},"event_timestamp":${T}}\n`).join(''),
          );
          const got = await run(
            { type: 'file', path },
            r.resolveFeatures({ features: [`${view}:total`] }),
            r,
          );
          return got.data!.map((x) => x.total);
        };
        expect(
          await totals('by_acct', 'acct_id', ['1', '1.0', '1e0', '1e3', '-0', '7.000']),
        ).toEqual([1, 1, 1, 10, 100, 11000]);
        // 1.5 makes DuckDB type the column DOUBLE: `1` must still read as "1", not "1.0"; 1e-6
        // as JavaScript writes it, "0.000001" (DuckDB's text is "1e-06").
        expect(
          await totals('by_handle', 'handle', ['1', '1.0', '1e3', '-0', '1.5', '"1.0"', '1e-6']),
        ).toEqual([1, 1, 10, 100, 1000, 10000, 100000]);
        expect(
          await totals('by_gauge', 'gauge_id', ['1', '1.0', '5e-1', '-0', '1e21', '-2.25']),
        ).toEqual([1, 1, 10, 100, 1000, 10000]);
        // What no path reads exactly is refused, before any query.
        for (const [view, key, bad] of [
          ['by_acct', 'acct_id', '1.5'],
          ['by_acct', 'acct_id', '9007199254740993'],
          ['by_handle', 'handle', '9007199254740993'],
          ['by_gauge', 'gauge_id', '"x"'],
        ] as const)
          await expect(totals(view, key, [bad])).rejects.toMatchObject({
            code: 'LARDER_BAD_REQUEST',
            detail: { reason: 'wrong_type' },
          });
      } finally {
        keyed.cleanup();
      }
    });

    it('--start/--end/--every grid mode samples every known entity', async () => {
      expect(h.store.capabilities.entityGrid).toBe(true);
      await h.writeSource(src, [
        ev({ id: 'e1', ts: T0, amount: 1 }),
        ev({ id: 'e2', userId: 'u2', ts: T0 + MIN, amount: 2 }),
        ev({ id: 'e3', userId: null, ts: T0 + MIN, amount: 4 }),
      ]);
      const got = await run(
        { type: 'grid', start: T0, end: T0 + 2 * MIN, everyMs: MIN },
        repo.resolveFeatures({ features: ['stats:sum_1h'] }),
      );
      expect(got.data!.map((r) => [r.user_id, r.event_timestamp, r.sum_1h])).toEqual([
        ['u1', T0, 1],
        ['u2', T0, 0],
        ['u1', T0 + MIN, 1],
        ['u2', T0 + MIN, 2],
        ['u1', T0 + 2 * MIN, 1],
        ['u2', T0 + 2 * MIN, 2],
      ]);
    });

    describeComputeTilesConformance(() => ({ h, shop }), opts.computeTiles);
    describeBatchViewConformance(() => ({ h, shop }));
  });
}

/** Reads an output file back into row objects (int64 as numbers), independent of the store. */
async function readBack(path: string, format: OutputFormat): Promise<Record<string, unknown>[]> {
  if (format === 'arrow') {
    const table = tableFromIPC(readFileSync(path));
    return table.toArray().map((r: { toJSON(): Record<string, unknown> }) => {
      const o = { ...r.toJSON() };
      for (const [k, v] of Object.entries(o)) if (typeof v === 'bigint') o[k] = Number(v);
      return o;
    });
  }
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const p = `'${path.replaceAll("'", "''")}'`;
    const from =
      format === 'parquet'
        ? `read_parquet(${p})`
        : format === 'csv'
          ? `read_csv(${p}, header = true)`
          : `read_json(${p}, format = 'newline_delimited')`;
    const reader = await conn.runAndReadAll(`SELECT * FROM ${from}`);
    return reader.getRowObjectsJS().map((r) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) o[k] = typeof v === 'bigint' ? Number(v) : v;
      return o;
    });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
