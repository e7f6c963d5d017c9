/**
 * Version 2 features served end to end: records pushed to the example repository (the push
 * path folds them with the aggregation library, in a shuffled order), then read over REST and
 * gRPC: lists as JSON arrays and `string_list_val`, the view keyed by user AND product, and
 * every value equal to the reference.
 */
import * as grpc from '@grpc/grpc-js';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { fromProtoValue, type ProtoValue } from '../../api/grpc/feast-proto-values.ts';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { referenceFeatures } from '../../reference/index.ts';
import { columns, event } from './ecommerce-data.ts';
import { serveRepo, T0, type Served } from './serve-fixture.ts';

const M = MINUTE_MS;
const view = (id: string, user: string, product: string, ageMs: number, category = 'books') =>
  event(id, user, 'page_view', ageMs, { productId: product, category, price: '9.5' });

/**
 * u1: views of p1..p12 (p1 three times, the last one newest), a tie at one ms (ids `a` < `b`),
 * one view 8 days ago (outside 7d), a cart add of p1; u2: a single view; anonymous events.
 */
const EVENTS = [
  ...Array.from({ length: 12 }, (_, i) => view(`v${i}`, 'u1', `p${i + 1}`, (30 + i) * M)),
  view('r1', 'u1', 'p1', 20 * M, 'toys'),
  view('r2', 'u1', 'p1', 2 * M, 'toys'),
  view('b', 'u1', 'p7', 5 * M),
  view('a', 'u1', 'p8', 5 * M),
  view('old', 'u1', 'p99', 8 * DAY_MS),
  event('c1', 'u1', 'add_to_cart', 3 * M, { productId: 'p1' }),
  event('c2', 'u1', 'add_to_cart', 40 * DAY_MS, { productId: 'p1' }),
  event('s1', 'u1', 'search', 1 * M, { query: 'x' }),
  view('u2v', 'u2', 'p5', HOUR_MS, 'garden'),
  view('anon', null as unknown as string, 'p5', M),
];

const order = (id: string, user: string, total: number, ageMs: number) => ({
  transactionId: id,
  userId: user,
  orderItems: [{ productId: 'p1', quantity: 1, price: total, category: 'books' }],
  totalAmount: total,
  currency: 'USD',
  paymentMethod: 'card',
  status: 'completed',
  timestamp: T0 - ageMs,
});
const TRANSACTIONS = [
  order('t1', 'u1', 10, 2 * DAY_MS),
  order('t2', 'u1', 20, DAY_MS),
  order('t3', 'u1', 200, HOUR_MS),
];

const USERS = ['u1', 'u1', 'u2', 'nobody'];
const PRODUCTS = ['p1', 'p99', 'p5', 'p1'];

let s: Served;
let server: grpc.Server;
let client: grpc.Client & Record<string, (...a: unknown[]) => void>;

interface FeastBody {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[] }[];
}

const rest = async (service: string, entities: Record<string, string[]>): Promise<FeastBody> => {
  const r = await s.app.inject({
    method: 'POST',
    url: '/get-online-features',
    payload: { feature_service: service, entities },
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as FeastBody;
};

const reference = (service: string, rows: Record<string, string>[]) =>
  referenceFeatures(
    s.repo,
    { user_events_batch: EVENTS, transactions_batch: TRANSACTIONS },
    rows.map((r) => ({ ...r, event_timestamp: T0 })),
    s.repo.resolveFeatures({ service }),
  );

beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
  // Pushed newest first, in two requests: every event after the first is a late one.
  const shuffled = [...EVENTS].reverse();
  for (const [source, rows] of [
    ['user_events', shuffled.slice(0, 9)],
    ['user_events', shuffled.slice(9)],
    ['transactions', [...TRANSACTIONS].reverse()],
  ] as const) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/push',
      payload: { push_source_name: source, df: columns(rows), to: 'online' },
    });
    expect(r.statusCode, r.body).toBe(200);
  }
  server = createGrpcServer(s.ctx);
  const port = await startGrpcServer(server, '127.0.0.1', 0);
  const Service = loadServingService();
  client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
});

