/**
 * Serving benchmark at production shape: `larder serve` over loopback HTTP against SQLite and
 * Redis, each loaded the way production loads it — `gen-data` history of DAYS days (Zipf product
 * popularity), then `materialize --start <START_DAYS_AGO days ago> --end now` — and driven by
 * a request mix drawn from the same popularity (hot products are requested most). The load
 * generator runs in its own process (`bench/load-process.ts`), pinned to core LOAD_CPU with
 * `taskset` when there is one, and its CPU use is printed beside the figures.
 *
 * Scenarios (SCENARIOS, comma-separated):
 * - `row`: one `recommendation_v1` row (a uniform user, a Zipf product); `row_v2` the same row
 *   of `recommendation_v2` (lists, the user × product view, sessions);
 * - `risk`: one `risk_v1` row (a uniform user; previous-event relations, sessions);
 * - `engagement`: one `product_engagement` read (every feature) of a Zipf product;
 * - `rank`: `POST /v1/models/ranker_v1/rank`, a uniform user and 100 distinct Zipf candidates;
 * - `rows100`: 100 `recommendation_v1` rows (1 user × 100 Zipf products; not in the default).
 * For `row` and `engagement`, server time (Server-Timing) is reported for requests whose product
 * is in the hottest decile of the popularity and for the rest. Beside throughput and latency it
 * reports where the CPU went during a run (Linux `/proc`): the load generator's share of a core,
 * the server's (its process and workers) in cores, and the machine's busy cores (server,
 * generator, Redis and anything else), so throughput can be read per server CPU-second.
 *
 *   npm run bench:serve    # env (defaults): STORES=sqlite,redis SCENARIOS=row,engagement,rank
 *                          #   USERS=2000 PRODUCTS=1000 DAYS=30 EVENTS=300000 START_DAYS_AGO=120
 *                          #   CONNECTIONS=1,8 RANK_CONNECTIONS=4 BENCH_SECONDS=5 RUNS=1 LOAD_CPU=1
 *                          #   WORKERS=1 (serve --workers; a list such as 1,2,4 measures each
 *                          #   count in turn and prints a table per count)
 *                          #   LOGGING=1: the services of services.ts log every request to Parquet
 *                          #   (docs/monitoring.md), to compare with the default (no logging)
 *                          #   (CONCURRENCY=n sets both connection lists; SCENARIOS=features
 *                          #   is row,rows100)
 *   npm run bench:rank     # SCENARIOS=rank
 *   SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=prof' npm run bench:serve   # profile the server
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Catalog } from '../examples/ecommerce/datagen/catalog.ts';
import { genData } from '../examples/ecommerce/datagen/index.ts';
import { idWidth, pad } from '../examples/ecommerce/datagen/ids.ts';
import { Rng } from '../examples/ecommerce/datagen/rng.ts';
import { loadRepository } from '../definitions/load.ts';
import { materialize } from '../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import type { OnlineStoreConfig } from '../config/config.ts';
import { median } from './http-load.ts';
import type { LoadReport } from './load-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const env = process.env;
const list = (v: string | undefined, d: string): string[] => (v ?? d).split(',').filter(Boolean);
const STORES = list(env.STORES, 'sqlite,redis');
// `features` (the scenarios before #20: 1 row and 100 rows) is still accepted.
const SCENARIOS = list(env.SCENARIOS, 'row,engagement,rank').flatMap((s) =>
  s === 'features' ? ['row', 'rows100'] : [s],
);
const USERS = Number(env.USERS ?? 2000);
const PRODUCTS = Number(env.PRODUCTS ?? 1000);
const DAYS = Number(env.DAYS ?? 30);
const EVENTS = Number(env.EVENTS ?? 300_000);
const START_DAYS_AGO = Number(env.START_DAYS_AGO ?? 120);
// CONCURRENCY (before #20: one number for every scenario) sets both lists.
const CONNECTIONS = list(env.CONNECTIONS ?? env.CONCURRENCY, '1,8').map(Number);
const RANK_CONNECTIONS = list(env.RANK_CONNECTIONS ?? env.CONCURRENCY, '4').map(Number);
const SECONDS = Number(env.BENCH_SECONDS ?? 5);
const RUNS = Number(env.RUNS ?? 1);
const LOAD_CPU = env.LOAD_CPU ?? '1';
// Server processes (`serve --workers`), a list: each store is served and measured at each count
// in turn (1 leaves the load generator's core to the server).
const WORKERS = list(env.WORKERS, '1').map(Number);
for (const w of WORKERS)
  if (!Number.isInteger(w) || w < 1) throw new Error(`WORKERS: ${w} is not a worker count`);
const PORT = Number(env.PORT ?? 16566);
const REDIS = env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const NAMESPACE = `bench${process.pid}`;
const SEED = 42;
// Feature logging at 100 % (`logging: { sample: 1 }` on the services of services.ts in a copy of the example
// repository, next to it so its `../models/` paths resolve; removed at the end).
const LOGGING = env.LOGGING === '1';
const LOGGING_REPO = join(ROOT, `examples/ecommerce/.features-logging-${process.pid}`);
const DAY_MS = 86_400_000;
const BODIES = 5000;

const repo = await loadRepository(join(ROOT, 'examples/ecommerce/features'));
const views = [...repo.featureViews.values()].map((v) => v.spec);
const engagement = repo.featureViews.get('product_engagement')!.spec;

// The popularity the events were drawn from (same seed and size as gen-data's catalog).
const catalog = new Catalog(SEED, PRODUCTS);
const rng = new Rng(7);
const draws = new Map<number, number>();
for (let i = 0; i < 200_000; i++) {
  const p = catalog.samplePopular(rng);
  draws.set(p, (draws.get(p) ?? 0) + 1);
}
const byPopularity = [...draws.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p);
const hot = new Set(byPopularity.slice(0, Math.max(1, Math.round(PRODUCTS / 10))));
const product = (p: number): string => catalog.productId(p);
const user = (): string => `u${pad(rng.int(USERS), idWidth(USERS, 5))}`;

interface Scenario {
  name: string;
  label: string;
  path: string;
  connections: number[];
  /** Bodies and tags, cycled through by the load generator. */
  bodies: string[];
  tags: string[];
}

