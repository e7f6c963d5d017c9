/**
 * `computeTiles` conformance: for random histories of the e-commerce sources, the tiles and
 * lifetime states a store yields (converted with `toTileWrites`, as materialization writes
 * them), merged with `evaluateTiles` / `evaluateLifetime` at several `t >= end`, equal the
 * reference evaluator over the events before `end`. This is what makes online reads after
 * materialization equal the training export.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { expect, it } from 'vitest';
import {
  aggregator,
  evaluateLifetime,
  evaluateTiles,
  floatsEqual,
  type LastState,
} from '../../aggregation/index.ts';
import { referenceFeatures } from '../../reference/index.ts';
import type { Repository } from '../../definitions/repository.ts';
import { toTileWrites, tilesStart } from '../../offline/tile-writes.ts';
import { encodeEntityKey, type LifetimeWrite, type TileWrite } from '../../aggregation/tiles.ts';
import type { ConformanceHarness } from './conformance-harness.ts';
import { TransactionSchema, UserEventSchema } from '../../examples/ecommerce/features/schemas.ts';
import { userEventRecord, transactionRecord } from '../support/records.ts';
import { schemaRecord, schemaValue } from '../support/schema-records.ts';
import { tileKind } from '../../aggregation/tile-kind.ts';
import { evaluateSequenceTiles } from '../../aggregation/sequence-tiles.ts';
import { isSequenceKind } from '../../core/sequence.ts';
import { firstServingHops } from '../../materialize/materialize.ts';
import { viewWritePlan } from '../../online/view-catalog.ts';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const USERS = ['u1', 'u2', 'u3'];
const PRODUCTS = ['p1', 'p2'];
const CATS = ['books', 'toys', 'fashion'];

const offset = fc.oneof(
  fc.integer({ min: -35 * DAY, max: 0 }),
  fc
    .tuple(
      fc.constantFrom(MIN, 5 * MIN, HOUR, DAY, 7 * DAY, 30 * DAY),
      fc.integer({ min: -2, max: 1 }),
      fc.constantFrom(-1, 0, 1),
    )
    .map(([u, k, d]) => k * u + d),
);

const eventArb = fc.record({
  id: fc.integer({ min: 0, max: 20 }),
  userId: fc.option(fc.constantFrom(...USERS), { freq: 5 }),
  eventType: fc.constantFrom('page_view', 'click', 'purchase', 'add_to_cart', 'search'),
  at: offset,
  productId: fc.option(fc.constantFrom(...PRODUCTS), { freq: 4 }),
  price: fc.option(fc.constantFrom('10', '19.99', 'abc', '1e2'), { freq: 2 }),
  category: fc.option(fc.constantFrom(...CATS), { freq: 2 }),
  platform: fc.constantFrom('mobile', 'desktop'),
});

const txArb = fc.record({
  id: fc.integer({ min: 0, max: 15 }),
  userId: fc.constantFrom(...USERS),
  at: offset,
  items: fc.array(
    fc.record({ category: fc.constantFrom(...CATS), quantity: fc.integer({ min: 1, max: 3 }) }),
    { maxLength: 3 },
  ),
  total: fc.double({ min: 0.5, max: 500, noNaN: true }),
  status: fc.constantFrom('completed', 'completed', 'failed'),
});

const same = (a: unknown, b: unknown): boolean =>
  typeof a === 'number' && typeof b === 'number'
    ? floatsEqual(a, b)
    : Array.isArray(a) && Array.isArray(b)
      ? a.length === b.length && a.every((x, i) => x === b[i])
      : a === b;

/** `end` offsets from T0 of the first property: hop and day boundaries, ±1 ms. */
const ENDS = [0, 1, MIN - 1, 37 * MIN + 5, DAY];
/** `end` offsets of the schema-generated property. */
const SCHEMA_ENDS = [0, 1, 37 * MIN + 5];
/** bucketTiles (whole, tiny, small buckets of entities) × firstHops: every store runs each. */
const VARIANTS = [undefined, 1, 4].flatMap((bucketTiles) =>
  [false, true].map((firstHops) => ({ bucketTiles, firstHops })),
);

/**
 * How many random histories each property checks. Every run computes every view (each view
 * kind), so the count trades random histories only. The default suits in-process stores; a
 * store whose every query job takes a second or more (the BigQuery emulator: one job per view
 * and hop size) passes fewer. With one run per variant, the 6 variants take the 5 ends in
 * turn, so each end is still checked.
 */
export interface ComputeTilesRuns {
  /** Runs for each bucketTiles × firstHops variant (6 variants); default 3. */
  perVariant: number;
  /** Runs for each `end` of the schema-generated property (3 ends); default 4. */
  perSchemaEnd: number;
}