afterAll(async () => {
  client?.close();
  await new Promise<void>((r) => (server ? server.tryShutdown(() => r()) : r()));
  await s?.close();
});

describe('version 2 features over REST and gRPC', () => {
  it('serves recommendation_v2 equal to the reference, lists as JSON arrays', async () => {
    const body = await rest('recommendation_v2', { user_id: USERS, product_id: PRODUCTS });
    const want = reference(
      'recommendation_v2',
      USERS.map((u, i) => ({ user_id: u, product_id: PRODUCTS[i]! })),
    );
    body.metadata.feature_names.slice(2).forEach((name, j) => {
      expect(body.results[j + 2]!.values, name).toEqual(want.map((r) => r[name]));
    });
    const col = (n: string) => body.results[body.metadata.feature_names.indexOf(n)]!;
    // Newest first, distinct, n = 10: p1 (2 min), then the 5-min tie (id b > a: p7, p8), ...
    expect(col('recently_viewed_products').values[0]).toEqual([
      'p1',
      'p7',
      'p8',
      'p2',
      'p3',
      'p4',
      'p5',
      'p6',
      'p9',
      'p10',
    ]);
    expect(col('recently_viewed_products').values.slice(2)).toEqual([['p5'], []]);
    expect(col('distinct_products_viewed_24h').values).toEqual([12, 12, 1, 0]);
    expect(col('distinct_categories_viewed_7d').values).toEqual([2, 2, 1, 0]);
    // Keyed by (user, product): u1×p1 has 3 views in 7d (v0, r1, r2), u1×p99 one 8 days ago.
    expect(col('up_views_7d').values).toEqual([3, 0, 1, 0]);
    expect(col('up_cart_adds_30d').values).toEqual([1, 0, 0, 0]);
    expect(col('up_last_view_ts').values).toEqual([
      T0 - 2 * M,
      T0 - 8 * DAY_MS,
      T0 - HOUR_MS,
      null,
    ]);
    expect(col('up_views_7d').statuses).toEqual(['PRESENT', 'PRESENT', 'PRESENT', 'NOT_FOUND']);
  });

  it('serves risk_v1: the last order and the 5× rule, with the risk and session features', async () => {
    const body = await rest('risk_v1', { user_id: ['u1', 'u2'] });
    const names = body.metadata.feature_names;
    expect(names).toEqual([
      'user_id',
      'fast_events_1h',
      'ip_changes_1h',
      'distinct_ips_24h',
      'last_order_total',
      'large_last_order',
      'session_count_7d',
      'converted_sessions_7d',
      'avg_session_duration_7d_s',
      'current_session_events',
      'current_session_page_views',
      'current_session_duration_s',
    ]);
    const column = (n: string) => body.results[names.indexOf(n)]!.values;
    expect(column('last_order_total')).toEqual([200, null]);
    // avg_order_value_30d = (10 + 20 + 200) / 3 ≈ 76.7: 200 is not over 5×.
    expect(column('large_last_order')).toEqual([false, false]);
    const want = reference('risk_v1', [{ user_id: 'u1' }, { user_id: 'u2' }]);
    for (const n of names.slice(1)) expect(column(n), n).toEqual(want.map((r) => r[n]));
  });

  it('sends lists over gRPC as string_list_val, an empty window as an empty list', async () => {
    const res = await new Promise<{
      metadata: { feature_names: { val: string[] } };
      results: { values: ProtoValue[] }[];
    }>((ok, fail) =>
      client.GetOnlineFeatures!(
        {
          features: { val: ['user_interest:recently_viewed_products'] },
          entities: {
            user_id: { val: ['u2', 'nobody'].map((v) => ({ string_val: v })) },
          },
        },
        new grpc.Metadata(),
        (e: grpc.ServiceError | null, r: never) => (e ? fail(e) : ok(r)),
      ),
    );
    const values = res.results[1]!.values;
    expect(values[0]).toMatchObject({ val: 'string_list_val', string_list_val: { val: ['p5'] } });
    expect(values[1]).toMatchObject({ val: 'string_list_val' });
    expect(values.map(fromProtoValue)).toEqual([['p5'], []]);
  });
});
