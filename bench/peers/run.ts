/**
 * `npm run bench:peers`: Larder against Feast on the same data, the same request bodies and the
 * same load generator, in one run.
 *
 *  1. datagen → .cache/peers/data (one dataset for both; history ends at the current whole hour)
 *  2. Larder: apply, materialize into Redis db 0 under its own namespace, `larder serve`
 *  3. Feast (pinned venv, bench/peers/feast/setup.sh): the repository of bench/peers/feast/ over
 *     Larder's hourly grid exports of the four feature views, `feast apply`, `feast materialize`
 *     into Redis db 2, `feast serve --workers N`; Larder is served by `larder serve --workers N`
 *     (the same N, by default one per core: both servers use every core)
 *  4. sanity check: both servers answer the same rows; values compared where semantics coincide
 *  5. load: POST /get-online-features, 1 entity row and 100 rows (1 user × 100 products), same
 *     bodies for both, CONCURRENCY keep-alive connections for BENCH_SECONDS, median of RUNS runs,
 *     the two servers alternating run by run
 *  6. point-in-time export of the same entity file: `larder export` vs Feast's
 *     `get_historical_features(...).to_df()`
 *  7. one table (stdout, .cache/peers/results.json and README.md's "Benchmark against Feast")
 *  Always: stops both servers, tears down Larder's namespace and FLUSHDBs db 2.
 *
 *   npm run bench:peers    # env: BENCH_SECONDS=10 CONCURRENCY=16 RUNS=3 WORKERS=<nproc>
 *                          #      EXPORT_ROWS=100000 EXPORT_RUNS=3 (WRITE_README=0: leave README.md as it is)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { drive, median, type Stats } from '../http-load.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CACHE = join(ROOT, '.cache/peers');
const HERE = join(ROOT, 'bench/peers/feast');
const VENV = join(CACHE, 'feast-venv/bin');
const LARDER = join(ROOT, 'bin/larder.js');

const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);
const USERS = num('USERS', 1000);
const PRODUCTS = num('PRODUCTS', 500);
const DAYS = num('DAYS', 7);
const EVENTS = num('EVENTS', 300_000);
const SECONDS = num('BENCH_SECONDS', 10);
const CONCURRENCY = num('CONCURRENCY', 16);
const RUNS = num('RUNS', 3);
// Server processes of BOTH servers (`larder serve --workers`, `feast serve --workers`); default
// one per core. FEAST_WORKERS, its name before both used it, is still read.
const WORKERS = num('WORKERS', num('FEAST_WORKERS', availableParallelism()));
if (!Number.isInteger(WORKERS) || WORKERS < 1)
  throw new Error(`WORKERS: ${WORKERS} is not a worker count`);
const EXPORT_ROWS = num('EXPORT_ROWS', 100_000);
const EXPORT_RUNS = num('EXPORT_RUNS', 3);
const LARDER_PORT = num('LARDER_PORT', 16610);
const FEAST_PORT = num('FEAST_PORT', 16611);
const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;
const LARDER_DB = 0;
const FEAST_DB = 2; // bench/peers/feast/feature_store.yaml
const NAMESPACE = 'peersbench';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const END = Math.floor(Date.now() / HOUR) * HOUR; // the history ends on a whole hour
const GRID_START = END - DAYS * DAY;

const log = (s: string): void => void process.stderr.write(`${s}\n`);
/** 1-minute load average, sampled around every measurement: how busy the shared machine was. */
const loads: number[] = [];
const sampleLoad = (): void => {
  const l = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  if (Number.isFinite(l)) loads.push(l);
};
const dataDir = join(CACHE, 'data');
const larderHome = join(CACHE, 'larder-home');
const exportsDir = join(CACHE, 'exports');
const feastRepo = join(CACHE, 'feast-repo');
const entitiesFile = join(CACHE, 'entities.parquet');
const idsFile = join(CACHE, 'ids.json');