function scenario(name: string): Scenario {
  const bodies: string[] = [];
  const tags: string[] = [];
  for (let i = 0; i < BODIES; i++) {
    const p = catalog.samplePopular(rng);
    const tag = hot.has(p) ? 'hot' : 'rest';
    if (name === 'row' || name === 'row_v2') {
      bodies.push(
        JSON.stringify({
          feature_service: name === 'row' ? 'recommendation_v1' : 'recommendation_v2',
          entities: { user_id: [user()], product_id: [product(p)] },
        }),
      );
      tags.push(tag);
    } else if (name === 'risk') {
      bodies.push(JSON.stringify({ feature_service: 'risk_v1', entities: { user_id: [user()] } }));
      tags.push('all');
    } else if (name === 'engagement') {
      bodies.push(
        JSON.stringify({
          features: engagement.features.map((f) => `product_engagement:${f.name}`),
          entities: { product_id: [product(p)] },
        }),
      );
      tags.push(tag);
    } else {
      const picked = new Set<number>();
      while (picked.size < 100) picked.add(catalog.samplePopular(rng));
      const candidates = [...picked].map(product);
      const u = user();
      bodies.push(
        name === 'rank'
          ? JSON.stringify({ user_id: u, candidates, top_k: 10 })
          : JSON.stringify({
              feature_service: 'recommendation_v1',
              entities: { user_id: candidates.map(() => u), product_id: candidates },
            }),
      );
      tags.push('all');
    }
  }
  const labels: Record<string, [string, string]> = {
    row: ['1 recommendation_v1 row', '/get-online-features'],
    row_v2: ['1 recommendation_v2 row', '/get-online-features'],
    risk: ['1 risk_v1 row', '/get-online-features'],
    engagement: ['1 product_engagement read', '/get-online-features'],
    rank: ['rank 100 candidates', '/v1/models/ranker_v1/rank'],
    rows100: ['100 recommendation_v1 rows', '/get-online-features'],
  };
  const [label, path] = labels[name] ?? [];
  if (!label || !path)
    throw new Error(`unknown scenario ${name} (row, row_v2, risk, engagement, rank, rows100)`);
  return {
    name,
    label,
    path,
    connections: name === 'rank' || name === 'rows100' ? RANK_CONNECTIONS : CONNECTIONS,
    bodies,
    tags,
  };
}

