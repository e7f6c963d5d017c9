/**
 * Property: DuckDB's point-in-time export of the whole `recommendation_v2` service (all of
 * `recommendation_v1`, plus lists, distinct counts and the user × product view) and `risk_v1`
 * equals the reference evaluator on random small histories of both e-commerce sources (40 runs × 100
 * entity rows). Times cluster around hop boundaries so window edges, ties and TTLs are hit.
 * Three configurations: the default sweep engine (worker pool, index cache — every run rewrites
 * the sources, so a stale cache entry would show), the sweep split into tiny key partitions
 * inline, and the SQL window engine. A second property feeds records generated from the
 * sources' zod schemas (test/support/schema-records.ts) instead of the builders above: nulls,
 * unicode ids and categories, prices like " 2.5" or "1e999", empty and long order lists.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floatsEqual } from '../../aggregation/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';
import { referenceFeatures } from '../../reference/index.ts';
import type { Repository } from '../../definitions/repository.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { TransactionSchema, UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import { userEventRecord, transactionRecord } from '../support/records.ts';
import { schemaRecord, schemaValue } from '../support/schema-records.ts';

const T0 = 1_700_006_400_000; // a whole day
const USERS = ['u1', 'u2', 'u3', 'u4'];
const PRODUCTS = ['p1', 'p2', 'p3'];
const CATEGORIES = ['books', 'electronics', 'fashion', 'toys'];
const PLATFORMS = ['mobile', 'desktop', 'tablet'];

/** Offsets that land on and next to hop and window edges (minutes, hours, days, TTLs). */
const time = fc
  .oneof(
    fc.integer({ min: -40 * DAY_MS, max: 2 * DAY_MS }),
    fc
      .tuple(
        fc.constantFrom(MINUTE_MS, 5 * MINUTE_MS, HOUR_MS, DAY_MS, 7 * DAY_MS, 30 * DAY_MS),
        fc.integer({ min: -3, max: 3 }),
        fc.constantFrom(-1, 0, 1),
      )
      .map(([u, k, d]) => k * u + d),
  )
  .map((o) => T0 + o);

const eventArb = fc.record({
  id: fc.integer({ min: 0, max: 30 }),
  userId: fc.option(fc.constantFrom(...USERS), { freq: 5 }),
  eventType: fc.constantFrom('page_view', 'click', 'purchase', 'add_to_cart', 'search'),
  ts: time,
  productId: fc.option(fc.constantFrom(...PRODUCTS), { freq: 4 }),
  price: fc.option(
    fc.oneof(
      fc.constantFrom('10', '19.99', ' 5.5 ', 'abc', '1e2', 'inf'),
      fc.double({ min: 0.01, max: 500, noNaN: true }).map(String),
    ),
    { freq: 2 },
  ),
  category: fc.option(fc.constantFrom(...CATEGORIES), { freq: 2 }),
  platform: fc.constantFrom(...PLATFORMS),
});

const txArb = fc.record({
  id: fc.integer({ min: 0, max: 20 }),
  userId: fc.constantFrom(...USERS),
  ts: time,
  items: fc.array(
    fc.record({
      productId: fc.constantFrom(...PRODUCTS),
      quantity: fc.integer({ min: 1, max: 4 }),
      price: fc.double({ min: 1, max: 100, noNaN: true }),
      category: fc.constantFrom(...CATEGORIES),
    }),
    { maxLength: 3 },
  ),
  total: fc.double({ min: 0.5, max: 1000, noNaN: true }),
  status: fc.constantFrom('completed', 'completed', 'pending', 'failed', 'refunded'),
});

const rowArb = fc.record({
  user_id: fc.constantFrom(...USERS, 'u-never'),
  product_id: fc.constantFrom(...PRODUCTS, 'p-never'),
  event_timestamp: time,
});

const CONFIGS = [
  { name: 'sweep', options: {} },
  { name: 'sweep, 7-event partitions, inline', options: { partitionEvents: 7, sweepThreads: 1 } },
  { name: 'sql', options: { engine: 'sql' as const } },
];

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return floatsEqual(a, b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return a === b;
}

