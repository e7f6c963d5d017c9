/**
 * Exactly once in effect across kill -9 at chosen points of a batch: `larder stream` child
 * processes run with `LARDER_TEST_CRASH_AT=<point>:<n>` (config/test-crash.ts) and SIGKILL
 * themselves there, mid-stream, after writing a marker line; the test checks the marker and the
 * half-written state the kill left, restarts the worker, and compares every stored feature of
 * every user and product with the reference evaluator (no record lost or counted twice). On
 * Redis, on a Redis Cluster (per-slot checkpoints) and with the offline sink.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OnlineStoreConfig } from '../../config/config.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import type { Repository } from '../../definitions/repository.ts';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster.ts';
import { tempDir } from '../support/temp-repo.ts';
import {
  BROKERS,
  createTestTopics,
  expectReferenceValues,
  storedFeatures,
  history,
  kafka,
  killableSessionTimeoutMs,
  loadFeatures,
  produceHistory,
  REDIS_URL,
  waitConsumed,
  type History,
  type TestTopics,
} from './stream-fixture.ts';

// A worker killed with -9 holds its partitions until its session expires.
const sessionTimeoutMs = await killableSessionTimeoutMs();
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Worker {
  child: ChildProcess;
  stderr: () => string;
  /** `larder stream`'s JSON log lines (stdout). */
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(
  namespace: string,
  topics: TestTopics,
  opts: { store: string; crashAt?: string; dataDir?: string },
): Worker {
  const args = ['bin/larder.js', 'stream', '--max-batch', '150'];
  args.push('--session-timeout-ms', String(sessionTimeoutMs));
  if (opts.dataDir) args.push('--offline-sink');
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...topics.env,
      LARDER_NAMESPACE: namespace,
      LARDER_ONLINE_STORE: opts.store,
      KAFKA_BROKERS: BROKERS.join(','),
      LARDER_TEST_CRASH_AT: opts.crashAt ?? '',
      ...(opts.dataDir ? { LARDER_DATA_DIR: opts.dataDir } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/error/i.test(d.toString())) process.stderr.write(`[worker ${child.pid}] ${d.toString()}`);
  });
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      r({ code, signal });
    }),
  );
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

/** Runs a worker armed to crash at `point`:`n`; resolves once it has killed itself there. */
async function crashAt(
  namespace: string,
  topics: TestTopics,
  opts: { store: string; dataDir?: string },
  point: string,
  n: number,
): Promise<void> {
  const w = startWorker(namespace, topics, { ...opts, crashAt: `${point}:${n}` });
  const exit = await w.exited;
  expect(w.stderr()).toContain(`LARDER_TEST_CRASH ${point} ${n}`);
  expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
}

const storeUrl = (c: OnlineStoreConfig): string =>
  c.type === 'redis'
    ? c.url
    : c.type === 'redis-cluster'
      ? `redis-cluster://${c.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`
      : `sqlite:${c.path}`;

async function setup(
  config: OnlineStoreConfig,
  partitions: number,
  events: number,
  seed: number,
  /** Records per second produced while the worker runs; default: all produced before it starts. */
  rate?: number,
) {
  const repo = await loadFeatures();
  const topics = await createTestTopics(partitions);
  cleanups.push(topics.cleanup);
  const namespace = `test-${randomUUID()}`;
  const store = createOnlineStore(config, {
    namespace,
    views: [...repo.featureViews.values()].map((v) => v.spec),
  });
  await store.init();
  cleanups.push(async () => {
    await store.teardown();
    await store.close();
  });
  const h = history({ events, seed });
  // By default everything is in Kafka before the first worker starts: the n-th batch is
  // mid-stream.
  let produced = false;
  const pace = { hurry: false };
  const producing = produceHistory(topics, h, rate ?? 0, pace).then(() => void (produced = true));
  if (rate === undefined) await producing;
  const stillProducing = (): boolean => !produced;
  /** The rest of the history at once, from now on. */
  const hurry = (): void => void (pace.hurry = true);
  return {
    repo,
    topics,
    namespace,
    store,
    h,
    url: storeUrl(config),
    producing,
    stillProducing,
    hurry,
  };
}

