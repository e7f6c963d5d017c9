/**
 * What one online read leaves to the garbage collector, counted rather than timed (timings are
 * noise on a shared machine): `recommendation_v1` and `recommendation_v2` rows read in process
 * with `getOnlineFeatures` from Redis (or SQLite: STORE=sqlite), loaded as `bench/serve.ts` loads it (gen-data history,
 * then `materialize`) under a private namespace that is deleted at the end. Per service it
 * prints the bytes allocated per request (heap growth over batches of 20 requests that saw no
 * collection, median), young-generation collections (scavenges) per 1,000 requests, their
 * pauses, CPU µs per request and the in-process latency p50 / p99; with HEAP_SITES=1 also the
 * allocation sites (a sampling heap profile that keeps collected objects: bytes per request
 * by function). Each scavenge stops the read in flight, so at 1 connection the share of
 * requests that meet one is about (scavenges per 1,000) / 1,000: the p99 is made by them once
 * it passes 1 %.
 *
 *   npx tsx bench/read-garbage.ts   # env (defaults): USERS=2000 PRODUCTS=1000 EVENTS=300000
 *                                   #   REQUESTS=5000 HEAP_SITES=0 REDIS_URL=redis://127.0.0.1:6379/0
 *                                   #   STORE=redis (or sqlite: a temporary database file)
 *                                   #   SERVICES=recommendation_v1,recommendation_v2
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  constants,
  PerformanceObserver,
  performance,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { Catalog } from '../examples/ecommerce/datagen/catalog.ts';
import { genData } from '../examples/ecommerce/datagen/index.ts';
import { idWidth, pad } from '../examples/ecommerce/datagen/ids.ts';
import { Rng } from '../examples/ecommerce/datagen/rng.ts';
import { loadRepository } from '../definitions/load.ts';
import { materialize } from '../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import { getOnlineFeatures } from '../retrieval/index.ts';

const env = process.env;
const USERS = Number(env.USERS ?? 2000);
const PRODUCTS = Number(env.PRODUCTS ?? 1000);
const EVENTS = Number(env.EVENTS ?? 300_000);
const REQUESTS = Number(env.REQUESTS ?? 5000);
const SEED = 42;
const DAY_MS = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const NAMESPACE = `garbage${process.pid}`;
const storeDir = env.STORE === 'sqlite' ? mkdtempSync(join(tmpdir(), 'larder-garbage-db-')) : '';
const config =
  env.STORE === 'sqlite'
    ? { type: 'sqlite' as const, path: join(storeDir, 'online.db') }
    : { type: 'redis' as const, url: env.REDIS_URL ?? 'redis://127.0.0.1:6379/0' };
const SERVICES = (env.SERVICES ?? 'recommendation_v1,recommendation_v2').split(',');

const repo = await loadRepository(
  join(resolve(import.meta.dirname, '..'), 'examples/ecommerce/features'),
);
const views = [...repo.featureViews.values()].map((v) => v.spec);
const store = createOnlineStore(config, { namespace: NAMESPACE, views });
await store.init();

interface Gc {
  start: number;
  ms: number;
  minor: boolean;
}
const gcs: Gc[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    gcs.push({
      start: e.startTime,
      ms: e.duration,
      minor: kind === constants.NODE_PERFORMANCE_GC_MINOR,
    });
  }
}).observe({ entryTypes: ['gc'] });

try {
  const dir = mkdtempSync(join(tmpdir(), 'larder-garbage-'));
  try {
    await genData({
      users: USERS,
      products: PRODUCTS,
      days: 30,
      events: EVENTS,
      seed: SEED,
      end: NOW,
      outDir: dir,
      format: 'jsonl',
    });
    const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir });
    await offline.init();
    await materialize({ repo, offline, online: store, end: NOW, start: () => NOW - 120 * DAY_MS });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const catalog = new Catalog(SEED, PRODUCTS);
  const rng = new Rng(7);
  const rows = Array.from({ length: 2000 }, () => ({
    user: `u${pad(rng.int(USERS), idWidth(USERS, 5))}`,
    product: catalog.productId(catalog.samplePopular(rng)),
  }));
  for (const service of SERVICES) {
    const read = (i: number) => {
      const row = rows[i % rows.length]!;
      return getOnlineFeatures(
        { repo, store, maxEntityRows: 1000 },
        {
          ref: { service },
          entities: { user_id: [row.user], product_id: [row.product] },
          fullFeatureNames: false,
          t: Date.now(),
        },
      );
    };
    for (let i = 0; i < 2000; i++) await read(i);
    const perRequest: number[] = [];
    for (let b = 0; b < 200; b++) {
      const seen = gcs.length;
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 20; i++) await read(b * 20 + i);
      const after = process.memoryUsage().heapUsed;
      await new Promise((r) => setImmediate(r));
      if (gcs.length === seen && after > before) perRequest.push((after - before) / 20);
    }
    perRequest.sort((a, b) => a - b);
    gcs.length = 0;
    const spans: [number, number][] = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) {
      const s = performance.now();
      await read(i);
      spans.push([s, performance.now()]);
    }
    const cpu = process.cpuUsage(cpu0);
    await new Promise((r) => setTimeout(r, 50));
    const ms = spans.map(([s, e]) => e - s).sort((a, b) => a - b);
    const at = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]!;
    const scavenges = gcs.filter((g) => g.minor);
    const pauses = scavenges.map((g) => g.ms).sort((a, b) => a - b);
    const met = spans.filter(([s, e]) => gcs.some((g) => g.start < e && g.start + g.ms > s));
    console.log(
      `${service}: ${Math.round(perRequest[perRequest.length >> 1] ?? NaN)} bytes allocated per request; ` +
        `${((scavenges.length * 1000) / REQUESTS).toFixed(2)} scavenges per 1,000 requests ` +
        `(pause p50 ${(pauses[pauses.length >> 1] ?? 0).toFixed(2)} ms, max ${(pauses[pauses.length - 1] ?? 0).toFixed(2)} ms); ` +
        `${met.length} of ${REQUESTS} requests met a collection; ` +
        `${Math.round((cpu.user + cpu.system) / REQUESTS)} µs CPU per request; ` +
        `p50 ${at(0.5).toFixed(3)} / p99 ${at(0.99).toFixed(3)} ms`,
    );
    if (env.HEAP_SITES === '1') await heapSites(read);
  }
} finally {
  await store.teardown();
  await store.close();
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
}
process.exit(0);

/** Bytes per request by allocating function, collected objects included (top 15). */
async function heapSites(read: (i: number) => Promise<unknown>): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as object);
  const n = 2000;
  for (let i = 0; i < n; i++) await read(i);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const bytes = new Map<string, number>();
  type Node = typeof profile.head;
  const walk = (node: Node): void => {
    const f = node.callFrame;
    const site = `${f.functionName || '(anonymous)'}${env.HEAP_LINES === '1' ? `:${f.lineNumber + 1}` : ''} ${f.url.replace(/^.*\/(node_modules|larder[^/]*|wt-[^/]*)\//, '')}`;
    if (node.selfSize > 0) bytes.set(site, (bytes.get(site) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  const total = [...bytes.values()].reduce((a, b) => a + b, 0);
  console.log(`  sampled: ${Math.round(total / n)} bytes per request; by site:`);
  for (const [site, b] of [...bytes.entries()].sort((x, y) => y[1] - x[1]).slice(0, 15))
    console.log(`  ${String(Math.round(b / n)).padStart(7)}  ${site}`);
}