/** gen-data history once, shared by both stores. */
async function history(dir: string, now: number): Promise<DuckDBOfflineStore> {
  const t = Date.now();
  await genData({
    users: USERS,
    products: PRODUCTS,
    days: DAYS,
    events: EVENTS,
    seed: SEED,
    end: now,
    outDir: dir,
    format: 'jsonl',
  });
  const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir });
  await offline.init();
  process.stderr.write(
    `generated ${EVENTS} events over ${DAYS} days (${USERS} users × ${PRODUCTS} products) in ${((Date.now() - t) / 1000).toFixed(1)}s\n`,
  );
  return offline;
}

/** `materialize --start <START_DAYS_AGO days ago> --end now`, and what the hottest product stores. */
async function load(
  config: OnlineStoreConfig,
  offline: DuckDBOfflineStore,
  now: number,
): Promise<void> {
  const online = createOnlineStore(config, { namespace: NAMESPACE, views });
  await online.init();
  const t = Date.now();
  const res = await materialize({
    repo,
    offline,
    online,
    end: now,
    start: () => now - START_DAYS_AGO * DAY_MS,
  });
  const tiles = res.reduce((n, r) => n + r.tiles, 0);
  const d = await online.describeEntity('product_engagement', product(byPopularity[0]!));
  await online.close();
  process.stderr.write(
    `${config.type}: materialized ${tiles} tiles in ${((Date.now() - t) / 1000).toFixed(1)}s; ` +
      `hottest product ${product(byPopularity[0]!)}: ${d?.fields.length ?? 0} product_engagement fields\n`,
  );
}

async function startServer(home: string, store: string, workers: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      join(ROOT, 'bin/larder.js'),
      'serve',
      '--port',
      String(PORT),
      '--no-grpc',
      '--workers',
      String(workers),
    ],
    {
      cwd: ROOT,
      env: {
        ...env,
        LARDER_HOME: home,
        LARDER_ONLINE_STORE: store,
        LARDER_NAMESPACE: NAMESPACE,
        NODE_ENV: 'production',
        ...(LOGGING ? { LARDER_REPO: LOGGING_REPO, LARDER_DATA_DIR: join(home, 'data') } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // With several workers /ready answers as soon as one listens; the primary's banner line on
  // stderr ("N worker processes (…) share the ports") says they all do. The server's output goes
  // to stderr, leaving stdout to the figures.
  let allUp = workers === 1;
  let banner = '';
  child.stdout!.on('data', (d: Buffer) => process.stderr.write(d));
  child.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    if (!allUp) allUp = /worker processes \(/.test((banner = (banner + d.toString()).slice(-4096)));
  });
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((r) =>
      http
        .get(`http://127.0.0.1:${PORT}/ready`, (res) => {
          res.resume();
          r(res.statusCode === 200);
        })
        .on('error', () => r(false)),
    );
    if (ok && allUp) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('server did not become ready');
}

const pinned = spawnSync('taskset', ['-c', LOAD_CPU, 'true']).status === 0;

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** CPU ms used so far by `pid` and its descendants (`serve --workers` forks), NaN without /proc. */
function treeCpuMs(pid: number): number {
  try {
    const stats = new Map<number, { ppid: number; ms: number }>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(d), {
        ppid: Number(f[1]),
        ms: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS,
      });
    }
    let ms = 0;
    const tree = new Set([pid]);
    // Parents have lower pids than their children here almost always; repeat until stable.
    for (let grew = true; grew;) {
      grew = false;
      for (const [p, s] of stats)
        if (!tree.has(p) && tree.has(s.ppid)) {
          tree.add(p);
          grew = true;
        }
    }
    for (const p of tree) ms += stats.get(p)?.ms ?? 0;
    return ms;
  } catch {
    return NaN;
  }
}

