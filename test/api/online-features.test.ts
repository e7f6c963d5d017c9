import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../core/duration.ts';
import { columns, EVENTS, TRANSACTIONS } from './ecommerce-data.ts';
import { serveRepo, T0, type Served } from './serve-fixture.ts';

const FEATURES = resolve(import.meta.dirname, '../../examples/ecommerce/features');
let s: Served;

interface FeastBody {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
}

const read = async (payload: unknown): Promise<{ status: number; body: FeastBody }> => {
  const r = await s.app.inject({
    method: 'POST',
    url: '/get-online-features',
    payload: payload as object,
  });
  return { status: r.statusCode, body: r.json() as FeastBody };
};

/** name → column of a Feast response. */
const byName = (b: FeastBody): Record<string, FeastBody['results'][number]> =>
  Object.fromEntries(b.metadata.feature_names.map((n, i) => [n, b.results[i]!]));

beforeAll(async () => {
  s = await serveRepo(FEATURES);
  for (const [source, rows] of [
    ['user_events', EVENTS],
    ['transactions', TRANSACTIONS],
  ] as const) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/push',
      payload: { push_source_name: source, df: columns(rows), to: 'online' },
    });
    expect(r.statusCode, r.body).toBe(200);
  }
  // p2 was seen, but never with a price or category: "no value" lifetime states.
  await s.store.writeLifetime([
    { view: 'product_catalog', entityKey: 'p2', states: { price: null, category: null } },
  ]);
});
afterAll(async () => {
  await s?.close();
});

