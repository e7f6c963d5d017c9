/**
 * The stream worker and `materialize` against a Redis that goes down and comes back (a real
 * redis-server, with an append-only file, that the test stops and starts): the failure is
 * transient, retried with backoff, and once Redis is back every value is exact — nothing lost,
 * nothing counted twice.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { startRedisServer } from '../support/redis-server.ts';
import {
  createTestTopics,
  expectReferenceValues,
  history,
  loadFeatures,
  produceHistory,
  startTestWorker,
  storedFeatures,
  waitConsumed,
} from './stream-fixture.ts';

/** Resolves once the store's client has reconnected. */
async function waitReachable(store: { ping(): Promise<void> }): Promise<void> {
  const end = Date.now() + 30_000;
  for (;;) {
    try {
      return await store.ping();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('stream worker: Redis down mid-stream', () => {
  it('retries until Redis is back, then every value is exact', async () => {
    const redis = await startRedisServer({ persistent: true });
    cleanups.push(redis.close);
    const repo = await loadFeatures();
    const topics = await createTestTopics(2);
    cleanups.push(topics.cleanup);
    const store = createOnlineStore(
      { type: 'redis', url: redis.url },
      {
        namespace: `test-${randomUUID()}`,
        views: [...repo.featureViews.values()].map((v) => v.spec),
      },
    );
    await store.init();
    cleanups.push(() => store.close());
    const h = history({ events: 6000, seed: 51 });
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      maxBatchRecords: 150,
    });
    const producing = produceHistory(topics, h, 2000);
    // Mid-stream: some records applied.
    const end = Date.now() + 60_000;
    while (worker.stats.records === 0 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    // The outage: Redis stays down for 4 s while records keep arriving.
    await redis.stop();
    const before = worker.stats.records;
    expect(before).toBeLessThan(h.records.length); // the outage is mid-stream
    await new Promise((r) => setTimeout(r, 4000));
    expect(worker.stats.records).toBe(before); // nothing applied while Redis is down
    await redis.start();
    await producing;
    await waitReachable(store);
    await waitConsumed(store, worker.group, topics.all, 120_000);
    const compared = await expectReferenceValues(repo, store, h);
    // Every (entity, stored feature) of recommendation_v2 and risk_v1 compared.
    const features = storedFeatures(repo).length;
    expect(compared).toBe(features * Math.max(h.users.length, h.products.length));
  }, 180_000);
});
