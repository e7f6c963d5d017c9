/**
 * CPU and bytes allocated per online read, A/B of two source trees in ONE process (a paired
 * comparison that a loaded machine disturbs less than runs in turn): both trees' `larder`
 * modules are imported side by side, over one SQLite store file (or, with STORE=redis, one
 * private Redis namespace, deleted at the end) materialized once (gen-data
 * history as `bench/read-garbage.ts`), and `getOnlineFeatures` of one row is called in
 * alternating blocks (A B B A …), CPU from `process.cpuUsage` (ROWS=100: a request of 1 user × 100
 * products instead, the products drawn as the one-row requests draw theirs). First it checks that both trees
 * answer the same JSON for 2,000 requests. Prints the medians per block, the median of the paired
 * ratios B / A and in how many pairs B was lower, and the median heap growth per request over
 * batches of 20 that saw no collection. OWN_STORES=1: each tree materializes the same history
 * into a store of its own (a namespace, or a file, per tree), for changes of the stored format.
 * With STORE=redis also the server's own time per read: redis-server's CPU (`INFO cpu`, user +
 * system, per block: meaningful on a Redis of one's own, `REDIS_URL`) and the paired ratio of
 * the sums (process + redis-server), and `INFO commandstats`'s µs per `evalsha` over each
 * block (when each read is one script call), from the blocks in which no other client called a
 * script (the calls counted equal the block's). USERS, PRODUCTS, DAYS shape the history
 * (`bench:peers`' data: 1000, 500, 7 with EVENTS=300000).
 *
 *   A=/work/main B=. npx tsx bench/read-ab.ts   # env (defaults): SERVICE=recommendation_v1
 *                                              #   BLOCKS=20 PER=1000 EVENTS=100000
 *                                              #   STORE=sqlite (or redis: REDIS_URL,
 *                                              #   default redis://127.0.0.1:6379/0)
 *                                              #   OWN_STORES=0 ROWS=1 USERS=2000
 *                                              #   PRODUCTS=1000 DAYS=30
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Catalog } from '../examples/ecommerce/datagen/catalog.ts';
import { genData } from '../examples/ecommerce/datagen/index.ts';
import { idWidth, pad } from '../examples/ecommerce/datagen/ids.ts';
import { Rng } from '../examples/ecommerce/datagen/rng.ts';
import { materialize } from '../materialize/materialize.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import type { Repository } from '../definitions/repository.ts';
import type { OnlineStore } from '../online/online-store.ts';
import type { getOnlineFeatures as GetOnlineFeatures } from '../retrieval/index.ts';
import type * as Load from '../definitions/load.ts';
import type * as CreateOnlineStore from '../online/create-online-store.ts';
import type * as Retrieval from '../retrieval/index.ts';

const env = process.env;
const here = resolve(import.meta.dirname, '..');
const A = resolve(env.A ?? here);
const B = resolve(env.B ?? here);
const BLOCKS = Number(env.BLOCKS ?? 20);
const PER = Number(env.PER ?? 1000);
const SERVICE = env.SERVICE ?? 'recommendation_v1';
const ROWS = Number(env.ROWS ?? 1);
const USERS = Number(env.USERS ?? 2000);
const PRODUCTS = Number(env.PRODUCTS ?? 1000);
const DAYS = Number(env.DAYS ?? 30);
const SEED = 42;
const DAY_MS = 86_400_000;
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const dir = mkdtempSync(join(tmpdir(), 'larder-read-ab-'));
const namespace = `readab${process.pid}`;

interface Tree {
  repo: Repository;
  store: OnlineStore;
  get: typeof GetOnlineFeatures;
}

const OWN = env.OWN_STORES === '1';

async function tree(root: string, name: string): Promise<Tree> {
  const load = (await import(join(root, 'definitions/load.ts'))) as typeof Load;
  const online = (await import(
    join(root, 'online/create-online-store.ts')
  )) as typeof CreateOnlineStore;
  const retrieval = (await import(join(root, 'retrieval/index.ts'))) as typeof Retrieval;
  const repo = await load.loadRepository(join(root, 'examples/ecommerce/features'));
  const views = [...repo.featureViews.values()].map((v) => v.spec);
  const store = online.createOnlineStore(
    env.STORE === 'redis'
      ? { type: 'redis', url: env.REDIS_URL ?? 'redis://127.0.0.1:6379/0' }
      : { type: 'sqlite', path: join(dir, `online${name}.db`) },
    { namespace: `${namespace}${name}`, views },
  );
  await store.init();
  return { repo, store, get: retrieval.getOnlineFeatures };
}

const teardowns: (() => Promise<void>)[] = [];
try {
  const b = await tree(B, OWN ? 'b' : '');
  teardowns.push(() => b.store.teardown());
  const data = join(dir, 'data');
  await genData({
    users: USERS,
    products: PRODUCTS,
    days: DAYS,
    events: Number(env.EVENTS ?? 100_000),
    seed: SEED,
    end: NOW,
    outDir: data,
    format: 'jsonl',
  });
  const offline = new DuckDBOfflineStore({ type: 'duckdb', dataDir: data, home: data });
  await offline.init();
  const load = (x: Tree) =>
    materialize({
      repo: x.repo,
      offline,
      online: x.store,
      end: NOW,
      start: () => NOW - 120 * DAY_MS,
    });
  await load(b);
  const a = await tree(A, OWN ? 'a' : '');
  if (OWN) {
    teardowns.push(() => a.store.teardown());
    await load(a);
  }

  const catalog = new Catalog(SEED, PRODUCTS);
  const rng = new Rng(7);
  const rows = Array.from({ length: 2000 }, () => ({
    user: `u${pad(rng.int(USERS), idWidth(USERS, 5))}`,
    product: catalog.productId(catalog.samplePopular(rng)),
  }));
  const t = Date.now();
  const read = (x: Tree, i: number) => {
    const row = rows[i % rows.length]!;
    const products =
      ROWS === 1
        ? [row.product]
        : Array.from({ length: ROWS }, (_, k) => rows[(i + k) % rows.length]!.product);
    return x.get(
      { repo: x.repo, store: x.store, maxEntityRows: 1000 },
      {
        ref: { service: SERVICE },
        entities: { user_id: products.map(() => row.user), product_id: products },
        fullFeatureNames: false,
        t,
      },
    );
  };

  let differ = 0;
  for (let i = 0; i < rows.length; i++)
    if (JSON.stringify(await read(a, i)) !== JSON.stringify(await read(b, i))) differ++;
  console.log(`${differ} of ${rows.length} requests answered differently by A and B`);

  const redis =
    env.STORE === 'redis' ? new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379/0') : null;
  /** The server's `evalsha` calls and µs so far. */
  const evalsha = async (): Promise<{ calls: number; usec: number }> => {
    const m = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(await redis!.info('commandstats'));
    return { calls: Number(m?.[1] ?? NaN), usec: Number(m?.[2] ?? NaN) };
  };
  /** redis-server's CPU seconds so far (`INFO cpu`: the work of every client of that Redis). */
  const redisCpu = async (): Promise<number> => {
    const s = await redis!.info('cpu');
    const user = /used_cpu_user:([\d.]+)/.exec(s);
    const sys = /used_cpu_sys:([\d.]+)/.exec(s);
    return Number(user?.[1] ?? NaN) + Number(sys?.[1] ?? NaN);
  };
  const serverCpu = { A: [] as number[], B: [] as number[] };
  const cpu = { A: [] as number[], B: [] as number[] };
  const bytes = { A: [] as number[], B: [] as number[] };
  const server = { A: [] as number[], B: [] as number[] };
  for (let k = 0; k < BLOCKS * 2; k++) {
    const which = (k >> 1) % 2 === k % 2 ? 'A' : 'B'; // A B B A A B B A …
    const x = which === 'A' ? a : b;
    const s0 = redis ? await evalsha() : null;
    const r0 = redis ? await redisCpu() : 0;
    const c0 = process.cpuUsage();
    for (let i = 0; i < PER; i++) await read(x, k * PER + i);
    const c = process.cpuUsage(c0);
    cpu[which].push((c.user + c.system) / PER);
    if (s0) {
      serverCpu[which].push((((await redisCpu()) - r0) * 1e6) / PER);
      const s1 = await evalsha();
      if (s1.calls - s0.calls === PER) server[which].push((s1.usec - s0.usec) / PER);
    }
    for (let j = 0; j < 10; j++) {
      const h0 = process.memoryUsage().heapUsed;
      for (let i = 0; i < 20; i++) await read(x, i * 7 + j);
      const h1 = process.memoryUsage().heapUsed;
      if (h1 > h0) bytes[which].push((h1 - h0) / 20);
    }
  }
  const median = (v: number[]): number => [...v].sort((p, q) => p - q)[v.length >> 1] ?? NaN;
  const ratios = cpu.B.map((v, i) => v / cpu.A[i]!);
  console.log(
    `${SERVICE}, ${ROWS === 1 ? 'one row' : `${ROWS} rows`}: A ${median(cpu.A).toFixed(1)} µs CPU, B ${median(cpu.B).toFixed(1)} µs; ` +
      `paired B / A ${median(ratios).toFixed(3)}, B lower in ${ratios.filter((r) => r < 1).length}/${ratios.length}; ` +
      `bytes allocated A ${Math.round(median(bytes.A))}, B ${Math.round(median(bytes.B))}` +
      (redis
        ? `; redis-server CPU µs per read (INFO cpu) A ${median(serverCpu.A).toFixed(1)}, B ${median(serverCpu.B).toFixed(1)}, ` +
          `sums paired B / A ${median(cpu.B.map((v, i) => (v + serverCpu.B[i]!) / (cpu.A[i]! + serverCpu.A[i]!))).toFixed(3)}; ` +
          `Redis µs per script call A ${median(server.A).toFixed(1)}, B ${median(server.B).toFixed(1)} ` +
          `(${server.A.length} + ${server.B.length} blocks without other scripts)`
        : ''),
  );
  redis?.disconnect();
  for (const t of teardowns.splice(0)) await t();
  await a.store.close();
  await b.store.close();
} finally {
  for (const t of teardowns) await t();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
