/**
 * In-process profile of a rank request's feature read (what `POST /v1/models/ranker_v1/rank`
 * does before the model runs): `serveOnlineFeatures` of ranker_v1's inputs for 1 user × 100
 * distinct Zipf candidates, and of one `recommendation_v1` row for a product of the hottest
 * decile of the popularity and for the rest (hot keys), against SQLite and Redis loaded the way bench/serve.ts loads them
 * (`gen-data` history, then `materialize --start <START_DAYS_AGO days ago> --end now`). No HTTP
 * and no load generator: it splits a request's time into the store read (`readMany`, wall and
 * this process's CPU), the rest of retrieval (on-demand features, columns) and, on Redis, the
 * server's own time per read (`INFO commandstats`, µs per script call). CPU figures are robust
 * on a loaded machine; wall figures are not.
 *
 *   npx tsx bench/rank-read.ts   # env (defaults): STORES=sqlite,redis USERS=2000 PRODUCTS=1000
 *                                #   DAYS=8 EVENTS=150000 START_DAYS_AGO=120 REQUESTS=400
 *                                #   CASES=rank,row,row_v2 (also risk)
 *                                #   REUSE=1 NAMESPACE=x: keep (and reuse) the loaded Redis data
 *   PROFILE=prof npx tsx bench/rank-read.ts   # and a CPU profile of each case's measured
 *                                             #   requests only: prof/rank-read-<store>-<case>.cpuprofile
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Catalog } from '../examples/ecommerce/datagen/catalog.ts';
import { genData } from '../examples/ecommerce/datagen/index.ts';
import { idWidth, pad } from '../examples/ecommerce/datagen/ids.ts';
import { Rng } from '../examples/ecommerce/datagen/rng.ts';
import { loadRepository } from '../definitions/load.ts';
import { materialize } from '../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import type { OnlineStore, ReadRequest, ReadResult } from '../online/online-store.ts';
import type { OnlineStoreConfig } from '../config/config.ts';
import { serveOnlineFeatures, type FeatureRef } from '../retrieval/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const env = process.env;
const STORES = (env.STORES ?? 'sqlite,redis').split(',').filter(Boolean);
const USERS = Number(env.USERS ?? 2000);
const PRODUCTS = Number(env.PRODUCTS ?? 1000);
const DAYS = Number(env.DAYS ?? 8);
const EVENTS = Number(env.EVENTS ?? 150_000);
const START_DAYS_AGO = Number(env.START_DAYS_AGO ?? 120);
const REQUESTS = Number(env.REQUESTS ?? 400);
const REDIS = env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
// REUSE=1 (Redis only): keep the namespace's data at the end, and load it only when it is empty,
// so repeated runs (an A/B of two builds) read the same data with NAMESPACE=<fixed name>.
const NAMESPACE = env.NAMESPACE ?? `rankread${process.pid}`;
const REUSE = env.REUSE === '1';
const SEED = 42;
const DAY_MS = 86_400_000;

const repo = await loadRepository(join(ROOT, 'examples/ecommerce/features'));
const views = [...repo.featureViews.values()].map((v) => v.spec);
const ranker = repo.models.get('ranker_v1')!.spec;
const refs = [...new Set(ranker.inputs.map((i) => i.feature))];

const catalog = new Catalog(SEED, PRODUCTS);
const rng = new Rng(7);
type Entities = Record<string, string[]>;
const bodies: Entities[] = Array.from({ length: 200 }, () => {
  const picked = new Set<number>();
  while (picked.size < 100) picked.add(catalog.samplePopular(rng));
  const candidates = [...picked].map((p) => catalog.productId(p));
  const u = `u${pad(rng.int(USERS), idWidth(USERS, 5))}`;
  return { user_id: candidates.map(() => u), product_id: candidates };
});

// One recommendation_v1 row: a uniform user and a product of the hottest decile, or of the rest.
const draws = new Map<number, number>();
for (let i = 0; i < 200_000; i++) {
  const p = catalog.samplePopular(rng);
  draws.set(p, (draws.get(p) ?? 0) + 1);
}
const byPopularity = [...draws.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p);
const decile = Math.max(1, Math.round(PRODUCTS / 10));
const row = (p: number): Entities => ({
  user_id: [`u${pad(rng.int(USERS), idWidth(USERS, 5))}`],
  product_id: [catalog.productId(p)],
});
const rows = {
  hot: byPopularity.slice(0, decile).map(row),
  rest: byPopularity.slice(decile).map(row),
};
// Which cases to run (CASES, comma-separated): rank, row (v1 hot and rest), row_v2, risk.
const CASES = new Set((env.CASES ?? 'rank,row,row_v2').split(',').filter(Boolean));

// Round trips and commands per request, from the store's `onRoundTrip`.
const trips = { roundTrips: 0, commands: 0 };

/** Redis `INFO stats`: bytes the server read from and wrote to its clients. */
async function netBytes(redis: Redis): Promise<{ input: number; output: number }> {
  const info = await redis.info('stats');
  const n = (k: string) => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { input: n('total_net_input_bytes'), output: n('total_net_output_bytes') };
}