/** Every stored feature of every user and product equals the reference; nothing pending. */
async function expectExact(
  repo: Repository,
  store: OnlineStore,
  namespace: string,
  topics: TestTopics,
  h: History,
): Promise<void> {
  await waitConsumed(store, `${namespace}-stream`, topics.all, 120_000);
  const features = storedFeatures(repo);
  const compared = await expectReferenceValues(repo, store, h);
  // One comparison per (entity row, feature): every entity was checked, not just "many".
  expect(compared).toBe(features.length * Math.max(h.users.length, h.products.length));
  for (const topic of topics.all)
    for (const c of await store.readCheckpoints(`${namespace}-stream`, topic))
      expect(c.pending, `${topic}[${c.partition}]`).toBeNull();
}

/** Partitions whose stored checkpoint carries a `pending` batch (per-slot stores). */
async function pendingPartitions(store: OnlineStore, group: string, topics: readonly string[]) {
  const out: string[] = [];
  for (const topic of topics)
    for (const c of await store.readCheckpoints(group, topic))
      if (c.pending !== null) out.push(`${topic}[${c.partition}]`);
  return out;
}

describe('stream worker: kill -9 at chosen points of a batch (Redis)', () => {
  const redis: OnlineStoreConfig = { type: 'redis', url: REDIS_URL };

  it('after the store write, before the Kafka offset: the restart skips the applied batch', async () => {
    const { repo, topics, namespace, store, h, url } = await setup(redis, 2, 6000, 21);
    await crashAt(namespace, topics, { store: url }, 'after-store-write', 4);
    // The store's checkpoints are ahead of the offsets committed to Kafka.
    const group = `${namespace}-stream`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      let ahead = 0;
      for (const topic of topics.all) {
        const committed = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        for (const c of await store.readCheckpoints(group, topic)) {
          const k = committed[0]!.partitions.find((p) => p.partition === c.partition);
          if (Number(k?.offset ?? -1) <= c.offset) ahead++;
        }
      }
      expect(ahead).toBeGreaterThan(0);
    } finally {
      await admin.disconnect();
    }
    startWorker(namespace, topics, { store: url });
    await expectExact(repo, store, namespace, topics, h);
  }, 180_000);

  it('offline sink: killed between the file append and the checkpoint, each record is once in the sink', async () => {
    const data = tempDir();
    cleanups.push(data.cleanup);
    const { repo, topics, namespace, store, h, url } = await setup(redis, 2, 6000, 22);
    await crashAt(namespace, topics, { store: url, dataDir: data.dir }, 'after-sink-append', 4);
    // The kill left sink lines that no stored checkpoint covers.
    const group = `${namespace}-stream`;
    const stored = new Map<string, number>();
    for (const [source, topic] of [
      ['user_events', topics.user_events],
      ['transactions', topics.transactions],
    ] as const)
      for (const c of await store.readCheckpoints(group, topic))
        stored.set(`${source}/${c.partition}`, c.offset);
    const uncovered = sidecars(data.dir).filter(
      (s) => s.lastOffset > (stored.get(`${s.source}/${s.partition}`) ?? -1),
    );
    expect(uncovered.length).toBeGreaterThan(0);

    startWorker(namespace, topics, { store: url, dataDir: data.dir });
    await expectExact(repo, store, namespace, topics, h);
    const ids = sinkRecords(data.dir);
    const want = [
      ...h.events.map((e) => `user_events:${String(e.eventId)}`),
      ...h.transactions.map((t) => `transactions:${String(t.transactionId)}`),
    ];
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(repeated).toEqual([]);
    expect(ids.sort()).toEqual(want.sort());
  }, 180_000);

  it('SIGTERM mid-stream: finishes the batch in hand, checkpoints, exits 0; a restart continues exactly', async () => {
    const { repo, topics, namespace, store, h, url, producing, stillProducing, hurry } =
      await setup(
        redis,
        2,
        6_000,
        34,
        400, // 15 s of production: the worker starts and applies batches while it goes on
      );
    const worker = startWorker(namespace, topics, { store: url });
    // Mid-stream: some batches applied while records are still being produced.
    await waitForCheckpoint(store, `${namespace}-stream`, topics.all);
    expect(stillProducing()).toBe(true);
    worker.child.kill('SIGTERM');
    // The rest of the history arrives at once while the worker stops (not over 15 s).
    hurry();
    expect((await worker.exited).code).toBe(0);
    const logs = worker
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string });
    expect(logs.map((l) => l.msg)).toContain('stream worker stopped');
    startWorker(namespace, topics, { store: url });
    await producing;
    await expectExact(repo, store, namespace, topics, h);
  }, 180_000);

  it('two workers on 6 partitions, one killed after a store write: every entity exact', async () => {
    const { repo, topics, namespace, store, h, url } = await setup(redis, 6, 10_000, 33);
    const a = startWorker(namespace, topics, { store: url, crashAt: 'after-store-write:5' });
    // B joins once A is consuming: A then holds partitions with ~60 batches of work left, so it
    // reaches its 5th store write (before or after the rebalance). Started together, B could
    // take every partition first and leave A idle, never crashing.
    await waitForCheckpoint(store, `${namespace}-stream`, topics.all);
    startWorker(namespace, topics, { store: url });
    expect((await a.exited).signal).toBe('SIGKILL');
    expect(a.stderr()).toContain('LARDER_TEST_CRASH after-store-write 5');
    await expectExact(repo, store, namespace, topics, h);
  }, 180_000);
});