const larderEnv: NodeJS.ProcessEnv = {
  ...process.env,
  LARDER_HOME: larderHome,
  LARDER_DATA_DIR: dataDir,
  LARDER_ONLINE_STORE: `redis://${REDIS_HOST}:${REDIS_PORT}/${LARDER_DB}`,
  LARDER_NAMESPACE: NAMESPACE,
  LARDER_OFFLINE_STORE: 'duckdb',
  NODE_ENV: 'production',
};
const feastEnv: NodeJS.ProcessEnv = {
  ...process.env,
  FEAST_USAGE: 'False',
  PYTHONWARNINGS: 'ignore',
};

/** Runs a command to completion; returns stdout and the wall time; throws on failure. */
function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; quiet?: boolean } = {},
): { stdout: string; seconds: number } {
  log(`  $ ${[cmd, ...args].map((a) => a.replace(ROOT + '/', '')).join(' ')}`);
  const t = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', opts.quiet ? 'pipe' : 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) {
    if (opts.quiet) process.stderr.write(r.stderr ?? '');
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  }
  return { stdout: r.stdout, seconds };
}

const larder = (args: string[], quiet = false): { stdout: string; seconds: number } =>
  run(process.execPath, [LARDER, ...args], { env: larderEnv, quiet });

function machine(): { nproc: number; cpu: string; memory: string; node: string } {
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || cpus().length;
  const info = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const memory = `${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
  return { nproc, cpu, memory, node: process.version };
}

async function waitReady(url: string, child: ChildProcess, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode})`);
    const ok = await new Promise<boolean>((r) =>
      http
        .get(url, (res) => {
          res.resume();
          r(res.statusCode === 200);
        })
        .on('error', () => r(false)),
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready within ${seconds}s`);
}

/**
 * Detached, so that the whole process group (gunicorn's master and workers) can be stopped. The
 * server's stderr is passed through; `seen` resolves when a line of it matches `line`.
 */
function startServer(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  line?: RegExp,
): { child: ChildProcess; seen: Promise<void> } {
  log(`  $ ${[cmd, ...args].map((a) => a.replace(ROOT + '/', '')).join(' ')} &`);
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  const seen = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}) before it was up`)));
    child.stderr!.on('data', (d: Buffer) => {
      process.stderr.write(d);
      tail = (tail + d.toString()).slice(-4096);
      if (line?.test(tail)) resolve();
    });
    if (!line) resolve();
  });
  seen.catch(() => undefined); // awaited by the caller, if at all
  return { child, seen };
}

async function stopServer(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise((r) => setTimeout(r, 10_000, 'timeout'));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

interface FeastJson {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: readonly string[] }[];
}

