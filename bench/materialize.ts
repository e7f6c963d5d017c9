/**
 * Benchmark of materialization into Redis: every online view of the e-commerce repository,
 * from a generated history of N events (default 10M) ending today, loaded by the DuckDB store's
 * tiles into the Redis online store. Prints per-view and total tiles/s and feature rows/s (one
 * feature row = one feature's partial state in a tile, or one lifetime value), the time to the
 * first batch (reading and validating the raw files), and peak memory.
 *
 *   npm run bench:materialize -- --events 10000000
 *   npm run bench:materialize -- --events 1000000 --runs 3
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { genData } from '../examples/ecommerce/datagen/index.ts';
import { materialize } from '../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import { DAY_MS } from '../core/duration.ts';
import { loadRepository } from '../definitions/load.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '1' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/0' },
  },
});
const events = Number(values.events);
const end = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const root = resolve('.cache/bench', `materialize-${events}`);
const stamp = join(root, 'end.txt');
if (!existsSync(stamp) || Number(readFileSync(stamp, 'utf8')) !== end) {
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

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const repo = await loadRepository('examples/ecommerce/features');
const views = [...repo.featureViews.values()].map((v) => v.spec);
const featuresPerTile = (view: string, hopMs: number): number =>
  views.find((v) => v.name === view)!.features.filter((f) => f.hopMs === hopMs).length;

for (let run = 0; run < Number(values.runs); run++) {
  const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: root, home: root });
  const online = createOnlineStore(
    { type: 'redis', url: values.redis },
    { namespace: `bench-mat-${process.pid}-${run}`, views },
  );
  await Promise.all([offline.init(), online.init()]);
  const started = performance.now();
  let firstBatch = 0;
  const results = await materialize({
    repo,
    offline,
    online,
    end,
    onProgress: (p) => {
      if (!firstBatch && p.tiles + p.lifetime > 0) firstBatch = performance.now() - started;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  let tiles = 0;
  let lifetime = 0;
  let featureRows = 0;
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
    console.log(
      `  ${r.view.padEnd(20)} ${r.tiles.toLocaleString('en-US').padStart(10)} tiles ${r.lifetime.toLocaleString('en-US').padStart(8)} lifetime  ${r.seconds.toFixed(1)} s`,
    );
  }
  console.log(
    `run ${run + 1}: ${events.toLocaleString('en-US')} events → ${tiles.toLocaleString('en-US')} tiles + ${lifetime.toLocaleString('en-US')} lifetime in ${seconds.toFixed(1)} s: ` +
      `${Math.round((tiles + lifetime) / seconds).toLocaleString('en-US')} rows/s, ~${Math.round(featureRows / seconds).toLocaleString('en-US')} feature rows/s ` +
      `(first batch after ${(firstBatch / 1000).toFixed(1)} s) · peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
  );
  await online.teardown();
  await Promise.all([offline.close(), online.close()]);
}
clearInterval(sampler);