describe.each(CONFIGS)(
  'point-in-time export = reference evaluator (recommendation_v2 ⊃ recommendation_v1, risk_v1), $name',
  (config) => {
    let dir: string;
    let repo: Repository;
    let store: DuckDBOfflineStore;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'larder-pit-'));
      mkdirSync(join(dir, 'data/raw/user_events'), { recursive: true });
      mkdirSync(join(dir, 'data/raw/transactions'), { recursive: true });
      repo = await loadRepository('examples/ecommerce/features');
      store = new DuckDBOfflineStore({
        type: 'duckdb',
        dataDir: join(dir, 'data'),
        home: join(dir, 'home'),
        memoryLimit: '1GB',
        ...config.options,
      });
      await store.init();
    });

    afterAll(async () => {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('agrees on random histories', async () => {
      // recommendation_v2 holds every feature of recommendation_v1, plus the list, distinct,
      // user × product and session features; risk_v1 adds user_risk, user_orders and
      // order_risk (user_sessions is in both: each feature once).
      const features = [
        ...repo.resolveFeatures({ service: 'recommendation_v2' }),
        ...repo.resolveFeatures({ service: 'risk_v1' }),
      ].filter(
        (f, i, all) => all.findIndex((g) => g.view === f.view && g.feature === f.feature) === i,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(eventArb, { maxLength: 60 }),
          fc.array(txArb, { maxLength: 20 }),
          fc.array(rowArb, { minLength: 100, maxLength: 100 }),
          async (evs, txs, rows) => {
            const events = evs.map((e) =>
              userEventRecord({
                eventId: `e${e.id}`,
                userId: e.userId,
                eventType: e.eventType,
                timestamp: e.ts,
                properties: { productId: e.productId, price: e.price, category: e.category },
                platform: e.platform,
              }),
            );
            const transactions = txs.map((t) =>
              transactionRecord({
                transactionId: `t${t.id}`,
                userId: t.userId,
                orderItems: t.items,
                totalAmount: t.total,
                status: t.status,
                timestamp: t.ts,
              }),
            );
            writeFileSync(
              join(dir, 'data/raw/user_events/events.jsonl'),
              events.map((e) => JSON.stringify(e)).join('\n') + '\n',
            );
            writeFileSync(
              join(dir, 'data/raw/transactions/tx.jsonl'),
              transactions.map((e) => JSON.stringify(e)).join('\n') + '\n',
            );
            const got = await store.exportPointInTime({
              repo,
              features,
              entities: { type: 'rows', rows },
              out: { type: 'memory' },
            });
            const want = referenceFeatures(
              repo,
              { user_events_batch: events, transactions_batch: transactions },
              rows,
              features,
            );
            expect(got.rejects).toEqual([]);
            expect(got.data).toHaveLength(rows.length);
            got.data!.forEach((row, i) => {
              expect(row.user_id).toBe(rows[i]!.user_id);
              expect(row.event_timestamp).toBe(rows[i]!.event_timestamp);
              for (const [k, v] of Object.entries(want[i]!)) {
                if (!same(row[k], v))
                  expect({ row: i, entity: rows[i], feature: k, got: row[k] }).toEqual({
                    row: i,
                    entity: rows[i],
                    feature: k,
                    got: v,
                  });
              }
            });
          },
        ),
        // ~0.5 s a run (an export over freshly written files): 3 configs × 25.
        { numRuns: 25 },
      );
    }, 120_000);
  },
);

/** Keeps the keys few (so entities collide) and the ids unique (so `last` ties are decided). */
const unique = <T extends Record<string, unknown>>(records: T[], idField: string): T[] =>
  records.map((r, i) => ({ ...r, [idField]: `${String(r[idField])}#${i}` }));