/** Registers the computeTiles property inside the enclosing conformance `describe`. */
export function describeComputeTilesConformance(
  ctx: () => { h: ConformanceHarness; shop: Repository },
  runs: ComputeTilesRuns = { perVariant: 3, perSchemaEnd: 4 },
): void {
  it('computeTiles: tiles + lifetime states evaluated at t >= end equal the reference', async () => {
    const { h, shop } = ctx();
    expect(h.store.capabilities.computeTiles).toBe(true);
    for (const [i, { bucketTiles, firstHops }] of VARIANTS.entries()) {
      const ends = runs.perVariant === 1 ? [ENDS[i % ENDS.length]!] : ENDS;
      await fc.assert(
        fc.asyncProperty(
          fc.array(eventArb, { maxLength: 40 }),
          fc.array(txArb, { maxLength: 12 }),
          fc.constantFrom(...ends),
          async (evs, ts, endOff) => {
            const end = T0 + endOff;
            const events = evs.map((e) =>
              userEventRecord({
                eventId: `e${e.id}`,
                userId: e.userId,
                eventType: e.eventType,
                timestamp: end + e.at,
                properties: { productId: e.productId, price: e.price, category: e.category },
                platform: e.platform,
              }),
            );
            const transactions = ts.map((t) =>
              transactionRecord({
                transactionId: `t${t.id}`,
                userId: t.userId,
                orderItems: t.items.map((i) => ({ productId: 'p1', price: 1, ...i })),
                totalAmount: t.total,
                status: t.status,
                timestamp: end + t.at,
              }),
            );
            await compareWithReference(h, shop, events, transactions, end, bucketTiles, firstHops);
          },
        ),
        { numRuns: runs.perVariant },
      );
    }
    // The BigQuery emulator runs one query job per view and hop size (and one per view with
    // sequence features): minutes on a loaded machine.
  }, 300_000);

  it('computeTiles on records generated from the source schemas equals the reference', async () => {
    const { h, shop } = ctx();
    // Offsets from `end`, shifted to be valid (non-negative) timestamps until \`prepare\`.
    const SHIFT = 100 * DAY;
    const at = fc.oneof(offset, fc.constantFrom(0, -1, -MIN, -HOUR)).map((o) => o + SHIFT);
    const event = schemaRecord(UserEventSchema, {
      overrides: {
        userId: fc.option(fc.constantFrom(...USERS), { freq: 5 }),
        timestamp: at,
        properties: fc
          .tuple(
            fc.record(
              {
                productId: fc.constantFrom(...PRODUCTS),
                price: schemaValue(z.string()),
                category: fc.oneof(fc.constantFrom(...CATS), schemaValue(z.string())),
              },
              { requiredKeys: [] },
            ),
            schemaValue(z.record(z.string(), z.string())),
          )
          .map(([known, extra]) => ({ ...(extra as Record<string, string>), ...known })),
      },
    });
    const tx = schemaRecord(TransactionSchema, {
      overrides: {
        userId: fc.constantFrom(...USERS),
        timestamp: at,
        status: fc.constantFrom('completed', 'completed', 'failed', 'completed '),
        // Sums of ±1e308 cancel differently in different orders: keep totals summable.
        totalAmount: fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(0)),
      },
    });
    /** Unique ids (so `last` ties are decided), timestamps relative to `end`, through JSON. */
    const prepare = (recs: Record<string, unknown>[], idField: string, end: number) =>
      recs.map(
        (r, i) =>
          JSON.parse(
            JSON.stringify({
              ...r,
              [idField]: `${String(r[idField])}#${i}`,
              timestamp: end + (r.timestamp as number) - SHIFT,
            }),
          ) as Record<string, unknown>,
      );
    for (const endOff of SCHEMA_ENDS) {
      await fc.assert(
        fc.asyncProperty(
          fc.array(event, { maxLength: 30 }),
          fc.array(tx, { maxLength: 10 }),
          async (evs, ts) => {
            const end = T0 + endOff;
            await compareWithReference(
              h,
              shop,
              prepare(evs, 'eventId', end),
              prepare(ts, 'transactionId', end),
              end,
            );
          },
        ),
        { numRuns: runs.perSchemaEnd },
      );
    }
  }, 300_000);
}

/**
 * Writes the records as the store's sources, computes tiles for every view with `end`, and
 * checks them (merged at several t >= end) against the reference over the records before `end`.
 * `bucketTiles` tiny: a view with sequence features is combined in many buckets of entities.
 * The store's `total`, when it gives one, is the number of records yielded. `firstHops`: with
 * materialization's first serving hops (`firstServingHops`), which may leave out the tiles no
 * read at t >= end uses, so the reads compared stay the same.
 */