describe('stream worker: kill -9 at chosen points of a batch (Redis Cluster, per-slot checkpoints)', () => {
  let cluster: LocalRedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  for (const point of ['after-pending-mark', 'after-slot-scripts'] as const) {
    it(`${point}: the batch is left pending; the restart completes it exactly once`, async () => {
      const { repo, topics, namespace, store, h, url } = await setup(
        { type: 'redis-cluster', nodes: cluster.nodes },
        2,
        6000,
        point === 'after-pending-mark' ? 41 : 42,
      );
      await crashAt(namespace, topics, { store: url }, point, 4);
      expect(await pendingPartitions(store, `${namespace}-stream`, topics.all)).toHaveLength(1);
      startWorker(namespace, topics, { store: url });
      await expectExact(repo, store, namespace, topics, h);
    }, 180_000);
  }
});

/** Resolves once some partition has a stored checkpoint (the worker is mid-stream). */
async function waitForCheckpoint(store: OnlineStore, group: string, topics: readonly string[]) {
  const end = Date.now() + 60_000;
  for (;;) {
    for (const t of topics) if ((await store.readCheckpoints(group, t)).length > 0) return;
    if (Date.now() > end) throw new Error('no checkpoint within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every `stream-*.jsonl` file of the sink, recursively. */
function sinkFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /(^|\/)stream-\d+-[\d-]+\.jsonl$/.test(f))
    .map((f) => join(dir, f));
}

/** The sink's sidecar entries: source (`user_events`/`transactions`), partition, last offset. */
function sidecars(dir: string) {
  return sinkFiles(dir).flatMap((file) => {
    const source = file.includes('transactions') ? 'transactions' : 'user_events';
    const partition = Number(/stream-(\d+)-/.exec(file)![1]);
    return readFileSync(`${file}.offsets`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ source, partition, lastOffset: Number(l.split(' ')[0]) }));
  });
}

/** `<source>:<id>` of every record line in the sink files. */
function sinkRecords(dir: string): string[] {
  return sinkFiles(dir).flatMap((file) => {
    const source = file.includes('transactions') ? 'transactions' : 'user_events';
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const r = JSON.parse(l) as { eventId?: string; transactionId?: string };
        return `${source}:${String(source === 'transactions' ? r.transactionId : r.eventId)}`;
      });
  });
}