describe('POST /get-online-features (Feast contract)', () => {
  it('answers a feature service with join keys first, then every feature in service order', async () => {
    const { status, body } = await read({
      feature_service: 'recommendation_v1',
      entities: { user_id: ['u1'], product_id: ['p1'] },
    });
    expect(status).toBe(200);
    const svc = s.repo.services.get('recommendation_v1')!.spec;
    const names = svc.projections.flatMap((p) => p.features);
    expect(body.metadata.feature_names).toEqual(['user_id', 'product_id', ...names]);
    expect(names).toHaveLength(26);
    expect(body.results).toHaveLength(28);
    const c = byName(body);
    expect(c.user_id).toEqual({
      values: ['u1'],
      statuses: ['PRESENT'],
      event_timestamps: ['1970-01-01T00:00:00Z'],
    });
    expect(c.page_views_1h!.values).toEqual([2]);
    expect(c.cart_adds_7d!.values).toEqual([1]);
    expect(c.last_platform!.values).toEqual(['mobile']);
    expect(c.last_event_ts!.values).toEqual([T0 - 5 * 60_000]);
    expect(c.last_event_ts!.event_timestamps).toEqual([
      new Date(T0 - 5 * 60_000).toISOString().replace('.000Z', 'Z'),
    ]);
    expect(c.purchases_30d!.values).toEqual([1]);
    expect(c.avg_order_value_30d!.values).toEqual([20]);
    expect(c.preferred_category_30d!.values).toEqual(['electronics']);
    expect(c.views_1h!.values).toEqual([2]);
    expect(c.price!.values).toEqual([10]);
    expect(c.category!.values).toEqual(['electronics']);
    expect(c.last_activity_days_ago!.values).toEqual([0]);
    expect(c.view_to_cart_rate_24h!.values).toEqual([0.5]);
    expect(c.price_vs_avg_order!.values).toEqual([0.5]);
    expect(c.category_match!.values).toEqual([true]);
    expect(c.device_optimization!.values).toEqual([0.8]);
    for (const r of body.results) expect(r.statuses).toEqual(['PRESENT']);
  });

  it('answers one user × several products as each (user, product) row read alone', async () => {
    // The user's columns come from one entity read once (its value repeated, shared status
    // lists); the products' from several, a status changing within a column.
    const users = ['u1', 'u1', 'u1', 'u1'];
    const products = ['p1', 'p9', 'p2', 'p1'];
    const { status, body } = await read({
      feature_service: 'recommendation_v1',
      entities: { user_id: users, product_id: products },
    });
    expect(status).toBe(200);
    expect(byName(body).price!.statuses).toEqual(['PRESENT', 'NOT_FOUND', 'NULL_VALUE', 'PRESENT']);
    for (let i = 0; i < products.length; i++) {
      const one = await read({
        feature_service: 'recommendation_v1',
        entities: { user_id: [users[i]], product_id: [products[i]] },
      });
      expect(one.body.metadata).toEqual(body.metadata);
      one.body.results.forEach((r, c) => {
        const col = body.results[c]!;
        expect([col.values[i], col.statuses[i], col.event_timestamps[i]]).toEqual([
          r.values[0],
          r.statuses[0],
          r.event_timestamps[0],
        ]);
      });
    }
  });

  it('reports NOT_FOUND, NULL_VALUE and OUTSIDE_MAX_AGE', async () => {
    const { body } = await read({
      features: [
        'product_catalog:price',
        'product_engagement:views_1h',
        'product_rates:view_to_cart_rate_24h',
        'user_purchases:spend_30d',
      ],
      entities: { product_id: ['p9', 'p2', 'p1'], user_id: ['u2', 'u2', 'u9'] },
    });
    const c = byName(body);
    expect(body.metadata.feature_names).toEqual([
      'product_id',
      'user_id',
      'price',
      'views_1h',
      'view_to_cart_rate_24h',
      'spend_30d',
    ]);
    expect(c.price!.statuses).toEqual(['NOT_FOUND', 'NULL_VALUE', 'PRESENT']);
    expect(c.price!.values).toEqual([null, null, 10]);
    expect(c.views_1h!.statuses).toEqual(['NOT_FOUND', 'PRESENT', 'PRESENT']);
    expect(c.view_to_cart_rate_24h!.statuses).toEqual(['NULL_VALUE', 'PRESENT', 'PRESENT']);
    expect(c.view_to_cart_rate_24h!.values).toEqual([null, 0, 0.5]);
    // An unknown entity still reads the spec's empty-window value for counts and sums (0).
    expect(c.views_1h!.values).toEqual([0, 1, 2]);
    expect(c.spend_30d!.statuses).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(c.spend_30d!.values).toEqual([0, 0, 0]);
    const clock = s.ctx.clock;
    s.ctx.clock = () => T0 + 11 * DAY_MS;
    try {
      const late = byName(
        (await read({ features: ['product_catalog:price'], entities: { product_id: ['p3'] } }))
          .body,
      );
      expect(late.price).toMatchObject({ values: [null], statuses: ['OUTSIDE_MAX_AGE'] });
    } finally {
      s.ctx.clock = clock;
    }
  });

  it('names features view__feature with full_feature_names', async () => {
    const { body } = await read({
      features: ['user_activity:clicks_1h', 'user_recency:last_activity_days_ago'],
      entities: { user_id: ['u1'] },
      full_feature_names: true,
    });
    expect(body.metadata.feature_names).toEqual([
      'user_id',
      'user_activity__clicks_1h',
      'user_recency__last_activity_days_ago',
    ]);
    expect(body.results[1]).toEqual({
      values: [0],
      statuses: ['PRESENT'],
      event_timestamps: ['1970-01-01T00:00:00Z'],
    });
  });

  it('answers a feature list exactly like the service with the same features', async () => {
    const svc = s.repo.services.get('recommendation_v1')!.spec;
    const features = svc.projections.flatMap((p) => p.features.map((f) => `${p.view}:${f}`));
    const entities = { user_id: ['u1', 'u2', 'u1'], product_id: ['p1', 'p2', 'p9'] };
    const a = await read({ features, entities });
    const b = await read({ feature_service: 'recommendation_v1', entities });
    expect(a.body).toEqual(b.body);
    expect(a.body.results[2]!.values).toHaveLength(3);
  });

  it('reads each user once for 1 user × 100 products (one readMany)', async () => {
    const calls: { view: string; keys: number }[][] = [];
    const store = s.store;
    const orig = store.readMany.bind(store);
    store.readMany = async (reqs) => {
      calls.push(reqs.map((r) => ({ view: r.view.name, keys: r.entityKeys.length })));
      return orig(reqs);
    };
    try {
      const products = Array.from({ length: 100 }, (_, i) => `p${i}`);
      const { status, body } = await read({
        feature_service: 'recommendation_v1',
        entities: { user_id: products.map(() => 'u1'), product_id: products },
      });
      expect(status).toBe(200);
      expect(body.results[0]!.values).toHaveLength(100);
    } finally {
      store.readMany = orig;
    }
    expect(calls).toHaveLength(1);
    expect(Object.fromEntries(calls[0]!.map((c) => [c.view, c.keys]))).toEqual({
      user_activity: 1,
      user_purchases: 1,
      product_engagement: 100,
      product_catalog: 100,
    });
  });
});
