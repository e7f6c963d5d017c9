/**
 * Benchmark of materialization into Redis: every online view of the e-commerce repository,
 * from a generated history of N events (default 10M) ending today, loaded by the DuckDB store's
 * tiles into the Redis online store. Prints per-view and total tiles/s and feature rows/s (one
 * feature row = one feature's partial state in a tile, or one lifetime value), the time to the
 * first batch (reading and validating the raw files), and peak memory (RSS sampled every 50 ms
 * and the kernel's high-water mark `VmHWM`, which includes DuckDB's native allocations).
 *
 * Each run is a fresh process (this script with `--child`), as a `larder materialize` would be.
 * The **first run** starts with the validated-Parquet cache of the raw files deleted (a first
 * materialization over new data) and is reported on its own; the `--runs` cached runs follow
 * (`--skip-first`: only those).
 *
 *   npm run bench:materialize -- --events 10000000
 *   npm run bench:materialize -- --events 1000000 --runs 3
 *   npm run bench:materialize -- --events 1000000 --dir /tmp/mat   (data and caches elsewhere)
 *   npm run bench:materialize -- --events 1000000 --workers 2 --threads   (views on 2 worker
 *     threads; CPU per OS thread and the bound on 2 idle cores, `bench/thread-cpu.ts`)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { genData } from '../examples/ecommerce/datagen/index.ts';
import { materialize } from '../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import { DAY_MS } from '../core/duration.ts';
import { loadRepository } from '../definitions/load.ts';
import { resolveConfig } from '../config/config.ts';
import { ThreadCpu } from './thread-cpu.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '1' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/0' },
    /** Where the generated history and the offline store's caches go (default `.cache/bench`). */
    dir: { type: 'string', default: '.cache/bench' },
    'skip-first': { type: 'boolean', default: false },
    /** Worker threads computing and writing views (`materialize`'s `workers`; 1: the views in turn). */
    workers: { type: 'string', default: '1' },
    /** CPU per OS thread of each run and its bound on 2 idle cores (stderr). */
    threads: { type: 'boolean', default: false },
    /** Internal: one run in this process (`uncached`: every cache deleted first). */
    child: { type: 'boolean', default: false },
    uncached: { type: 'boolean', default: false },
  },
});
const events = Number(values.events);
const end = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const root = resolve(values.dir, `materialize-${events}`);
const stamp = join(root, 'end.txt');
if (!values.child && (!existsSync(stamp) || Number(readFileSync(stamp, 'utf8')) !== end)) {
  mkdirSync(root, { recursive: true });
  process.stderr.write(
    `generating ${events.toLocaleString('en-US')} events ending ${new Date(end).toISOString()}…\n`,
  );
  await genData({
    users: Math.max(10, Math.round(events / 100)),
    products: Math.max(10, Math.round(events / 500)),
    days: 30,
    events,
    seed: 42,
    end,
    outDir: root,
    format: 'jsonl',
  });
  writeFileSync(stamp, String(end));
}

interface RunResult {
  seconds: number;
  tiles: number;
  lifetime: number;
  rowsPerSecond: number;
  featureRowsPerSecond: number;
  firstBatchSeconds: number;
  cpuSeconds: number;
  peakRssMB: number;
  vmHwmMB: number;
  views: string[];
}

const vmHwm = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

