/**
 * Online read benchmark: in-process reads of every stored view of `recommendation_v1`
 * (user_activity, user_purchases, product_engagement, product_catalog) for 1 (user, product)
 * row and for 100 rows (1 user × 100 products), against Redis and SQLite, after populating
 * realistic tiles, and of one feature of one product (`views_5m`: a subset read). Prints p50 /
 * p99 in µs and reads/s, the median of 3 runs. Redis runs once per read mode (`REDIS_READS`):
 * `fields` (HMGET of the fields the request needs, the default) and `hashes` (HGETALL).
 *
 *   npm run bench:online-read               # both stores (Redis must be up)
 *   BENCH_STORES=sqlite npm run bench:online-read
 *   REDIS_READS=hashes BENCH_STORES=redis npm run bench:online-read
 */
import { seededHops } from './seeded-hops.ts';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../core/duration.ts';
import { loadRepository } from '../definitions/load.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import type { LifetimeWrite, TileWrite } from '../aggregation/tiles.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import { RedisOnlineStore } from '../online/redis/redis-online-store.ts';
import { singleRedisTopology } from '../online/redis/redis-topology.ts';
import type { OnlineStore, ReadRequest } from '../online/online-store.ts';

const repo = await loadRepository('examples/ecommerce/features');
const spec = (name: string): FeatureViewSpec => repo.featureViews.get(name)!.spec;
const views = ['user_activity', 'user_purchases', 'product_engagement', 'product_catalog'].map(
  spec,
);
const [userActivity, userPurchases, productEngagement, productCatalog] = views as [
  FeatureViewSpec,
  FeatureViewSpec,
  FeatureViewSpec,
  FeatureViewSpec,
];

const T = Date.now();
const PRODUCTS = Array.from({ length: 100 }, (_, i) => `p-${String(i).padStart(5, '0')}`);
const USER = 'u-000042';
const CATS = ['electronics', 'fashion', 'books', 'home', 'toys'];

const { rnd, hops } = seededHops(T);

function population(): { tiles: TileWrite[]; lifetimes: LifetimeWrite[] } {
  const tiles: TileWrite[] = [];
  const lifetimes: LifetimeWrite[] = [];
  // The user: active 30 of the last 60 minutes, 60 of the last 168 hours, 10 of the last 30 days.
  for (const hop of hops(MINUTE_MS, 60, 30))
    tiles.push({
      view: 'user_activity',
      entityKey: USER,
      hopMs: MINUTE_MS,
      hop,
      states: { page_views_1h: 1 + rnd(5), clicks_1h: rnd(3) },
    });
  for (const hop of hops(HOUR_MS, 168, 60)) {
    const n = 1 + rnd(20);
    tiles.push({
      view: 'user_activity',
      entityKey: USER,
      hopMs: HOUR_MS,
      hop,
      states: { page_views_7d: n, cart_adds_7d: rnd(2), searches_24h: rnd(4), events_24h: n + 3 },
    });
  }
  lifetimes.push({
    view: 'user_activity',
    entityKey: USER,
    states: {
      last_platform: { v: 'mobile', ts: T - 5000, id: 'e-1' },
      last_event_ts: { v: T - 5000, ts: T - 5000, id: 'e-1' },
    },
  });
  for (const hop of hops(DAY_MS, 30, 10)) {
    const amount = 10 + rnd(200) + 0.99;
    tiles.push({
      view: 'user_purchases',
      entityKey: USER,
      hopMs: DAY_MS,
      hop,
      states: {
        purchases_30d: 1,
        spend_30d: amount,
        avg_order_value_30d: { sum: amount, count: 1 },
        max_order_value_30d: amount,
        preferred_category_30d: { [CATS[rnd(5)]!]: 1 + rnd(3) },
      },
    });
  }
  // Each product: viewed in 20 of the last 60 minutes and 15 of the last 24 hours.
  for (const p of PRODUCTS) {
    for (const hop of hops(MINUTE_MS, 60, 20)) {
      const v = 1 + rnd(10);
      tiles.push({
        view: 'product_engagement',
        entityKey: p,
        hopMs: MINUTE_MS,
        hop,
        states: { views_5m: v, views_1h: v },
      });
    }
    for (const hop of hops(HOUR_MS, 24, 15))
      tiles.push({
        view: 'product_engagement',
        entityKey: p,
        hopMs: HOUR_MS,
        hop,
        states: { views_24h: 5 + rnd(100), cart_adds_24h: rnd(10), purchases_24h: rnd(4) },
      });
    lifetimes.push({
      view: 'product_catalog',
      entityKey: p,
      states: {
        price: { v: 5 + rnd(500) + 0.99, ts: T - rnd(DAY_MS), id: `e-${p}` },
        category: { v: CATS[rnd(5)]!, ts: T - rnd(DAY_MS), id: `e-${p}` },
      },
    });
  }
  return { tiles, lifetimes };
}