const schemaEvent = schemaRecord(UserEventSchema, {
  overrides: {
    userId: fc.option(fc.constantFrom(...USERS), { freq: 5 }),
    timestamp: fc.oneof(time, fc.constantFrom(T0, T0 - HOUR_MS, T0 - DAY_MS)),
    properties: fc
      .tuple(
        fc.record(
          {
            productId: fc.constantFrom(...PRODUCTS),
            price: schemaValue(z.string()),
            category: fc.oneof(fc.constantFrom(...CATEGORIES), schemaValue(z.string())),
          },
          { requiredKeys: [] },
        ),
        schemaValue(z.record(z.string(), z.string())),
      )
      .map(([known, extra]) => ({ ...(extra as Record<string, string>), ...known })),
  },
});
const schemaTx = schemaRecord(TransactionSchema, {
  overrides: {
    userId: fc.constantFrom(...USERS),
    timestamp: fc.oneof(time, fc.constantFrom(T0, T0 - HOUR_MS, T0 - DAY_MS)),
    status: fc.constantFrom('completed', 'completed', 'failed', 'Completed', 'completed '),
    // Sums of ±1e308 cancel differently in different orders: keep totals finite-summable.
    totalAmount: fc.oneof(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.constantFrom(0, 0.1, 1e-300, 5e-324),
    ),
  },
});

describe.each(CONFIGS.filter((c) => c.name !== 'sweep, 7-event partitions, inline'))(
  'point-in-time export = reference evaluator on schema-generated records, $name',
  (config) => {
    let dir: string;
    let repo: Repository;
    let store: DuckDBOfflineStore;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'larder-pit-schema-'));
      mkdirSync(join(dir, 'data/raw/user_events'), { recursive: true });
      mkdirSync(join(dir, 'data/raw/transactions'), { recursive: true });
      repo = await loadRepository('examples/ecommerce/features');
      store = new DuckDBOfflineStore({
        type: 'duckdb',
        dataDir: join(dir, 'data'),
        home: join(dir, 'home'),
        memoryLimit: '1GB',
        ...config.options,
      });
      await store.init();
    });

    afterAll(async () => {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('agrees on records shaped only by the source schemas', async () => {
      const features = repo.resolveFeatures({ service: 'recommendation_v1' });
      await fc.assert(
        fc.asyncProperty(
          fc.array(schemaEvent, { maxLength: 40 }),
          fc.array(schemaTx, { maxLength: 15 }),
          fc.array(rowArb, { minLength: 50, maxLength: 50 }),
          async (evs, txs, rows) => {
            // Through JSON, as every engine receives them.
            const events = unique(evs, 'eventId').map(
              (e) => JSON.parse(JSON.stringify(e)) as Record<string, unknown>,
            );
            const transactions = unique(txs, 'transactionId').map(
              (t) => JSON.parse(JSON.stringify(t)) as Record<string, unknown>,
            );
            writeFileSync(
              join(dir, 'data/raw/user_events/events.jsonl'),
              events.map((e) => JSON.stringify(e)).join('\n') + '\n',
            );
            writeFileSync(
              join(dir, 'data/raw/transactions/tx.jsonl'),
              transactions.map((e) => JSON.stringify(e)).join('\n') + '\n',
            );
            const got = await store.exportPointInTime({
              repo,
              features,
              entities: { type: 'rows', rows },
              out: { type: 'memory' },
            });
            const want = referenceFeatures(
              repo,
              { user_events_batch: events, transactions_batch: transactions },
              rows,
              features,
            );
            expect(got.rejects).toEqual([]);
            expect(got.data).toHaveLength(rows.length);
            got.data!.forEach((row, i) => {
              for (const [k, v] of Object.entries(want[i]!)) {
                if (!same(row[k], v))
                  expect({ row: i, entity: rows[i], feature: k, got: row[k] }).toEqual({
                    row: i,
                    entity: rows[i],
                    feature: k,
                    got: v,
                  });
              }
            });
          },
        ),
        { numRuns: 20 },
      );
    }, 300_000);
  },
);