async function post(port: string | number, body: unknown): Promise<FeastJson> {
  const res = await fetch(`http://127.0.0.1:${port}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`port ${port}: HTTP ${res.status}: ${await res.text()}`);
  return (await res.json()) as FeastJson;
}

const byName = (r: FeastJson): Map<string, unknown[]> =>
  new Map(r.metadata.feature_names.map((n, i) => [n, r.results[i]!.values]));

/**
 * The hop of each feature (or of the windowed inputs of an on-demand feature); 0 = lifetime.
 * Feast serves the grid row at END; Larder evaluates at request time t. The two coincide when
 * floor(t/hop) = floor(END/hop) (same window, and no event after END exists).
 */
const HOP: Record<string, number> = {
  page_views_1h: MIN,
  clicks_1h: MIN,
  views_5m: MIN,
  views_1h: MIN,
  page_views_7d: HOUR,
  cart_adds_7d: HOUR,
  searches_24h: HOUR,
  events_24h: HOUR,
  views_24h: HOUR,
  cart_adds_24h: HOUR,
  purchases_24h: HOUR,
  view_to_cart_rate_24h: HOUR,
  cart_to_purchase_rate_24h: HOUR,
  purchases_30d: DAY,
  spend_30d: DAY,
  avg_order_value_30d: DAY,
  max_order_value_30d: DAY,
  preferred_category_30d: DAY,
  price_vs_avg_order: DAY,
  category_match: DAY,
  last_platform: 0,
  last_event_ts: 0,
  price: 0,
  category: 0,
  device_optimization: 0,
  last_activity_days_ago: 0, // both evaluate at their own request time
};

const same = (a: unknown, b: unknown): boolean => {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  return (a ?? null) === (b ?? null);
};

interface Agreement {
  rows: number;
  coincide: { features: number; agree: number; total: number; mismatches: string[] };
  differByDesign: { features: string[]; agree: number; total: number };
}

async function sanityCheck(users: string[], products: string[]): Promise<Agreement> {
  const n = 20;
  const u = Array.from({ length: n }, (_, i) => users[(i * 37) % users.length]!);
  const p = Array.from({ length: n }, (_, i) => products[(i * 13) % products.length]!);
  const body = { feature_service: 'recommendation_v1', entities: { user_id: u, product_id: p } };
  const t0 = Date.now();
  const [l, f] = await Promise.all([post(LARDER_PORT, body), post(FEAST_PORT, body)]);
  const t1 = Date.now();
  const L = byName(l);
  const F = byName(f);
  const out: Agreement = {
    rows: n,
    coincide: { features: 0, agree: 0, total: 0, mismatches: [] },
    differByDesign: { features: [], agree: 0, total: 0 },
  };
  for (const [name, hop] of Object.entries(HOP)) {
    const lv = L.get(name);
    const fv = F.get(name);
    if (!lv || !fv) throw new Error(`feature ${name} missing from ${lv ? 'Feast' : 'Larder'}`);
    const coincide =
      hop === 0 ||
      (Math.floor(t0 / hop) === Math.floor(END / hop) &&
        Math.floor(t1 / hop) === Math.floor(END / hop));
    const agree = lv.filter((v, i) => same(v, fv[i])).length;
    if (coincide) {
      out.coincide.features++;
      out.coincide.agree += agree;
      out.coincide.total += n;
      lv.forEach((v, i) => {
        if (!same(v, fv[i]) && out.coincide.mismatches.length < 10)
          out.coincide.mismatches.push(
            `${name}(${u[i]},${p[i]}): larder ${JSON.stringify(v)} feast ${JSON.stringify(fv[i])}`,
          );
      });
    } else {
      out.differByDesign.features.push(name);
      out.differByDesign.agree += agree;
      out.differByDesign.total += n;
    }
  }
  if (L.size !== F.size) throw new Error(`feature counts differ: ${L.size} vs ${F.size}`);
  return out;
}

/**
 * The features at the grid time END itself: Larder's online read path (the code behind
 * `larder serve`, in process, against the same Redis namespace, with t = END) against Feast's
 * server. Left out: last_activity_days_ago (Feast's transform reads the wall clock online), and
 * the windows whose hop has ended since END — the online store keeps only the tiles that serving
 * at the wall clock needs (stale tiles are pruned on write), so it cannot answer for the past
 * there (with END on a whole hour and the check minutes later: the 1-minute-hop windows).
 */
async function gridCheck(
  users: string[],
  products: string[],
): Promise<{
  rows: number;
  features: number;
  agree: number;
  total: number;
  mismatches: string[];
  skipped: string[];
}> {
  const { loadRepository } = await import('../../definitions/load.ts');
  const { createOnlineStore } = await import('../../online/create-online-store.ts');
  const { getOnlineFeatures } = await import('../../retrieval/index.ts');
  const { toFeastJson } = await import('../../api/feature-server/feast-json.ts');
  const repo = await loadRepository(join(ROOT, 'examples/ecommerce/features'));
  const store = createOnlineStore(
    { type: 'redis', url: larderEnv.LARDER_ONLINE_STORE! },
    { namespace: NAMESPACE, views: [...repo.featureViews.values()].map((v) => v.spec) },
  );
  await store.init();
  const n = 50;
  const u = Array.from({ length: n }, (_, i) => users[(i * 17 + 3) % users.length]!);
  const p = Array.from({ length: n }, (_, i) => products[(i * 11 + 5) % products.length]!);
  try {
    const res = await getOnlineFeatures(
      { repo, store, maxEntityRows: 10_000 },
      {
        ref: { service: 'recommendation_v1' },
        entities: { user_id: u, product_id: p },
        fullFeatureNames: false,
        t: END,
      },
    );
    const L = byName(toFeastJson(res) as FeastJson);
    const F = byName(
      await post(FEAST_PORT, {
        feature_service: 'recommendation_v1',
        entities: { user_id: u, product_id: p },
      }),
    );
    const out = {
      rows: n,
      features: 0,
      agree: 0,
      total: 0,
      mismatches: [] as string[],
      skipped: [] as string[],
    };
    const now = Date.now();
    for (const [name, hop] of Object.entries(HOP)) {
      if (name === 'last_activity_days_ago') continue;
      if (hop > 0 && Math.floor(now / hop) !== Math.floor(END / hop)) {
        out.skipped.push(name);
        continue;
      }
      const lv = L.get(name)!;
      const fv = F.get(name)!;
      out.features++;
      out.total += n;
      lv.forEach((v, i) => {
        if (same(v, fv[i])) out.agree++;
        else if (out.mismatches.length < 10)
          out.mismatches.push(
            `${name}(${u[i]},${p[i]}): larder ${JSON.stringify(v)} feast ${JSON.stringify(fv[i])}`,
          );
      });
    }
    return out;
  } finally {
    await store.close();
  }
}

interface Scenario {
  name: string;
  bodyOf: (i: number) => string;
}

function scenarios(users: string[], products: string[]): Scenario[] {
  return [
    {
      name: '1 entity row',
      bodyOf: (i) =>
        JSON.stringify({
          feature_service: 'recommendation_v1',
          entities: {
            user_id: [users[i % users.length]],
            product_id: [products[(i * 7) % products.length]],
          },
        }),
    },
    {
      name: '100 entity rows (1 user × 100 products)',
      bodyOf: (i) => {
        const ps = Array.from({ length: 100 }, (_, k) => products[(i + k * 5) % products.length]!);
        return JSON.stringify({
          feature_service: 'recommendation_v1',
          entities: { user_id: ps.map(() => users[i % users.length]), product_id: ps },
        });
      },
    },
  ];
}

interface Row {
  scenario: string;
  larder: Stats;
  feast: Stats;
}

async function redisCleanup(): Promise<void> {
  const r = new Redis({ host: REDIS_HOST, port: REDIS_PORT, db: FEAST_DB, lazyConnect: true });
  try {
    await r.connect();
    await r.flushdb();
    log(`  Redis db ${FEAST_DB} flushed (Feast)`);
  } catch (e) {
    log(`  could not flush Redis db ${FEAST_DB}: ${String(e)}`);
  } finally {
    r.disconnect();
  }
  try {
    const { createOnlineStore } = await import('../../online/create-online-store.ts');
    const store = createOnlineStore(
      { type: 'redis', url: larderEnv.LARDER_ONLINE_STORE! },
      { namespace: NAMESPACE, views: [] },
    );
    await store.init();
    await store.teardown();
    await store.close();
    log(`  Larder namespace "${NAMESPACE}" in db ${LARDER_DB} torn down`);
  } catch (e) {
    log(`  could not tear down Larder's namespace: ${String(e)}`);
  }
}