const requests = (products: string[]): ReadRequest[] => [
  { view: userActivity, entityKeys: [USER], t: T },
  { view: userPurchases, entityKeys: [USER], t: T },
  { view: productEngagement, entityKeys: products, t: T },
  { view: productCatalog, entityKeys: products, t: T },
];

interface Figures {
  p50: number;
  p99: number;
  perSec: number;
  /** CPU µs of this process per read (user + system): robust on a loaded machine. */
  cpu: number;
}

async function measure(
  store: OnlineStore,
  reqs: ReadRequest[],
  iterations: number,
): Promise<Figures> {
  for (let i = 0; i < Math.max(200, iterations / 10); i++) await store.readMany(reqs);
  const lat = new Float64Array(iterations);
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await store.readMany(reqs);
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const total = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  lat.sort();
  return {
    p50: lat[Math.floor(iterations * 0.5)]!,
    p99: lat[Math.floor(iterations * 0.99)]!,
    perSec: iterations / total,
    cpu: (cpu.user + cpu.system) / iterations,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(label: string, store: OnlineStore): Promise<void> {
  await store.init();
  const { tiles, lifetimes } = population();
  await store.writeTiles(tiles);
  await store.writeLifetime(lifetimes);
  // Sanity: every feature of the 100-row read is found.
  const check = await store.readMany(requests(PRODUCTS));
  const missing = check
    .flatMap((r) => r.rows.flat())
    .filter((v) => v.status === 'NOT_FOUND').length;
  if (missing > 0) throw new Error(`${label}: ${missing} NOT_FOUND values after populating`);
  for (const [name, reqs, iterations] of [
    ['1 row   ', requests(PRODUCTS.slice(0, 1)), 5000],
    ['100 rows', requests(PRODUCTS), 2000],
    [
      '1 feat. ',
      [
        { view: productEngagement, features: ['views_5m'], entityKeys: [PRODUCTS[0]!], t: T },
      ] as ReadRequest[],
      5000,
    ],
  ] as const) {
    const runs: Figures[] = [];
    for (let r = 0; r < 3; r++) runs.push(await measure(store, reqs, iterations));
    const f = (k: keyof Figures): number => median(runs.map((x) => x[k]));
    console.log(
      `${label.padEnd(13)} ${name}  p50 ${f('p50').toFixed(0).padStart(6)} µs   p99 ${f('p99').toFixed(0).padStart(6)} µs   ${f('perSec').toFixed(0).padStart(7)} reads/s   CPU ${f('cpu').toFixed(0).padStart(6)} µs/read   (median of 3 × ${iterations})`,
    );
  }
  await store.teardown();
  await store.close();
}

const stores = (process.env.BENCH_STORES ?? 'sqlite,redis').split(',');
console.log(
  `recommendation_v1 stored views (4 views; 1 user + N products), tiles: user 30 min + 60 h + 10 d, product 20 min + 15 h`,
);
if (stores.includes('sqlite')) {
  const dir = join('.cache', 'bench', randomUUID());
  mkdirSync(dir, { recursive: true });
  try {
    await bench(
      'sqlite',
      createOnlineStore(
        { type: 'sqlite', path: join(dir, 'online.sqlite') },
        { namespace: 'bench', views },
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (stores.includes('redis')) {
  const url = process.env.LARDER_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  for (const reads of (process.env.REDIS_READS ?? 'fields,hashes').split(',') as (
    'fields' | 'hashes'
  )[])
    await bench(
      `redis:${reads}`,
      new RedisOnlineStore(
        singleRedisTopology({ type: 'redis', url }),
        { namespace: `bench-${randomUUID()}`, views },
        { reads },
      ),
    );
}
