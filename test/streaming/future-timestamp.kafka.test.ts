/**
 * Defect 14 on the stream path: a record stamped later than now + the allowed skew
 * (`ingest.maxFutureSkew`), or beyond JavaScript's date range, goes to `<topic>.dlq` with the
 * reason and the partition moves on; the other records are applied as if it never existed.
 * So does a record whose join key is longer than `ingest.maxKeyBytes` (defect 15).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspectDlq } from '../../streaming/dlq-tools.ts';
import {
  BROKERS,
  createTestTopics,
  expectReferenceValues,
  history,
  kafka,
  loadFeatures,
  openTestStore,
  startTestWorker,
  waitConsumed,
} from './stream-fixture.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

describe('stream worker: event times in the future, oversized keys', () => {
  it('dead-letters records stamped beyond now + skew or with oversized keys, and moves on', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const h = history({ events: 300, seed: 11 });
    const now = h.t;
    const user = h.events[0]!.userId as string;
    const future = (id: string, timestamp: number) =>
      JSON.stringify({
        ...h.events[0],
        eventId: id,
        userId: user,
        timestamp,
        context: { ...(h.events[0]!.context as object), platform: 'future-platform' },
      });
    const events = h.events.map((e) => ({ key: 'k', value: JSON.stringify(e) }));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.user_events,
      messages: [
        ...events.slice(0, 50),
        { key: 'year', value: future('f-year', now + YEAR_MS) },
        { key: 'minutes', value: future('f-minutes', now + 6 * 60_000) },
        { key: 'huge', value: future('f-huge', 9e15) },
        { key: 'int64', value: future('f-int64', 1e20) },
        {
          key: 'long-key',
          value: JSON.stringify({ ...h.events[0], eventId: 'f-key', userId: 'u'.repeat(1025) }),
        },
        ...events.slice(50),
      ],
    });
    await producer.send({
      topic: topics.transactions,
      messages: h.transactions.map((t) => ({ key: 'k', value: JSON.stringify(t) })),
    });
    await producer.disconnect();

    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const worker = await startTestWorker(store, topics, cleanups, { repo, clock: () => now });
    await waitConsumed(store, worker.group, topics.all);
    // The worker counts a batch once its write (with the checkpoint) has returned:
    // a moment after the checkpoint is visible in the store.
    await vi.waitFor(
      () => {
        expect(worker.stats.deadLettered).toBe(5);
      },
      { timeout: 10_000 },
    );
    // Every value (last_platform, last_event_ts, ...) is as if the five never existed.
    await expectReferenceValues(repo, store, h);
    const dlq = await inspectDlq({ brokers: BROKERS, topic: topics.user_events });
    expect(dlq.map((r) => [r.key, r.reason.split(':')[0], r.sourceOffset])).toEqual([
      ['year', 'future-timestamp', '50'],
      ['minutes', 'future-timestamp', '51'],
      ['huge', 'timestamp-out-of-range', '52'],
      ['int64', 'schema-invalid', '53'],
      ['long-key', 'key-too-long', '54'],
    ]);
    expect(dlq[0]!.reason).toMatch(/later than now \+ 5m/);
    expect(dlq[3]!.reason).toBe(
      'schema-invalid: field "timestamp": outside the int64 range read exactly on every path (±9007199254740991)',
    );
  });
});
