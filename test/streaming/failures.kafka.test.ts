/**
 * How the stream worker treats failures while applying a batch (real Kafka, real Redis; faults
 * are injected by wrapping the store): a permanent one is narrowed down to the records at fault,
 * which go to the DLQ while the records around them are applied exactly once; a transient one
 * (a Redis of the test's own, stopped and restarted) is retried with backoff, visible on
 * `/metrics` and `/ready`, and loses nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore, StreamBatch } from '../../online/online-store.ts';
import { LarderError } from '../../core/errors.ts';
import { inspectDlq } from '../../streaming/dlq-tools.ts';
import { serveStreamMetrics } from '../../streaming/stream-metrics.ts';
import { userEventRecord } from '../support/records.ts';
import {
  BROKERS,
  createTestTopics,
  expectReferenceValues,
  kafka,
  killableSessionTimeoutMs,
  loadFeatures,
  openTestStore,
  REDIS_URL,
  startTestWorker,
  waitConsumed,
  type History,
} from './stream-fixture.ts';
import { freePort } from '../support/wait.ts';

const cleanups: (() => Promise<void>)[] = [];

/** Resolves once `cond()` holds (running `step` between checks); fails after 20 s. */
async function waitFor(
  cond: () => boolean,
  what: string,
  step: () => Promise<void> = async () => undefined,
): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    await step();
    if (cond()) return;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T = Date.now() - 10 * 60_000;

/** A throw-away redis-server (no persistence) on `port`, answering PING. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await waitFor(
      () => probe.status === 'ready',
      `redis-server on ${port}`,
      async () => {
        if (probe.status !== 'ready' && probe.status !== 'connecting')
          await probe.connect().catch(() => undefined);
      },
    );
  } finally {
    probe.disconnect();
  }
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGKILL');
  await exited;
}

/** `store`, with `applyStreamBatch` failing with `fault(batch)` when it returns an error. */
function faulty(store: OnlineStore, fault: (b: StreamBatch) => Error | null): OnlineStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'applyStreamBatch')
        return async (b: StreamBatch) => {
          const e = fault(b);
          if (e) throw e;
          return target.applyStreamBatch(b);
        };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const touches = (b: StreamBatch, entity: string): boolean =>
  b.tiles.some((t) => t.entityKey === entity) || b.lifetime.some((l) => l.entityKey === entity);

function events(n: number, poison: ReadonlySet<number>): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) =>
    userEventRecord({
      eventId: `e${i}`,
      userId: poison.has(i) ? 'poison' : `u${i % 2}`,
      eventType: i % 3 === 0 ? 'click' : 'page_view',
      timestamp: T + i * 1000,
      properties: { productId: `p${i % 3}`, price: String(i + 1) },
      platform: `pf${i}`,
    }),
  );
}

const historyOf = (evs: Record<string, unknown>[]): History => ({
  records: [],
  events: evs,
  transactions: [],
  users: ['u0', 'u1', 'u-never'],
  products: ['p0', 'p1', 'p2', 'p-never'],
  t: T + 3600_000,
});

async function produce(topic: string, values: Record<string, unknown>[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: values.map((v) => ({ key: String(v.userId), value: JSON.stringify(v) })),
  });
  await producer.disconnect();
}