/** Redis `INFO commandstats`: calls and µs per command. */
async function commandStats(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (m) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/**
 * `REQUESTS` sequential `serveOnlineFeatures` calls cycling through `list`: wall p50 / p99,
 * this process's CPU per request and in `readMany`, and on Redis the server's µs per command.
 */
async function measure(
  label: string,
  store: OnlineStore,
  redis: Redis | null,
  ref: FeatureRef,
  list: readonly Entities[],
): Promise<string> {
  let readWall = 0;
  let readCpu = 0;
  let values = 0;
  const timed: Pick<OnlineStore, 'readMany'> = {
    async readMany(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const res = await store.readMany(requests);
      readWall += performance.now() - t0;
      const c = process.cpuUsage(c0);
      readCpu += (c.user + c.system) / 1000;
      values += res.reduce((n, r) => n + r.rows.length * r.features.length, 0);
      return res;
    },
  };
  const settings = { maxEntityRows: 1000, clock: Date.now };
  const once = (i: number) =>
    serveOnlineFeatures({ repo, store: timed }, settings, {
      ref,
      entities: list[i % list.length]!,
      fullFeatureNames: true,
    });
  for (let i = 0; i < 100; i++) await once(i); // warm-up
  readWall = readCpu = values = 0;
  trips.roundTrips = trips.commands = 0;
  const before = redis ? await commandStats(redis) : null;
  const net0 = redis ? await netBytes(redis) : null;
  const lat: number[] = [];
  const session = env.PROFILE ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const c0 = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    await once(i);
    lat.push(performance.now() - t0);
  }
  const c = process.cpuUsage(c0);
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(env.PROFILE!, { recursive: true });
    writeFileSync(join(env.PROFILE!, `rank-read-${label}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  lat.sort((a, b) => a - b);
  const per = (x: number) => (x / REQUESTS).toFixed(3);
  let server = '';
  if (redis && before && net0) {
    const net = await netBytes(redis);
    const after = await commandStats(redis);
    const parts: string[] = [];
    for (const [cmd, a] of after) {
      const b = before.get(cmd) ?? { calls: 0, usec: 0 };
      const calls = a.calls - b.calls;
      if (calls < REQUESTS / 2 || cmd === 'info') continue;
      parts.push(
        `${cmd} ${((a.usec - b.usec) / 1000 / REQUESTS).toFixed(3)} ms/req (${(calls / REQUESTS).toFixed(1)} calls)`,
      );
    }
    server =
      ` | Redis server: ${parts.join(', ')} | ${(trips.roundTrips / REQUESTS).toFixed(1)} round trips, ` +
      `${(trips.commands / REQUESTS).toFixed(1)} commands, ` +
      `${((net.input - net0.input) / REQUESTS).toFixed(0)} B sent / ${((net.output - net0.output) / REQUESTS).toFixed(0)} B received per req ` +
      `(INFO stats: includes other clients of this Redis)`;
  }
  return (
    `wall p50 ${lat[Math.floor(REQUESTS / 2)]!.toFixed(2)} / p99 ${lat[Math.floor(REQUESTS * 0.99)]!.toFixed(2)} ms | ` +
    `CPU ${per((c.user + c.system) / 1000)} ms/req (system ${per(c.system / 1000)}), of which readMany ${per(readCpu)} ms (wall ${per(readWall)} ms) | ` +
    `${(values / REQUESTS).toFixed(0)} values/req${server}`
  );
}

async function run(label: string, config: OnlineStoreConfig, offline: DuckDBOfflineStore) {
  const store: OnlineStore = createOnlineStore(config, {
    namespace: NAMESPACE,
    views,
    onRoundTrip: ({ commands }) => {
      trips.roundTrips++;
      trips.commands += commands;
    },
  });
  await store.init();
  const now = Date.now();
  const loaded = REUSE && (await store.sampleEntityKeys('user_activity', 1)).length > 0;
  if (!loaded)
    await materialize({
      repo,
      offline,
      online: store,
      end: now,
      start: () => now - START_DAYS_AGO * DAY_MS,
    });
  const redis = config.type === 'redis' ? new Redis(REDIS) : null;
  const v1 = { service: 'recommendation_v1' };
  const v2 = { service: 'recommendation_v2' };
  const cases: [string, string, FeatureRef, readonly Entities[]][] = [
    ['rank', 'rank read of 100 candidates', { features: refs }, bodies],
    ['row', '1 recommendation_v1 row, hot product', v1, rows.hot],
    ['row', '1 recommendation_v1 row, rest', v1, rows.rest],
    ['row_v2', '1 recommendation_v2 row, hot product', v2, rows.hot],
    ['row_v2', '1 recommendation_v2 row, rest', v2, rows.rest],
    [
      'risk',
      '1 risk_v1 row',
      { service: 'risk_v1' },
      rows.rest.map((r) => ({ user_id: r.user_id! })),
    ],
  ];
  for (const [name, what, ref, list] of cases) {
    if (!CASES.has(name)) continue;
    console.log(
      `${label} | ${what} | ${await measure(`${label}-${name}${what.endsWith('rest') ? '-rest' : ''}`, store, redis, ref, list)}`,
    );
  }
  redis?.disconnect();
  if (!REUSE) await store.teardown();
  await store.close();
}

const work = mkdtempSync(join(tmpdir(), 'larder-rank-read-'));
try {
  const now = Date.now();
  await genData({
    users: USERS,
    products: PRODUCTS,
    days: DAYS,
    events: EVENTS,
    seed: SEED,
    end: now,
    outDir: join(work, 'data'),
    format: 'jsonl',
  });
  const offline = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir: join(work, 'data'),
    home: work,
  });
  await offline.init();
  for (const s of STORES)
    await run(
      s,
      s === 'sqlite'
        ? { type: 'sqlite', path: join(work, 'online.sqlite') }
        : { type: 'redis', url: REDIS },
      offline,
    );
  await offline.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