const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : 'n/a');
const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}×`;

function table(
  m: ReturnType<typeof machine>,
  rows: Row[],
  exp: { larder: number; larderTool: number; feast: number; feastTool: number },
  agreement: Agreement,
  grid: Awaited<ReturnType<typeof gridCheck>>,
  feastVersion: string,
): string {
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const lines = [
    `Measured ${date} with \`npm run bench:peers\` (BENCH_SECONDS=${SECONDS} CONCURRENCY=${CONCURRENCY} RUNS=${RUNS} WORKERS=${WORKERS} EXPORT_ROWS=${EXPORT_ROWS} EXPORT_RUNS=${EXPORT_RUNS}).`,
    `Machine: ${m.nproc} CPUs (nproc), ${m.cpu}, ${m.memory} RAM; Node ${m.node}; Feast ${feastVersion}; Redis on loopback. The load generator runs on the same machine, which was shared with other work: 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the measurements.`,
    `Data: gen-data ${USERS} users, ${PRODUCTS} products, ${DAYS} days, ${EVENTS.toLocaleString('en-US')} events (seed 42). Larder: \`larder serve --workers ${WORKERS}\` (node:cluster). Feast: \`feast serve --workers ${WORKERS}\` (gunicorn + uvicorn).`,
    '',
    '| recommendation_v1, POST /get-online-features | Larder p50 | Larder p99 | Larder req/s | Feast p50 | Feast p99 | Feast req/s | p50 Feast/Larder | p99 Feast/Larder | req/s Larder/Feast |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${f1(r.larder.p50)} ms | ${f1(r.larder.p99)} ms | ${Math.round(r.larder.rps)} | ${f1(r.feast.p50)} ms | ${f1(r.feast.p99)} ms | ${Math.round(r.feast.rps)} | ${ratio(r.feast.p50, r.larder.p50)} | ${ratio(r.feast.p99, r.larder.p99)} | ${ratio(r.larder.rps, r.feast.rps)} |`,
    ),
    '',
    `| point-in-time export, ${EXPORT_ROWS.toLocaleString('en-US')} entity rows × 26 features | Larder | Feast | Feast/Larder |`,
    '|---|---|---|---|',
    `| wall clock of the command (process start to exit) | ${exp.larder.toFixed(1)} s | ${exp.feast.toFixed(1)} s | ${ratio(exp.feast, exp.larder)} |`,
    `| the export itself (\`larder export\`'s own time; \`get_historical_features(...).to_df()\`) | ${exp.larderTool.toFixed(1)} s | ${exp.feastTool.toFixed(1)} s | ${ratio(exp.feastTool, exp.larderTool)} |`,
    '',
    `Sanity check (${agreement.rows} rows, both servers): ${agreement.coincide.agree}/${agreement.coincide.total} values agree on the ${agreement.coincide.features} features whose semantics coincide at request time; ` +
      `${agreement.differByDesign.agree}/${agreement.differByDesign.total} on the ${agreement.differByDesign.features.length} that differ by design (${agreement.differByDesign.features.join(', ') || 'none'}: Feast serves the value at the last grid hour, Larder slides the window to the request time).`,
    `At the grid time itself (Larder's online read path in process with t = END, ${grid.rows} rows): ${grid.agree}/${grid.total} values agree on ${grid.features} features (left out: last_activity_days_ago, which Feast evaluates at the wall clock${grid.skipped.length ? `, and ${grid.skipped.join(', ')}, whose 1-minute tiles before the wall clock's window the online store has already pruned` : ''}).`,
  ];
  return lines.join('\n');
}