async function compareWithReference(
  h: ConformanceHarness,
  shop: Repository,
  events: Record<string, unknown>[],
  transactions: Record<string, unknown>[],
  end: number,
  bucketTiles?: number,
  firstHops = false,
): Promise<void> {
  const ue = shop.batchSources.get('user_events_batch')!.spec;
  const txs = shop.batchSources.get('transactions_batch')!.spec;
  await h.writeSource(
    ue,
    events.map((e) => JSON.stringify(e)),
  );
  await h.writeSource(
    txs,
    transactions.map((e) => JSON.stringify(e)),
  );
  const before = {
    user_events_batch: events.filter((e) => (e.timestamp as number) < end),
    transactions_batch: transactions.filter((e) => (e.timestamp as number) < end),
  };
  for (const [name, def] of shop.featureViews) {
    const view = def.spec;
    const tiles = new Map<string, TileWrite[]>();
    const lifetime = new Map<string, LifetimeWrite>();
    const computed = await h.store.computeTiles(view, {
      repo: shop,
      start: tilesStart(view, end),
      end,
      batchSize: 7,
      ...(bucketTiles === undefined ? {} : { bucketTiles }),
      ...(firstHops
        ? { firstHops: firstServingHops(view, viewWritePlan(view), tilesStart(view, end), end - 1) }
        : {}),
    });
    let yielded = 0;
    for await (const b of computed.batches) {
      yielded += b.tiles.length + b.lifetime.length;
      const w = toTileWrites(name, b);
      for (const t of w.tiles) {
        expect(t.hop).toBeGreaterThanOrEqual(Math.floor(tilesStart(view, end) / t.hopMs));
        expect(t.hop * t.hopMs).toBeLessThan(end);
        const list = tiles.get(t.entityKey) ?? [];
        list.push(t);
        tiles.set(t.entityKey, list);
      }
      for (const l of w.lifetime) lifetime.set(l.entityKey, l);
    }
    expect(computed.rejects()).toEqual([]);
    if (computed.total !== undefined)
      expect({ view: name, yielded }).toEqual({ view: name, yielded: computed.total });
    // Every key tuple (user, product, or user × product), known or not.
    const joinKeys = def.entityDefs.map((e) => e.spec.joinKey);
    const domain = (k: string): string[] =>
      k === 'user_id' ? [...USERS, 'u-never'] : [...PRODUCTS, 'p-never'];
    const tuples = joinKeys.reduce<string[][]>(
      (acc, k) => acc.flatMap((tuple) => domain(k).map((v) => [...tuple, v])),
      [[]],
    );
    const times = [end, end + 1, end + MIN, end + HOUR, end + DAY, end + 8 * DAY, end + 31 * DAY];
    const rows = tuples.flatMap((tuple) =>
      times.map((t) => ({
        ...Object.fromEntries(joinKeys.map((k, i) => [k, tuple[i]])),
        event_timestamp: t,
      })),
    );
    const features = shop.resolveFeatures({
      features: view.features.map((f) => `${name}:${f.name}`),
    });
    const want = referenceFeatures(shop, before, rows, features);
    rows.forEach((row, i) => {
      const key = encodeEntityKey(
        joinKeys.map((k) => (row as Record<string, unknown>)[k] as string),
      );
      const t = row.event_timestamp;
      for (const f of view.features) {
        let got: unknown;
        if (isSequenceKind(f.aggregation)) {
          // Sequence features read their own state tiles (aggregation/sequence-tiles.ts).
          const mine = tiles.get(key) ?? [];
          got = evaluateSequenceTiles(
            { ...f, aggregation: f.aggregation },
            view.ttlMs,
            (k, hopMs) =>
              mine
                .filter((x) => x.hopMs === hopMs && k in x.states)
                .map((x) => [x.hop, x.states[k]] as const),
            t,
          );
        } else if (f.windowMs === null || f.hopMs === null) {
          const s = lifetime.get(key)?.states[f.name] ?? null;
          got = evaluateLifetime(s as LastState | null, t, view.ttlMs);
        } else {
          const parts = (tiles.get(key) ?? [])
            .filter((x) => x.hopMs === f.hopMs && f.name in x.states)
            .map((x) => [x.hop, x.states[f.name]] as const);
          got = evaluateTiles(aggregator(tileKind(f, 'test'), f), parts, t, f.windowMs, f.hopMs);
        }
        const w = want[i]![f.name];
        if (!same(got, w))
          expect({ view: name, feature: f.name, key, t, end, got }).toEqual({
            view: name,
            feature: f.name,
            key,
            t,
            end,
            got: w,
          });
      }
    });
  }
}
