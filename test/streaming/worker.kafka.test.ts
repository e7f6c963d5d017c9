import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import { StreamWorker } from '../../streaming/stream-worker.ts';
import {
  BROKERS,
  createTestTopics,
  expectReferenceValues,
  history,
  loadFeatures,
  produceHistory,
  REDIS_URL,
  waitConsumed,
} from './stream-fixture.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openStore(repo: Awaited<ReturnType<typeof loadFeatures>>): Promise<OnlineStore> {
  const store = createOnlineStore(
    { type: 'redis', url: REDIS_URL },
    {
      namespace: `test-${randomUUID()}`,
      views: [...repo.featureViews.values()].map((v) => v.spec),
    },
  );
  await store.init();
  cleanups.push(async () => {
    await store.teardown();
    await store.close();
  });
  return store;
}

describe('stream worker (Kafka → Redis)', () => {
  it('applies a generated history: online reads equal the reference evaluator', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(3);
    cleanups.push(topics.cleanup);
    const h = history({ events: 4000, seed: 3 });
    await produceHistory(topics, h);
    const store = await openStore(repo);
    const worker = new StreamWorker({
      repo,
      store,
      brokers: BROKERS,
      namespace: store.namespace,
      env: topics.env,
      sessionTimeoutMs: 6000,
      maxBatchRecords: 700,
    });
    cleanups.push(() => worker.stop());
    await worker.start();
    await waitConsumed(store, worker.group, topics.all);
    expect(worker.stats.deadLettered).toBe(0);
    expect(worker.stats.records).toBe(h.records.length);
    const compared = await expectReferenceValues(repo, store, h);
    expect(compared).toBeGreaterThan(500);
    const metrics = await worker.metrics.registry.metrics();
    expect(metrics).toContain(
      `larder_stream_records_total{topic="${topics.user_events}"} ${h.events.length}`,
    );
    expect(metrics).toContain('larder_stream_freshness_seconds_bucket');
  });
});
