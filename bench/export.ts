/**
 * Benchmark of the point-in-time export: `recommendation_v1` (`--service` another) for N (user_id, product_id,
 * event_timestamp) rows over a generated history of M events, written to Parquet by the
 * embedded DuckDB store. Prints end-to-end rows/s and peak memory (RSS sampled every 50 ms and
 * the kernel's high-water mark `VmHWM`, which includes DuckDB's native allocations) per run,
 * then the median run. Each run is a fresh process (this script with `--child`), as a `larder
 * export` would be: nothing warmed up by an earlier run; the clock starts when the store is
 * created, after the repository is loaded.
 *
 * The data is generated once into `.cache/bench/export-<events>/` (JSON Lines, seed 42) and
 * reused; the entity file is regenerated per run size (deterministic). First comes the **first
 * run**: every cache deleted (the validated-Parquet cache of the raw files and the sweep's index
 * cache), as a first `larder export` over new data; it is reported on its own (`first`, skip it
 * with `--skip-first`). Then the `--runs` cached runs keep both caches, unless `--cold` deletes
 * the index cache before each (then each run scans and sorts the events). `--engine sql` measures the SQL window engine instead; `--compact` the zstd-rewritten
 * Parquet output (`compactParquet`). `--dir` puts `export-<events>/` elsewhere than `.cache/bench`
 * (e.g. a private copy whose `raw/` links to the shared data, with its own caches).
 *
 * @example
 * npm run bench:export -- --events 1000000 --rows 100000
 * npm run bench:export                      # 10M events, 1M rows, warm index, 3 runs
 * npm run bench:export -- --cold            # every cached run builds the index again
 * npm run bench:export -- --skip-first      # only the cached runs
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { genData } from '../examples/ecommerce/datagen/index.ts';
import { pad, idWidth } from '../examples/ecommerce/datagen/ids.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import { DuckDBClient, sqlString } from '../offline/local/duckdb-client.ts';
import { loadRepository } from '../definitions/load.ts';
import { ThreadCpu } from './thread-cpu.ts';

const END = Date.UTC(2024, 5, 1);
const DAYS = 30;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    rows: { type: 'string', default: '1000000' },
    memory: { type: 'string', default: '3GB' },
    format: { type: 'string', default: 'parquet' },
    runs: { type: 'string', default: '3' },
    cold: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'sweep' },
    child: { type: 'boolean', default: false },
    compact: { type: 'boolean', default: false },
    'skip-first': { type: 'boolean', default: false },
    /** The feature service exported (recommendation_v2: lists, sessions, the user × product view). */
    service: { type: 'string', default: 'recommendation_v1' },
    /** The folder holding `export-<events>/` (data, entity files, caches, output). */
    dir: { type: 'string', default: '.cache/bench' },
    /** Each run also prints its CPU per thread and phase on stderr (`thread-cpu.ts`). */
    threads: { type: 'boolean', default: false },
    /** Internal (children): delete every cache before this run. */
    uncached: { type: 'boolean', default: false },
  },
});
if (values.engine !== 'sweep' && values.engine !== 'sql')
  throw new Error(`--engine must be sweep or sql, got ${values.engine}`);
const engine: 'sweep' | 'sql' = values.engine;
const events = Number(values.events);
const rows = Number(values.rows);
const root = resolve(values.dir, `export-${events}`);
const users = Math.max(10, Math.round(events / 100));
const products = Math.max(10, Math.round(events / 500));

