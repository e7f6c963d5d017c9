/**
 * DuckDB `computeTiles` of views with sequence features combines each tile in memory (a tile
 * field is written whole) one bucket of entities at a time: with a tiny `bucketTiles`, many
 * buckets, each batch of combined tiles bounded by it, and the very records of one bucket. With
 * materialization's `firstHops`, exactly the tiles materialization writes (it skips the rest;
 * DuckDB then leaves out the events no written tile uses: `sequenceEventsFilter`).
 * (The conformance suite checks bucketed runs against the reference on every view.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { TileBatch } from '../../offline/offline-store.ts';
import { tilesStart } from '../../offline/tile-writes.ts';
import { tileRecordId } from '../../offline/sequence-tile-fold.ts';
import { duckdbHarness } from './duckdb-harness.ts';
import { firstServingHops } from '../../materialize/materialize.ts';
import { tileServes, viewWritePlan } from '../../online/view-catalog.ts';
import { userEventRecord } from '../support/records.ts';

const END = Date.UTC(2024, 0, 10);
const MIN = 60_000;
const USERS = 240;
const TYPES = ['page_view', 'click', 'purchase', 'add_to_cart'];

const h = duckdbHarness({ memoryLimit: '512MB', threads: 1 });
let shop: Repository;

beforeAll(async () => {
  shop = await loadRepository('examples/ecommerce/features');
  await h.store.init();
  // Per user a few bursts over ten days: sessions, fast events, changing IPs; some anonymous.
  // Every fifth user has events tied at one time (other ids and IPs), the latest of its day
  // for some: `~last` states keep the greatest by id, then IP, of those.
  const lines: string[] = [];
  let n = 0;
  for (let u = 0; u < USERS; u++) {
    for (let e = 0; e < 4 + (u % 9) + (u % 5 === 1 ? 2 : 0); e++) {
      const tied = u % 5 === 1 && e >= 4 + (u % 9);
      const k = tied ? 0 : e;
      const at = END - ((u * 7919 + k * 104_729) % (10 * 24 * 60)) * MIN - (k % 3) * 50;
      const r = userEventRecord({
        eventId: `${tied ? 't' : 'e'}${n++}`,
        userId: u % 17 === 0 ? null : `u${u}`,
        eventType: TYPES[(u + e) % TYPES.length]!,
        timestamp: at,
        properties: { productId: `p${e % 5}` },
        platform: 'mobile',
      });
      r.context.ip = `10.0.0.${tied ? 5 + (e % 2) : (u * e) % 3}`;
      lines.push(JSON.stringify(r));
    }
  }
  await h.writeSource(shop.batchSources.get('user_events_batch')!.spec, lines);
}, 60_000);
afterAll(() => h.close());

async function collect(view: string, bucketTiles?: number, firstHops?: Map<number, number>) {
  const spec = shop.featureViews.get(view)!.spec;
  const computed = await h.store.computeTiles(spec, {
    repo: shop,
    start: tilesStart(spec, END),
    end: END,
    batchSize: 1_000_000,
    ...(bucketTiles ? { bucketTiles } : {}),
    ...(firstHops ? { firstHops } : {}),
  });
  const batches: TileBatch[] = [];
  for await (const b of computed.batches) batches.push(b);
  const records = new Map<string, unknown>();
  for (const b of batches) {
    for (const t of b.tiles) {
      const id = tileRecordId(t.key, t.hopMs, t.hop);
      expect(records.has(id), `${id} written twice`).toBe(false);
      records.set(id, t.states);
    }
    for (const l of b.lifetime) records.set(JSON.stringify(l.key), l.states);
  }
  return { total: computed.total, batches, records };
}

describe('DuckDB computeTiles: sequence views in buckets of entities', () => {
  for (const view of ['user_sessions', 'user_risk']) {
    it(`${view}: many bounded buckets, the same records as one bucket`, async () => {
      const whole = await collect(view);
      const BUCKET = 200;
      const bucketed = await collect(view, BUCKET);
      expect(whole.records.size).toBeGreaterThan(10 * BUCKET);
      expect(whole.total).toBe(whole.records.size);
      expect(bucketed.total).toBe(bucketed.records.size);
      expect(bucketed.records).toEqual(whole.records);
      // One batch per bucket (batchSize is larger than any): each within twice the bound.
      const sizes = bucketed.batches.map((b) => b.tiles.length + b.lifetime.length);
      expect(sizes.length).toBeGreaterThanOrEqual(Math.ceil(whole.records.size / BUCKET));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(2 * BUCKET);
    });

    it(`${view}: with materialization's first hops, exactly the tiles it writes`, async () => {
      const spec = shop.featureViews.get(view)!.spec;
      const plan = viewWritePlan(spec);
      // materialize passes `end` + 1 (an inclusive end) and keeps the tiles serving at `end`.
      const at = END - 1;
      const whole = await collect(view);
      const served = new Map(
        [...whole.records].filter(([id]) => {
          const [, hopMs, hop] = id.split('\u0000').map(Number);
          return tileServes(plan, hopMs!, hop!, at);
        }),
      );
      expect(served.size).toBeLessThan(whole.records.size);
      const first = firstServingHops(spec, plan, tilesStart(spec, END), at);
      for (const bucketTiles of [undefined, 200]) {
        const got = await collect(view, bucketTiles, first);
        expect(got.total).toBe(got.records.size);
        expect(got.records).toEqual(served);
      }
    });
  }
});
