/**
 * The stream worker on records shaped unlike `gen-data`'s but valid under the source schemas:
 * sparse properties (a product event without price or category), missing optional fields,
 * unknown fields. Served values must equal the reference evaluator's, and every partition must
 * keep moving.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEventRecord } from '../support/records.ts';
import {
  createTestTopics,
  expectReferenceValues,
  kafka,
  loadFeatures,
  openTestStore,
  startTestWorker,
  waitConsumed,
  type History,
} from './stream-fixture.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T = Date.now() - 10 * 60_000;

/** A history of hand-built user events (no transactions), evaluated a minute after the last. */
function handBuilt(events: Record<string, unknown>[]): History {
  return {
    records: [],
    events,
    transactions: [],
    users: ['u1', 'u2', 'u-never'],
    products: ['p1', 'p2', 'p-never'],
    t: Math.max(...events.map((e) => e.timestamp as number)) + 60_000,
  };
}

async function produce(topic: string, values: unknown[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: values.map((v, i) => ({ key: `k${i}`, value: JSON.stringify(v) })),
  });
  await producer.disconnect();
}

describe('stream worker: valid records gen-data never makes', () => {
  it('a product event without price or category neither crashes the worker nor stops its partition', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const events = [
      userEventRecord({
        eventId: 'e1',
        userId: 'u1',
        eventType: 'page_view',
        timestamp: T,
        properties: { productId: 'p1', price: '9.5', category: 'books' },
        platform: 'web',
      }),
      // Valid: `properties` is a free map; nothing for product_catalog to update.
      userEventRecord({
        eventId: 'e2',
        userId: 'u2',
        eventType: 'page_view',
        timestamp: T + 1000,
        properties: { productId: 'p2' },
        platform: 'ios',
      }),
      userEventRecord({
        eventId: 'e3',
        userId: 'u1',
        eventType: 'click',
        timestamp: T + 2000,
        properties: { productId: 'p2', price: '3' },
        platform: 'android',
      }),
    ];
    await produce(topics.user_events, events);
    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const worker = await startTestWorker(store, topics, cleanups, { repo, maxBatchRecords: 2 });
    await waitConsumed(store, worker.group, [topics.user_events], 30_000);
    // Counted once the write with the checkpoint has returned: a moment after it is visible.
    await vi.waitFor(
      () => expect(worker.stats).toMatchObject({ records: 3, applied: 3, deadLettered: 0 }),
      { timeout: 10_000 },
    );
    expect(await expectReferenceValues(repo, store, handBuilt(events))).toBeGreaterThan(0);
  });

  it('applies a late record older than every window but within the TTL of a lifetime feature', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const day = 24 * 3600_000;
    const events = [
      // 8 days old: outside every window of user_events' views (7d at most), inside the 30d
      // TTL of last_platform, price and category.
      userEventRecord({
        eventId: 'late',
        userId: 'u1',
        eventType: 'page_view',
        timestamp: T - 8 * day,
        properties: { productId: 'p1', price: '12', category: 'garden' },
        platform: 'tv',
      }),
      // 31 days old: too old for everything, skipped.
      userEventRecord({
        eventId: 'ancient',
        userId: 'u2',
        eventType: 'page_view',
        timestamp: T - 31 * day,
        properties: { productId: 'p2', price: '1' },
        platform: 'tv',
      }),
      userEventRecord({
        eventId: 'now',
        userId: 'u2',
        eventType: 'click',
        timestamp: T,
        properties: {},
        platform: 'web',
      }),
    ];
    await produce(topics.user_events, events);
    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const worker = await startTestWorker(store, topics, cleanups, { repo });
    await waitConsumed(store, worker.group, [topics.user_events], 30_000);
    // Counted once the write with the checkpoint has returned: a moment after it is visible.
    await vi.waitFor(
      () => expect(worker.stats).toMatchObject({ records: 3, applied: 2, skippedTooOld: 1 }),
      { timeout: 10_000 },
    );
    expect(await expectReferenceValues(repo, store, handBuilt(events))).toBeGreaterThan(0);
    const [catalog] = await store.readMany([
      { view: repo.featureViews.get('product_catalog')!.spec, entityKeys: ['p1'], t: T },
    ]);
    expect(catalog!.rows[0]!.map((v) => v.value)).toEqual([12, 'garden']);
  });
});