/** Deterministic 32-bit PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function ensureData(): Promise<void> {
  const marker = join(root, 'done.json');
  if (existsSync(marker)) return;
  rmSync(join(root, 'raw'), { recursive: true, force: true });
  const t0 = performance.now();
  const s = await genData({
    users,
    products,
    days: DAYS,
    events,
    seed: 42,
    end: END,
    outDir: root,
    format: 'jsonl',
  });
  writeFileSync(marker, JSON.stringify({ events: s.events, transactions: s.transactions }));
  console.error(
    `generated ${s.events} events, ${s.transactions} transactions in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
}

function entityFile(): string {
  const path = join(root, `entities-${rows}.csv`);
  if (existsSync(path)) return path;
  const r = rng(7);
  const uw = idWidth(users, 5);
  const pw = idWidth(products, 5);
  const start = END - DAYS * 86_400_000;
  const lines = ['user_id,product_id,event_timestamp'];
  for (let i = 0; i < rows; i++) {
    const u = `u${pad(Math.floor(r() * users), uw)}`;
    const p = `p${pad(Math.floor(r() * products), pw)}`;
    lines.push(`${u},${p},${start + Math.floor(r() * (END - start))}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

const vmHwm = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

interface RunResult {
  seconds: number;
  rowsPerSecond: number;
  /** CPU time of all the process's threads (user + system) during the run. */
  cpuSeconds: number;
  peakRssMB: number;
  phases: string;
  rows: number;
  rejects: number;
  /** The run's process's peak resident memory (kernel VmHWM, includes DuckDB's allocations). */
  vmHwmMB?: number;
}

async function run(entities: string): Promise<RunResult> {
  const repo = await loadRepository('examples/ecommerce/features');
  const features = repo.resolveFeatures({ service: values.service });
  const home = join(root, 'home');
  if (values.uncached) rmSync(join(home, 'offline-cache'), { recursive: true, force: true });
  else if (values.cold) {
    const caches = join(home, 'offline-cache');
    for (const name of existsSync(caches) ? readdirSync(caches) : [])
      if (/^sweep-v\d+$/.test(name)) rmSync(join(caches, name), { recursive: true, force: true });
  }
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir: root,
    home,
    memoryLimit: values.memory,
    engine,
    compactParquet: values.compact,
    // Statement and sweep timings on stderr, as a `larder export` reads them from the environment.
    trace: {
      sql:
        process.env.LARDER_TRACE_SQL === '1'
          ? process.env.LARDER_TRACE_SQL_FULL === '1'
            ? 'full'
            : 'statements'
          : 'off',
      sweep: process.env.SWEEP_TRACE === '1',
    },
  });
  let peakRss = process.memoryUsage().rss;
  const poll = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const phases: string[] = [];
  let lastPhase = '';
  // The previous run's output is removed first: an export normally writes a new file, and
  // replacing an 80 MB one costs its deletion (~40 ms) on top.
  const out = join(root, `out-${rows}.${values.format}`);
  rmSync(out, { force: true });
  const threads = values.threads ? ThreadCpu.start() : null;
  // The sampler's first sample: before the run starts.
  if (threads) await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  threads?.mark('start');
  let lastMark = '';
  let aggregating = 0;
  try {
    await store.init();
    const summary = await store.exportPointInTime({
      repo,
      features,
      entities: { type: 'file', path: entities },
      out: { type: 'file', path: out },
      onProgress: (p) => {
        // Sub-phases: each pass swept (its progress) while aggregating.
        const mark = p.phase === 'aggregating' ? `aggregating #${++aggregating}` : p.phase;
        if (threads && mark !== lastMark) threads.mark(mark);
        lastMark = mark;
        if (p.phase !== lastPhase) {
          {
            const c = process.cpuUsage(cpu0);
            phases.push(
              `${p.phase}@${p.elapsedSeconds.toFixed(1)}s/${((c.user + c.system) / 1e6).toFixed(2)}cpu`,
            );
          }
          lastPhase = p.phase;
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    return {
      rows: summary.rows,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSecond: Math.round(summary.rows / seconds),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
      peakRssMB: Math.round(peakRss / 2 ** 20),
      rejects: summary.rejects.reduce((n, r) => n + r.count, 0),
      phases: phases.join(' '),
    };
  } finally {
    clearInterval(poll);
    if (threads) console.error(await threads.stop());
    await store.close();
  }
}

/**
 * The physical anchor of a first run: DuckDB reading every line of the raw JSON Lines files
 * (`read_json_auto`, every column materialized), on the store's memory limit, in seconds.
 */
async function duckdbScan(): Promise<{ seconds: number; cpuSeconds: number }> {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (name.endsWith('.jsonl')) files.push(p);
      else if (!name.includes('.')) walk(p);
    }
  };
  walk(join(root, 'raw'));
  const client = await DuckDBClient.open({ memory_limit: values.memory });
  try {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    // One file group per source (their columns differ).
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      const list = files
        .filter((f) => dirname(f) === dir)
        .map(sqlString)
        .join(', ');
      await client.all(`SELECT count(*), count(COLUMNS(*)) FROM read_json_auto([${list}])`);
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    };
  } finally {
    client.close();
  }
}