/** Busy and total CPU ms of the whole machine (all cores) from /proc/stat; NaN without it. */
function machineCpuMs(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
    const n = f.map(Number);
    const idle = n[3]! + (n[4] ?? 0);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: ((total - idle) * 1000) / TICKS, total: (total * 1000) / TICKS };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** A run's report and the CPU beside it, in cores (1 = one core busy throughout). */
interface Run extends LoadReport {
  serverCores: number;
  machineCores: number;
}

/** One run of the load generator in its own (pinned) process, with the server's CPU (`pid`'s tree). */
async function drive(
  s: Scenario,
  connections: number,
  seconds: number,
  server: number,
): Promise<Run> {
  const file = join(work, `load-${s.name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      port: PORT,
      path: s.path,
      concurrency: connections,
      seconds,
      bodies: s.bodies,
      tags: s.tags,
    }),
  );
  const args = ['--import', 'tsx', join(ROOT, 'bench/load-process.ts'), file];
  const child = pinned
    ? spawn('taskset', ['-c', LOAD_CPU, process.execPath, ...args], { cwd: ROOT })
    : spawn(process.execPath, args, { cwd: ROOT });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.pipe(process.stderr);
  const cpu0 = treeCpuMs(server);
  const m0 = machineCpuMs();
  const t0 = performance.now();
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const wall = performance.now() - t0;
  const m1 = machineCpuMs();
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  // The run's wall time includes the generator's start-up (~0.3 s), so these shares are a little
  // low; compare them across worker counts, not as absolutes.
  return {
    ...(JSON.parse(out) as LoadReport),
    serverCores: (treeCpuMs(server) - cpu0) / wall,
    machineCores: ((m1.busy - m0.busy) / (m1.total - m0.total)) * availableParallelism(),
  };
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');
const cores = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');

/** One row of a worker count's table. */
interface Row {
  scenario: string;
  connections: number;
  rps: number;
  p50: string;
  p99: string;
  clientP99: number;
  errors: number;
  load: number;
  server: number;
  machine: number;
}

async function measure(store: string, s: Scenario, workers: number, pid: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of s.connections) {
    await drive(s, c, 1, pid); // warm-up
    const runs: Run[] = [];
    for (let r = 0; r < RUNS; r++) runs.push(await drive(s, c, SECONDS, pid));
    const m = (f: (x: Run) => number): number => median(runs.map(f));
    const tag = (t: string): string => {
      const p50 = m((x) => x.byTag[t]?.sp50 ?? NaN);
      const p99 = m((x) => x.byTag[t]?.sp99 ?? NaN);
      return `${t} ${ms(p50)} / ${ms(p99)} ms`;
    };
    const tags =
      s.name === 'row' || s.name === 'row_v2' || s.name === 'engagement'
        ? ['hot', 'rest']
        : ['all'];
    const tagged = (q: (x: Run) => number, t: string) =>
      `${t} ${ms(m((x) => (x.byTag[t] ? q(x) : NaN)))}`;
    const row: Row = {
      scenario: s.label,
      connections: c,
      rps: m((x) => x.rps),
      p50: tags.map((t) => tagged((x) => x.byTag[t]!.sp50, t)).join(' · '),
      p99: tags.map((t) => tagged((x) => x.byTag[t]!.sp99, t)).join(' · '),
      clientP99: m((x) => x.p99),
      errors: m((x) => x.errors),
      load: m((x) => x.cpu),
      server: m((x) => x.serverCores),
      machine: m((x) => x.machineCores),
    };
    rows.push(row);
    process.stdout.write(
      `${store} | ${workers} worker(s) | ${s.label} | ${c} conn | server p50 / p99: ${tags.map(tag).join(' · ')} | ` +
        `client p99 ${ms(row.clientP99)} ms | ${row.rps.toFixed(0)} req/s | ` +
        `errors ${row.errors} | load generator ${(row.load * 100).toFixed(0)}% of a core${pinned ? ` (cpu ${LOAD_CPU})` : ''} | ` +
        `server ${cores(row.server)} cores, machine ${cores(row.machine)} of ${availableParallelism()} busy\n`,
    );
  }
  return rows;
}

/** The table of one store at one worker count (markdown). */
function table(store: string, workers: number, rows: readonly Row[]): string {
  const head =
    `\n${store}, serve --workers ${workers} (server time from Server-Timing, ms; CPU in cores, ` +
    `1 = one core busy throughout; machine: every process, Redis included, of ${availableParallelism()} cores)\n\n` +
    '| scenario | conn | req/s | server p50 | server p99 | client p99 | server CPU | req per server CPU-s | load generator CPU | machine busy | errors |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|\n';
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.scenario} | ${r.connections} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${ms(r.clientP99)} | ` +
          `${cores(r.server)} | ${Number.isFinite(r.server) && r.server > 0 ? (r.rps / r.server).toFixed(0) : '-'} | ` +
          `${cores(r.load)} | ${cores(r.machine)} | ${r.errors} |`,
      )
      .join('\n') +
    '\n'
  );
}

