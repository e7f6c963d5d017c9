import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspectDlq, replayDlq } from '../../streaming/dlq-tools.ts';
import {
  BROKERS,
  createTestTopics,
  expectReferenceValues,
  history,
  kafka,
  loadFeatures,
  waitConsumed,
  openTestStore,
  startTestWorker,
} from './stream-fixture.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const txType = avro.Type.forSchema(
  JSON.parse(
    readFileSync('examples/ecommerce/features/avro/transactions.avsc', 'utf8'),
  ) as avro.Schema,
);
const wire = (value: unknown, magic = 0): Buffer => {
  const head = Buffer.alloc(5);
  head[0] = magic;
  head.writeUInt32BE(1, 1);
  return Buffer.concat([head, txType.toBuffer(value)]);
};

describe('stream worker: bad records', () => {
  it('sends malformed records to <topic>.dlq with reasons and source headers, applies the rest; dlq inspect and replay', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const h = history({ events: 600, seed: 5 });
    const events = h.records
      .filter((r) => r.topic === 'user_events')
      .map((r) => ({ key: 'k', value: JSON.stringify(r.record) }));
    const txs = h.transactions.map((t) => ({ key: String(t.userId), value: wire(t) }));
    const badEvents = [
      { key: 'bad1', value: '{"eventId": ' },
      {
        key: 'bad2',
        value: JSON.stringify({ ...h.events[0], eventId: 'x-1', eventType: 'teleport' }),
      },
    ];
    const badTxs = [
      { key: 'bad3', value: wire(h.transactions[0], 7) },
      { key: 'bad4', value: wire({ ...h.transactions[0], userId: '', transactionId: 'x-2' }) },
    ];
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.user_events,
      messages: [...events.slice(0, 100), ...badEvents, ...events.slice(100)],
    });
    await producer.send({ topic: topics.transactions, messages: [...badTxs, ...txs] });
    await producer.disconnect();

    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const worker = await startTestWorker(store, topics, cleanups, {
      repo,
      encodings: { transactions: 'avro' },
    });
    await waitConsumed(store, worker.group, topics.all);
    // The worker counts a batch once its write (with the checkpoint) has returned:
    // a moment after the checkpoint is visible in the store.
    await vi.waitFor(
      () => {
        expect(worker.stats.deadLettered).toBe(4);
      },
      { timeout: 10_000 },
    );
    await expectReferenceValues(repo, store, h);

    const dlqEvents = await inspectDlq({ brokers: BROKERS, topic: topics.user_events });
    expect(
      dlqEvents.map((r) => [
        r.key,
        r.reason.split(':')[0],
        r.sourceTopic,
        r.sourcePartition,
        r.sourceOffset,
      ]),
    ).toEqual([
      ['bad1', 'unparseable', topics.user_events, 0, '100'],
      ['bad2', 'schema-invalid', topics.user_events, 0, '101'],
    ]);
    expect(dlqEvents[0]!.value).toBe('{"eventId": ');
    const dlqTxs = await inspectDlq({ brokers: BROKERS, topic: topics.transactions });
    expect(dlqTxs.map((r) => r.reason.split(':')[0])).toEqual([
      'bad-magic-byte',
      'missing-join-key',
    ]);

    // Replay: still bad, so they come back with a replay count; after 2 rounds they stop.
    expect(
      await replayDlq({
        brokers: BROKERS,
        topic: topics.user_events,
        namespace: store.namespace,
        maxReplays: 2,
      }),
    ).toEqual({ replayed: 2, gaveUp: 0 });
    await waitConsumed(store, worker.group, topics.all);
    expect(
      await replayDlq({
        brokers: BROKERS,
        topic: topics.user_events,
        namespace: store.namespace,
        maxReplays: 2,
      }),
    ).toEqual({ replayed: 2, gaveUp: 0 });
    await waitConsumed(store, worker.group, topics.all);
    expect(
      await replayDlq({
        brokers: BROKERS,
        topic: topics.user_events,
        namespace: store.namespace,
        maxReplays: 2,
      }),
    ).toEqual({ replayed: 0, gaveUp: 2 });
    const after = await inspectDlq({ brokers: BROKERS, topic: topics.user_events });
    expect(after.map((r) => r.replayCount)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(worker.stats.deadLettered).toBe(8);
  });
});