/** One run in a fresh process (this script with `--child`), as a CLI export would run. */
function runChild(uncached = false): RunResult {
  const args = [
    ...process.argv.slice(2).filter((a) => a !== '--child'),
    ...(uncached ? ['--uncached'] : []),
  ];
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...args, '--child'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  if (child.status !== 0) throw new Error(`benchmark run failed (exit ${child.status})`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as RunResult;
}

async function main(): Promise<void> {
  mkdirSync(root, { recursive: true });
  await ensureData();
  const entities = entityFile();
  if (values.child) {
    const r = await run(entities);
    console.log(JSON.stringify({ ...r, vmHwmMB: Math.round(vmHwm() / 2 ** 20) }));
    return;
  }
  let first: RunResult | null = null;
  let scan: { seconds: number; cpuSeconds: number } | null = null;
  if (!values['skip-first']) {
    scan = await duckdbScan();
    console.error(
      `DuckDB's own scan of the raw files (read_json_auto, every column): ${scan.seconds}s, cpu ${scan.cpuSeconds}s`,
    );
    first = runChild(true);
    console.error(`first run (nothing cached): ${JSON.stringify(first)}`);
  }
  const results: RunResult[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const r = runChild();
    results.push(r);
    console.error(`run ${i + 1}: ${JSON.stringify(r)}`);
  }
  if (results.length === 0) {
    // `--runs 0`: the first run alone (its phases above), no cached run to compare with.
    console.log(JSON.stringify({ events, engine, runs: 0, first, duckdbScan: scan }));
    return;
  }
  const median = [...results].sort((a, b) => a.seconds - b.seconds)[
    Math.floor(results.length / 2)
  ]!;
  console.log(
    JSON.stringify({
      events,
      rows: median.rows,
      engine,
      index: values.cold ? 'cold' : 'warm',
      compact: values.compact,
      runs: results.length,
      medianSeconds: median.seconds,
      rowsPerSecond: median.rowsPerSecond,
      secondsPerRun: results.map((r) => r.seconds),
      cpuSecondsPerRun: results.map((r) => r.cpuSeconds),
      peakRssMB: Math.max(...results.map((r) => r.peakRssMB)),
      vmHwmMB: Math.max(...results.map((r) => r.vmHwmMB ?? 0)),
      rejects: median.rejects,
      phases: median.phases,
      ...(first
        ? {
            first: {
              seconds: first.seconds,
              rowsPerSecond: first.rowsPerSecond,
              cpuSeconds: first.cpuSeconds,
              peakRssMB: first.peakRssMB,
              vmHwmMB: first.vmHwmMB,
              phases: first.phases,
              extraSeconds: Number((first.seconds - median.seconds).toFixed(2)),
              duckdbScan: scan,
              // The target: a first run's extra time within 4× DuckDB's own scan.
              extraOverScan: Number(((first.seconds - median.seconds) / scan!.seconds).toFixed(1)),
            },
          }
        : {}),
    }),
  );
}

await main();