const work = mkdtempSync(join(tmpdir(), 'larder-bench-'));
if (LOGGING) {
  cpSync(join(ROOT, 'examples/ecommerce/features'), LOGGING_REPO, { recursive: true });
  const services = join(LOGGING_REPO, 'services.ts');
  writeFileSync(
    services,
    readFileSync(services, 'utf8').replace(
      /featureService\(\{\n(\s*)name: '(\w+)',/g,
      "featureService({\n$1name: '$2',\n$1logging: { sample: 1 },",
    ),
  );
  process.stderr.write(
    `LOGGING=1: the services of services.ts log every request (${LOGGING_REPO})\n`,
  );
}
try {
  const now = Date.now();
  const offline = await history(join(work, 'data'), now);
  const scenarios = SCENARIOS.map(scenario);
  for (const store of STORES) {
    const home = join(work, `home-${store}`);
    const config: OnlineStoreConfig =
      store === 'sqlite'
        ? { type: 'sqlite', path: join(home, 'online.sqlite') }
        : { type: 'redis', url: REDIS };
    await load(config, offline, now);
    const tables: string[] = [];
    try {
      for (const workers of WORKERS) {
        const server = await startServer(
          home,
          store === 'sqlite' ? `sqlite:${join(home, 'online.sqlite')}` : REDIS,
          workers,
        );
        const rows: Row[] = [];
        try {
          for (const s of scenarios) rows.push(...(await measure(store, s, workers, server.pid!)));
        } finally {
          server.kill('SIGTERM');
          await new Promise((r) => server.once('exit', r));
        }
        tables.push(table(store, workers, rows));
      }
      process.stdout.write(tables.join(''));
    } finally {
      if (store !== 'sqlite') {
        const online = createOnlineStore(config, { namespace: NAMESPACE, views: [] });
        await online.init();
        await online.teardown();
        await online.close();
      }
    }
  }
  await offline.close();
} finally {
  rmSync(work, { recursive: true, force: true });
  if (LOGGING) rmSync(LOGGING_REPO, { recursive: true, force: true });
}
