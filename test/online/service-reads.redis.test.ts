/**
 * The example's feature services read from Redis in ONE round trip per request, whatever views
 * they span — one `MULTI` … `EXEC` of plain commands (`online/redis/plain-reads.ts`: an `HGETALL`
 * per whole hash, an `HMGET` + `EXISTS` per key read for its fields): `recommendation_v1`
 * (window and lifetime views), `recommendation_v2` (plus last-N lists, the user × product view
 * and sessions, read as whole hashes) and 100 `recommendation_v1` rows (201 whole hashes — the
 * products' `product_catalog` hashes hold only the two lifetime fields read — and the user's
 * `user_purchases` fields). The counts are the store's own (`onRoundTrip`), so other clients of the same
 * Redis do not disturb them.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import { getOnlineFeatures } from '../../retrieval/index.ts';

const URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;

let repo: Repository;
let store: OnlineStore;
const trips: { op: string; commands: number }[] = [];

beforeAll(async () => {
  repo = await loadRepository(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
  store = createOnlineStore(
    { type: 'redis', url: URL, maxRetriesPerRequest: 1, connectTimeoutMs: 2000 },
    {
      namespace: `test-${randomUUID()}`,
      views: [...repo.featureViews.values()].map((v) => v.spec),
      clock: () => NOW,
      onRoundTrip: (e) => trips.push(e),
    },
  );
  await store.init();
});

afterAll(async () => {
  await store?.teardown();
  await store?.close();
});

const read = async (service: string, users: string[], products: string[]) => {
  trips.length = 0;
  const res = await getOnlineFeatures(
    { repo, store, maxEntityRows: 1000 },
    {
      ref: { service },
      entities: { user_id: users, product_id: products },
      fullFeatureNames: false,
      t: NOW,
    },
  );
  return { res, trips: [...trips] };
};

describe('feature service reads on Redis', () => {
  it('one recommendation_v1 row: one round trip, 3 whole hashes and 1 field read', async () => {
    const { res, trips } = await read('recommendation_v1', ['u1'], ['p1']);
    expect(trips).toEqual([{ op: 'read', commands: 2 + 3 + 2 * 1 }]);
    expect(res.columns.length).toBeGreaterThan(2);
  });

  it('one recommendation_v2 row (lists, user × product, sessions): one round trip, 6 whole hashes and 1 field read', async () => {
    const { res, trips } = await read('recommendation_v2', ['u1'], ['p1']);
    expect(trips).toEqual([{ op: 'read', commands: 2 + 6 + 2 * 1 }]);
    const names = res.columns.map((c) => c.name);
    for (const n of ['recently_viewed_products', 'up_views_7d', 'up_last_view_ts'])
      expect(names).toContain(n);
  });

  it('100 recommendation_v1 rows of one user: one round trip, 201 whole hashes and 1 field read', async () => {
    const products = Array.from({ length: 100 }, (_, i) => `p${i}`);
    const { res, trips } = await read(
      'recommendation_v1',
      products.map(() => 'u1'),
      products,
    );
    expect(trips).toEqual([{ op: 'read', commands: 2 + 201 + 2 * 1 }]);
    expect(res.columns[1]!.values).toEqual(products);
  });
});