/** One materialization of every online view, in this process. */
async function run(): Promise<RunResult> {
  if (values.uncached) rmSync(join(root, 'offline-cache'), { recursive: true, force: true });
  let peakRss = process.memoryUsage.rss();
  // `memoryUsage.rss()`: the same figure without the heap statistics `memoryUsage()` gathers on
  // each call (0.5 s of the main thread in a profile of a 1M-event run, load 19).
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const repo = await loadRepository('examples/ecommerce/features');
  const views = [...repo.featureViews.values()].map((v) => v.spec);
  const featuresPerTile = (view: string, hopMs: number): number =>
    views.find((v) => v.name === view)!.features.filter((f) => f.hopMs === hopMs).length;
  const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: root, home: root });
  const namespace = `bench-mat-${process.pid}`;
  const online = createOnlineStore({ type: 'redis', url: values.redis }, { namespace, views });
  await Promise.all([offline.init(), online.init()]);
  const workers = Number(values.workers);
  const config = resolveConfig(
    {
      repo: 'examples/ecommerce/features',
      home: root,
      dataDir: root,
      namespace,
      onlineStore: { type: 'redis', url: values.redis },
    },
    process.cwd(),
    {},
  );
  const threads = values.threads ? ThreadCpu.start() : null;
  threads?.mark(`materialize (${workers} worker${workers === 1 ? '' : 's'})`);
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let firstBatch = 0;
  try {
    const results = await materialize({
      repo,
      offline,
      online,
      end,
      ...(workers > 1 ? { workers: { count: workers, repo: config.repo, config } } : {}),
      onProgress: (p) => {
        if (!firstBatch && p.tiles + p.lifetime > 0) firstBatch = performance.now() - started;
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpu0);
    let tiles = 0;
    let lifetime = 0;
    let featureRows = 0;
    const lines: string[] = [];
    for (const r of results) {
      tiles += r.tiles;
      lifetime += r.lifetime;
      const v = views.find((x) => x.name === r.view)!;
      const hops = [
        ...new Set(v.features.map((f) => f.hopMs).filter((h): h is number => h !== null)),
      ];
      // Tiles of a view are written per hop size; count feature states by each hop's share.
      const perTile = hops.length
        ? hops.reduce((n, h) => n + featuresPerTile(v.name, h), 0) / hops.length
        : 0;
      featureRows +=
        Math.round(r.tiles * perTile) +
        r.lifetime * v.features.filter((f) => f.windowMs === null).length;
      lines.push(
        `  ${r.view.padEnd(20)} ${r.tiles.toLocaleString('en-US').padStart(10)} tiles ${r.lifetime.toLocaleString('en-US').padStart(8)} lifetime  ${r.seconds.toFixed(1)} s`,
      );
    }
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if (threads) process.stderr.write(`${await threads.stop()}\n`);
    return {
      seconds: Number(seconds.toFixed(2)),
      tiles,
      lifetime,
      rowsPerSecond: Math.round((tiles + lifetime) / seconds),
      featureRowsPerSecond: Math.round(featureRows / seconds),
      firstBatchSeconds: Number((firstBatch / 1000).toFixed(2)),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      peakRssMB: Math.round(peakRss / 2 ** 20),
      vmHwmMB: Math.round(vmHwm() / 2 ** 20),
      views: lines,
    };
  } finally {
    clearInterval(sampler);
    await online.teardown();
    await Promise.all([offline.close(), online.close()]);
  }
}

/** One run in a fresh process (this script with `--child`). */
function runChild(uncached: boolean): RunResult {
  const args = [...process.argv.slice(2), '--child', ...(uncached ? ['--uncached'] : [])];
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  if (child.status !== 0) throw new Error(`benchmark run failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as RunResult;
}

const summary = (label: string, r: RunResult): string =>
  `${label}: ${events.toLocaleString('en-US')} events → ${r.tiles.toLocaleString('en-US')} tiles + ${r.lifetime.toLocaleString('en-US')} lifetime in ${r.seconds.toFixed(1)} s: ` +
  `${r.rowsPerSecond.toLocaleString('en-US')} rows/s, ~${r.featureRowsPerSecond.toLocaleString('en-US')} feature rows/s ` +
  `(first batch after ${r.firstBatchSeconds.toFixed(1)} s; cpu ${r.cpuSeconds.toFixed(1)} s) · peak RSS ${r.peakRssMB} MiB, VmHWM ${r.vmHwmMB} MiB`;

if (values.child) {
  console.log(JSON.stringify(await run()));
} else {
  if (!values['skip-first']) {
    const r = runChild(true);
    console.log(r.views.join('\n'));
    console.log(summary('first run (nothing cached)', r));
  }
  for (let i = 0; i < Number(values.runs); i++) {
    const r = runChild(false);
    console.log(r.views.join('\n'));
    console.log(summary(`cached run ${i + 1}`, r));
  }
}
