/**
 * Serving benchmark: `larder serve` against Redis, populated through the push path with
 * realistic tiles (USERS users × PRODUCTS products, a day of events), driven over loopback HTTP
 * by keep-alive clients. Scenarios: 1 entity row of recommendation_v1, and 1 user × 100
 * products. Prints client p50/p90/p99/max, server time (Server-Timing) and throughput; medians
 * of RUNS runs.
 *
 *   npm run bench:serve            # env: USERS=1000 PRODUCTS=500 BENCH_SECONDS=5 CONCURRENCY=16 RUNS=3
 *   npm run bench:rank             # the same server, POST /v1/models/ranker_v1/rank with 100 candidates
 *   SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=prof' npm run bench:serve   # profile the server
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createOnlineStore } from '../online/create-online-store.ts';
import { loadRepository } from '../definitions/load.ts';
import { applyRecords } from '../streaming/apply-records.ts';
import { drive, median, type Stats } from './http-load.ts';

const ROOT = resolve(import.meta.dirname, '..');
const USERS = Number(process.env.USERS ?? 1000);
const PRODUCTS = Number(process.env.PRODUCTS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const RUNS = Number(process.env.RUNS ?? 3);
const PORT = Number(process.env.PORT ?? 16566);
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const NAMESPACE = `bench${process.pid}`;

let seed = 42;
const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;

async function populate(now: number): Promise<void> {
  const repo = await loadRepository(join(ROOT, 'examples/ecommerce/features'));
  const store = createOnlineStore(
    { type: 'redis', url: REDIS },
    { namespace: NAMESPACE, views: [...repo.featureViews.values()].map((v) => v.spec) },
  );
  await store.init();
  const types = [
    'page_view',
    'page_view',
    'page_view',
    'click',
    'add_to_cart',
    'purchase',
    'search',
  ];
  const cats = ['electronics', 'fashion', 'books', 'home'];
  const platforms = ['mobile', 'desktop', 'tablet'];
  let events: Record<string, unknown>[] = [];
  let n = 0;
  const flush = async (): Promise<void> => {
    await applyRecords(repo, store, 'user_events', events, {
      timestampField: 'timestamp',
      idField: 'eventId',
    });
    events = [];
  };
  for (let u = 0; u < USERS; u++) {
    for (let k = 0; k < 40; k++) {
      const p = Math.floor(rand() * PRODUCTS);
      events.push({
        eventId: `e${n++}`,
        userId: `u${u}`,
        sessionId: `s${u}`,
        eventType: pick(types),
        timestamp: now - Math.floor(rand() * 86_400_000),
        properties: {
          productId: `p${p}`,
          category: cats[p % cats.length]!,
          price: (5 + (p % 100)).toFixed(2),
        },
        context: { userAgent: 'ua', ip: '10.0.0.1', platform: pick(platforms), referrer: null },
      });
    }
    if (events.length >= 5000) await flush();
  }
  await flush();
  const tx: Record<string, unknown>[] = [];
  for (let u = 0; u < USERS; u++)
    for (let k = 0; k < 3; k++)
      tx.push({
        transactionId: `t${u}-${k}`,
        userId: `u${u}`,
        totalAmount: 10 + rand() * 90,
        currency: 'USD',
        paymentMethod: 'card',
        status: 'completed',
        timestamp: now - Math.floor(rand() * 20 * 86_400_000),
        orderItems: [
          {
            productId: `p${Math.floor(rand() * PRODUCTS)}`,
            quantity: 1 + Math.floor(rand() * 3),
            price: 10,
            category: pick(cats),
          },
        ],
      });
  await applyRecords(repo, store, 'transactions', tx, {
    timestampField: 'timestamp',
    idField: 'transactionId',
  });
  await store.close();
  process.stderr.write(
    `populated ${n} events, ${tx.length} transactions for ${USERS} users × ${PRODUCTS} products\n`,
  );
}

async function startServer(home: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      join(ROOT, 'bin/larder.js'),
      'serve',
      '--port',
      String(PORT),
      '--no-grpc',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LARDER_HOME: home,
        LARDER_ONLINE_STORE: REDIS,
        LARDER_NAMESPACE: NAMESPACE,
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) =>
      http
        .get(`http://127.0.0.1:${PORT}/ready`, (res) => {
          res.resume();
          r(res.statusCode === 200);
        })
        .on('error', () => r(false)),
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('server did not become ready');
}

const home = mkdtempSync(join(tmpdir(), 'larder-bench-'));
const now = Date.now();
await populate(now);
const server = await startServer(home);
try {
  const all: [string, string, string, (i: number) => string][] = [
    [
      'features',
      '1 row',
      '/get-online-features',
      (i) =>
        JSON.stringify({
          feature_service: 'recommendation_v1',
          entities: { user_id: [`u${i % USERS}`], product_id: [`p${(i * 7) % PRODUCTS}`] },
        }),
    ],
    [
      'features',
      '100 rows (1 user × 100 products)',
      '/get-online-features',
      (i) => {
        const products = Array.from({ length: 100 }, (_, k) => `p${(i + k * 5) % PRODUCTS}`);
        return JSON.stringify({
          feature_service: 'recommendation_v1',
          entities: { user_id: products.map(() => `u${i % USERS}`), product_id: products },
        });
      },
    ],
    [
      'rank',
      'rank 100 candidates (ranker_v1: features + inference + sort)',
      '/v1/models/ranker_v1/rank',
      (i) =>
        JSON.stringify({
          user_id: `u${i % USERS}`,
          // 100 distinct candidates (PRODUCTS ≥ 100).
          candidates: Array.from({ length: 100 }, (_, k) => `p${(i * 7 + k) % PRODUCTS}`),
          top_k: 10,
        }),
    ],
  ];
  const wanted = (process.env.SCENARIOS ?? 'features').split(',');
  const scenarios = all.filter(([group]) => wanted.includes(group));
  const load = (path: string, bodyOf: (i: number) => string): Promise<Stats> =>
    drive({ port: PORT, path, bodyOf, concurrency: CONCURRENCY, seconds: SECONDS });
  for (const [, , path, body] of scenarios) await load(path, body); // warm-up
  for (const [, name, path, body] of scenarios) {
    const runs: Stats[] = [];
    for (let r = 0; r < RUNS; r++) runs.push(await load(path, body));
    const m = (k: keyof Stats): string =>
      median(runs.map((x) => x[k])).toFixed(k === 'rps' || k === 'errors' ? 0 : 3);
    process.stdout.write(
      `${name}: client p50 ${m('p50')} ms  p90 ${m('p90')} ms  p99 ${m('p99')} ms  max ${m('max')} ms | server p50 ${m('sp50')} ms  p99 ${m('sp99')} ms | ${m('rps')} req/s | errors ${m('errors')}  (median of ${RUNS} × ${SECONDS}s, ${CONCURRENCY} connections)\n`,
    );
  }
} finally {
  server.kill('SIGTERM');
  const store = createOnlineStore(
    { type: 'redis', url: REDIS },
    { namespace: NAMESPACE, views: [] },
  );
  await store.init();
  await store.teardown();
  await store.close();
  rmSync(home, { recursive: true, force: true });
}