function writeReadme(section: string): void {
  const path = join(ROOT, 'README.md');
  const text = readFileSync(path, 'utf8');
  const start = '<!-- bench:peers:start -->';
  const end = '<!-- bench:peers:end -->';
  const block = `${start}\n${section}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n## Benchmark against Feast\n\n${block}\n`;
  writeFileSync(path, next);
  log('  README.md: "Benchmark against Feast" updated');
}

async function main(): Promise<void> {
  const m = machine();
  log(`machine: nproc ${m.nproc} · ${m.cpu} · ${m.memory} · node ${m.node}`);
  log(`history ends at ${new Date(END).toISOString()}`);
  mkdirSync(CACHE, { recursive: true });

  log('\n▶ services and the Feast venv');
  const ping = spawnSync('redis-cli', ['-h', REDIS_HOST, '-p', String(REDIS_PORT), 'ping'], {
    encoding: 'utf8',
  });
  if (ping.stdout?.trim() !== 'PONG') run('bash', ['scripts/services.sh', 'up']);
  run('bash', [join(HERE, 'setup.sh')]);
  const feastVersion = run(join(VENV, 'python'), ['-c', 'import feast; print(feast.__version__)'], {
    env: feastEnv,
    quiet: true,
  }).stdout.trim();

  log('\n▶ data (once, for both)');
  rmSync(dataDir, { recursive: true, force: true });
  larder([
    'gen-data',
    ...['--users', String(USERS), '--products', String(PRODUCTS), '--days', String(DAYS)],
    ...['--events', String(EVENTS), '--seed', '42', '--end', String(END), '--out', dataDir],
  ]);

  let larderServer: ChildProcess | undefined;
  let feastServer: ChildProcess | undefined;
  try {
    log('\n▶ Larder: apply, materialize into Redis db 0 (namespace peersbench)');
    rmSync(larderHome, { recursive: true, force: true });
    await redisCleanup();
    larder(['apply']);
    larder(['materialize', '--end', String(END)]);

    log('\n▶ Feast: hourly grid of the four views, computed by `larder export`');
    rmSync(exportsDir, { recursive: true, force: true });
    mkdirSync(exportsDir, { recursive: true });
    const views = viewFeatures();
    for (const [view, feats] of Object.entries(views)) {
      larder([
        'export',
        ...['--features', feats.map((f) => `${view}:${f}`).join(',')],
        ...['--start', String(GRID_START), '--end', String(END), '--every', '1h'],
        ...['--out', join(exportsDir, `${view}.parquet`), '--json'],
      ]);
    }
    run(
      join(VENV, 'python'),
      [
        join(HERE, 'prepare_repo.py'),
        ...['--exports', exportsDir, '--repo', feastRepo, '--ids', idsFile],
        ...['--entities', entitiesFile, '--rows', String(EXPORT_ROWS)],
        ...['--start', String(GRID_START + DAY), '--end', String(END)],
      ],
      { env: feastEnv },
    );
    const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as Record<string, string[]>;
    const users = ids.user_id!;
    const products = ids.product_id!;

    log('\n▶ Feast: apply, materialize into Redis db 2');
    rmSync(join(feastRepo, 'data/registry.db'), { force: true });
    run(join(VENV, 'feast'), ['apply'], { env: feastEnv, cwd: feastRepo, quiet: true });
    const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
    run(join(VENV, 'feast'), ['materialize', iso(GRID_START - 30 * DAY), iso(END)], {
      env: feastEnv,
      cwd: feastRepo,
      quiet: true,
    });

    log('\n▶ servers');
    const larderStart = startServer(
      process.execPath,
      [LARDER, 'serve', '--port', String(LARDER_PORT), '--no-grpc', '--workers', String(WORKERS)],
      larderEnv,
      ROOT,
      // With several workers /ready answers as soon as one listens; the primary's banner says
      // they all do.
      WORKERS > 1 ? /worker processes \(/ : undefined,
    );
    larderServer = larderStart.child;
    feastServer = startServer(
      join(VENV, 'feast'),
      [
        ...['serve', '-h', '127.0.0.1', '-p', String(FEAST_PORT)],
        ...['--workers', String(WORKERS), '--max-requests', '0', '--no-access-log'],
      ],
      feastEnv,
      feastRepo,
    ).child;
    await waitReady(`http://127.0.0.1:${LARDER_PORT}/ready`, larderServer, 60);
    await larderStart.seen;
    await waitReady(`http://127.0.0.1:${FEAST_PORT}/health`, feastServer, 120);

    log('\n▶ sanity check');
    const agreement = await sanityCheck(users, products);
    log(JSON.stringify(agreement, null, 2));
    const grid = await gridCheck(users, products);
    log(JSON.stringify(grid, null, 2));

    log('\n▶ load');
    const rows: Row[] = [];
    for (const s of scenarios(users, products)) {
      const load = (port: number): Promise<Stats> =>
        drive({
          port,
          path: '/get-online-features',
          concurrency: CONCURRENCY,
          seconds: SECONDS,
          bodyOf: s.bodyOf,
        });
      await load(LARDER_PORT); // warm-up
      await load(FEAST_PORT);
      const l: Stats[] = [];
      const f: Stats[] = [];
      for (let r = 0; r < RUNS; r++) {
        sampleLoad();
        l.push(await load(LARDER_PORT));
        sampleLoad();
        f.push(await load(FEAST_PORT));
        sampleLoad();
        log(
          `  ${s.name} run ${r + 1}: Larder p50 ${f1(l[r]!.p50)} ms p99 ${f1(l[r]!.p99)} ms ${Math.round(l[r]!.rps)} req/s (${l[r]!.errors} errors) | Feast p50 ${f1(f[r]!.p50)} ms p99 ${f1(f[r]!.p99)} ms ${Math.round(f[r]!.rps)} req/s (${f[r]!.errors} errors)`,
        );
      }
      const med = (xs: Stats[]): Stats => {
        const o = {} as Record<keyof Stats, number>;
        for (const k of Object.keys(xs[0]!) as (keyof Stats)[]) o[k] = median(xs.map((x) => x[k]));
        return o as Stats;
      };
      rows.push({ scenario: s.name, larder: med(l), feast: med(f) });
    }
    await stopServer(larderServer);
    await stopServer(feastServer);

    log(`\n▶ point-in-time export, ${EXPORT_ROWS} entity rows (servers stopped)`);
    const lw: number[] = [];
    const lt: number[] = [];
    const fw: number[] = [];
    const ft: number[] = [];
    for (let r = 0; r < EXPORT_RUNS; r++) {
      sampleLoad();
      const a = larder([
        'export',
        ...['--features', 'recommendation_v1', '--entities', entitiesFile],
        ...['--out', join(CACHE, 'larder-pit.parquet'), '--json'],
      ]);
      lw.push(a.seconds);
      lt.push((JSON.parse(a.stdout) as { seconds: number }).seconds);
      const b = run(
        join(VENV, 'python'),
        [
          join(HERE, 'export_pit.py'),
          ...['--repo', feastRepo, '--entities', entitiesFile],
          ...['--out', join(CACHE, 'feast-pit.parquet')],
        ],
        { env: feastEnv },
      );
      fw.push(b.seconds);
      sampleLoad();
      const fj = JSON.parse(b.stdout.trim().split('\n').pop()!) as {
        seconds: number;
        rows: number;
      };
      ft.push(fj.seconds);
      log(
        `  run ${r + 1}: Larder ${a.seconds.toFixed(1)} s | Feast ${b.seconds.toFixed(1)} s (${fj.rows} rows)`,
      );
    }
    const exp = {
      larder: median(lw),
      larderTool: median(lt),
      feast: median(fw),
      feastTool: median(ft),
    };

    const out = table(m, rows, exp, agreement, grid, feastVersion);
    writeFileSync(
      join(CACHE, 'results.json'),
      JSON.stringify(
        { machine: m, end: END, rows, export: exp, agreement, grid, feastVersion },
        null,
        2,
      ),
    );
    process.stdout.write(`\n${out}\n`);
    if (process.env.WRITE_README !== '0') writeReadme(out);
  } finally {
    log('\n▶ cleanup');
    await stopServer(larderServer);
    await stopServer(feastServer);
    await redisCleanup();
  }
}

/** The features of each batch view of recommendation_v1, from the applied registry. */
function viewFeatures(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const view of ['user_activity', 'user_purchases', 'product_engagement', 'product_catalog']) {
    const d = JSON.parse(larder(['describe', view, '--json'], true).stdout) as {
      features?: Record<string, unknown> | { name: string }[];
      spec?: { features?: Record<string, unknown> | { name: string }[] };
    };
    const fs = d.features ?? d.spec?.features ?? {};
    out[view] = Array.isArray(fs) ? fs.map((x) => x.name) : Object.keys(fs);
  }
  return out;
}

await main();