describe('stream worker: failures while applying a batch', () => {
  it('isolates poison records in the middle of a batch: DLQ with the reason, the rest applied exactly once', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const poison = new Set([5, 11]);
    const all = events(16, poison);
    await produce(topics.user_events, all);
    const { store: real, close } = await openTestStore(repo);
    cleanups.push(close);
    const store = faulty(real, (b) =>
      touches(b, 'poison')
        ? new LarderError('LARDER_STORE_REJECTED', 'refused a command: poison\nsecond line')
        : null,
    );
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      maxBatchRecords: 1000,
    });
    await waitConsumed(real, worker.group, [topics.user_events], 30_000);
    // Counted once the write with the checkpoint has returned: a moment after it is visible.
    await vi.waitFor(
      () =>
        expect(worker.stats).toMatchObject({
          records: 16,
          applied: 14,
          deadLettered: 2,
          rejected: 2,
        }),
      { timeout: 10_000 },
    );
    const dlq = await inspectDlq({ brokers: BROKERS, topic: topics.user_events });
    expect(dlq.map((r) => [r.sourceOffset, r.reason])).toEqual([
      ['5', 'rejected: LARDER_STORE_REJECTED: refused a command: poison second line'],
      ['11', 'rejected: LARDER_STORE_REJECTED: refused a command: poison second line'],
    ]);
    expect(JSON.parse(dlq[0]!.value!)).toEqual(all[5]);
    await expectReferenceValues(repo, real, historyOf(all.filter((_, i) => !poison.has(i))));
    expect(await worker.metrics.registry.metrics()).toContain(
      `larder_stream_dlq_total{topic="${topics.user_events}",reason="rejected"} 2`,
    );
  });

  it('isolates records Redis itself refuses (a key of the wrong type), without any injected fault', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const poison = new Set([2, 3, 9]);
    const all = events(12, poison);
    await produce(topics.user_events, all);
    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    // Another writer's string where user_activity's hash of "poison" belongs: WRONGTYPE.
    const redis = new Redis(REDIS_URL);
    cleanups.push(async () => void redis.disconnect());
    await redis.set(`${store.namespace}:user_activity:{poison}`, 'not a hash');
    const worker = await startTestWorker(store, topics, cleanups, { repo, maxBatchRecords: 1000 });
    await waitConsumed(store, worker.group, [topics.user_events], 30_000);
    // Counted once the write with the checkpoint has returned: a moment after it is visible.
    await vi.waitFor(
      () => expect(worker.stats).toMatchObject({ records: 12, applied: 9, rejected: 3 }),
      { timeout: 10_000 },
    );
    const dlq = await inspectDlq({ brokers: BROKERS, topic: topics.user_events });
    expect(dlq.map((r) => r.sourceOffset)).toEqual(['2', '3', '9']);
    for (const r of dlq) expect(r.reason).toMatch(/^rejected: LARDER_STORE_REJECTED: .*WRONGTYPE/);
    await expectReferenceValues(repo, store, historyOf(all.filter((_, i) => !poison.has(i))));
  });

  it('retries while Redis is down (a real outage), reports it on /metrics and /ready, loses nothing', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const all = events(10, new Set());
    // A Redis of its own, stopped and restarted on the same port.
    const port = await freePort();
    let server = await startRedis(port);
    cleanups.push(async () => void server.kill('SIGKILL'));
    const store = createOnlineStore(
      { type: 'redis', url: `redis://127.0.0.1:${port}/0`, maxRetriesPerRequest: 0 },
      { namespace: `test-${port}`, views: [...repo.featureViews.values()].map((v) => v.spec) },
    );
    await store.init();
    cleanups.push(() => store.close());
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      retryBackoffMs: { initial: 20, max: 100 },
    });
    const metrics = await serveStreamMetrics(worker.metrics, 0);
    cleanups.push(() => new Promise((ok) => metrics.close(() => ok())));
    const base = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}`;
    await stopRedis(server);
    await produce(topics.user_events, all);
    await waitFor(() => worker.stats.retries >= 3 || worker.stats.records > 0, 'three retries');
    const notReady = await fetch(`${base}/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({
      ready: false,
      waiting: [
        {
          topic: topics.user_events,
          partition: 0,
          error: expect.stringMatching(/^LARDER_STORE_UNAVAILABLE: /),
        },
      ],
    });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain(`larder_stream_retrying{topic="${topics.user_events}",partition="0"} 1`);
    expect(text).toMatch(
      new RegExp(
        `larder_stream_retries_total\\{topic="${topics.user_events}",code="LARDER_STORE_UNAVAILABLE"\\} [3-9]`,
      ),
    );
    expect(worker.stats).toMatchObject({ records: 0, deadLettered: 0 });
    server = await startRedis(port);
    await waitConsumed(store, worker.group, [topics.user_events], 30_000);
    // Counted once the write with the checkpoint has returned: a moment after it is visible.
    await vi.waitFor(
      () => expect(worker.stats).toMatchObject({ records: 10, applied: 10, deadLettered: 0 }),
      { timeout: 10_000 },
    );
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
    expect(await (await fetch(`${base}/metrics`)).text()).toContain(
      `larder_stream_retrying{topic="${topics.user_events}",partition="0"} 0`,
    );
    await expectReferenceValues(repo, store, historyOf(all));
  });
  it('keeps its group session through a batch slower than the session timeout (no rejoin, nothing applied twice)', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const all = events(10, new Set());
    await produce(topics.user_events, all);
    const { store: real, close } = await openTestStore(repo);
    cleanups.push(close);
    // The first batch takes 1.5 sessions (a slow store or offline append): 4.5 s of a 3 s
    // session where the broker takes one that short (was 8 s of 6 s).
    const sessionTimeoutMs = await killableSessionTimeoutMs();
    let calls = 0;
    const slow = new Proxy(real, {
      get(target, prop) {
        if (prop === 'applyStreamBatch')
          return async (b: StreamBatch) => {
            if (calls++ === 0) await new Promise((r) => setTimeout(r, 1.5 * sessionTimeoutMs));
            return target.applyStreamBatch(b);
          };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const worker = await startTestWorker(slow, topics, cleanups, {
      repo,
      maxBatchRecords: 1000,
      sessionTimeoutMs,
    });
    await waitConsumed(real, worker.group, [topics.user_events], 30_000);
    // A lost session would make the worker rejoin its group (and fetch the batch again).
    expect(worker.stats).toMatchObject({
      records: 10,
      applied: 10,
      duplicates: 0,
      overlaps: 0,
      groupJoins: 1,
    });
    expect(calls).toBe(1);
    await expectReferenceValues(repo, real, historyOf(all));
  });
});
