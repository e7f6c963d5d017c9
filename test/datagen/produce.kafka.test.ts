import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, EachMessagePayload } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { GeneratedRecord } from '../../examples/ecommerce/datagen/index.ts';
import { generateRecords, produceToKafka } from '../../examples/ecommerce/datagen/index.ts';
import { createTopicsReady } from '../../core/create-topics.ts';

const BROKERS = [process.env.LARDER_KAFKA_BROKERS ?? '127.0.0.1:9092'];
const OPTS = { users: 50, products: 40, days: 1, events: 700, seed: 11, end: Date.UTC(2024, 2, 1) };

const kafka = new Kafka({
  clientId: 'larder-datagen-test',
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
  retry: { retries: 3, initialRetryTime: 100 },
});
let admin: Admin;
let consumer: Consumer | null = null;
let topics: string[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterEach(async () => {
  await consumer?.disconnect();
  consumer = null;
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  topics = [];
});

afterAll(async () => {
  await admin.disconnect();
});

async function createTopics(): Promise<{ user_events: string; transactions: string }> {
  const id = randomUUID();
  const names = { user_events: `test-${id}-user-events`, transactions: `test-${id}-transactions` };
  topics = [names.user_events, names.transactions];
  await createTopicsReady(
    admin,
    topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
  );
  return names;
}

interface Received {
  topic: string;
  key: string;
  value: string;
}

/** Consumes `topicNames` from the beginning until `expected` messages have arrived. */
async function consumeAll(topicNames: string[], expected: number): Promise<Received[]> {
  const received: Received[] = [];
  consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: topicNames, fromBeginning: true });
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.run({
    eachMessage: async ({ topic, message }: EachMessagePayload) => {
      received.push({
        topic,
        key: message.key?.toString('utf8') ?? '',
        value: message.value?.toString('utf8') ?? '',
      });
      if (received.length >= expected) done();
    },
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`got ${received.length} of ${expected} messages`)),
      60_000,
    ).unref(),
  );
  await Promise.race([all, timeout]);
  return received;
}

const keyOf = (r: GeneratedRecord): string =>
  r.topic === 'transactions' ? r.record.userId : (r.record.userId ?? r.record.sessionId);

describe('produceToKafka', () => {
  it('produces every generated record, keyed by userId (sessionId when anonymous), as JSON', async () => {
    const names = await createTopics();
    const expected = [...generateRecords(OPTS)];
    const progress: number[] = [];
    const result = await produceToKafka({
      brokers: BROKERS,
      topics: names,
      rate: 0,
      records: generateRecords(OPTS),
      batchSize: 200,
      onProgress: (p) => progress.push(p.events),
    });
    const txCount = expected.filter((r) => r.topic === 'transactions').length;
    expect(result).toEqual({ events: OPTS.events, transactions: txCount });
    expect(txCount).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(OPTS.events);

    const received = await consumeAll(topics, expected.length);
    expect(received).toHaveLength(expected.length);
    for (const topic of ['user_events', 'transactions'] as const) {
      const want = expected.filter((r) => r.topic === topic);
      const got = received.filter((r) => r.topic === names[topic]);
      // One partition per topic: the order is the generated order.
      expect(got.map((r) => r.key)).toEqual(want.map(keyOf));
      expect(got.map((r) => JSON.parse(r.value) as unknown)).toEqual(want.map((r) => r.record));
    }
    expect(received.some((r) => r.key.startsWith('s-'))).toBe(true);
  });

  it('stops after `limit` events and holds the requested rate', async () => {
    const names = await createTopics();
    const limit = 300;
    const firstRecords: GeneratedRecord[] = [];
    let events = 0;
    for (const r of generateRecords(OPTS)) {
      if (r.topic === 'user_events' && ++events > limit) break;
      firstRecords.push(r);
    }
    const t0 = performance.now();
    const result = await produceToKafka({
      brokers: BROKERS,
      topics: names,
      rate: 1000,
      limit,
      batchSize: 100,
      records: generateRecords(OPTS),
    });
    const elapsed = performance.now() - t0;
    expect(result.events).toBe(limit);
    expect(result.transactions).toBe(firstRecords.filter((r) => r.topic === 'transactions').length);
    expect(elapsed).toBeGreaterThanOrEqual(250); // 300 events at 1000/s
    const received = await consumeAll(topics, firstRecords.length);
    expect(received.filter((r) => r.topic === names.user_events)).toHaveLength(limit);
  });
});
