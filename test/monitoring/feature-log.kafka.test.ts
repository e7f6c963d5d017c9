/** The Kafka destination of feature logging, against the real broker. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { FeatureLog } from '../../monitoring/feature-log.ts';
import { KafkaLogSink } from '../../monitoring/kafka-log-sink.ts';

const BROKERS = ['127.0.0.1:9092'];
const kafka = new Kafka({
  clientId: 'feature-log-test',
  brokers: BROKERS,
  logLevel: logLevel.NOTHING,
});
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('KafkaLogSink', () => {
  it('creates the topic and writes one JSON message per served row, keyed by request id', async () => {
    const topic = `test-feature-log-${randomUUID()}`;
    const sink = new KafkaLogSink({ brokers: BROKERS, clientId: 'test' }, topic);
    const written: number[] = [];
    const log = new FeatureLog({
      sinks: [sink],
      flushMs: 60_000,
      onRows: (e, _d, n) => e === 'written' && written.push(n),
    });
    log.enqueue({
      service: 'svc',
      logging: { sample: 1, destinations: ['kafka'] },
      t: Date.UTC(2026, 0, 1),
      entities: { user_id: ['u1', 'u2'] },
      response: {
        columns: [
          { name: 'user_id', values: ['u1', 'u2'], statuses: ['PRESENT', 'PRESENT'] },
          { name: 'clicks_1h', values: [3, 0], statuses: ['PRESENT', 'NOT_FOUND'] },
        ],
      },
    });
    await log.drain();
    expect(written).toEqual([2]);

    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    });
    const consumer = kafka.consumer({ groupId: `g-${randomUUID()}`, maxWaitTimeInMs: 50 });
    await consumer.connect();
    cleanups.push(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: { key: string; service: string; value: Record<string, unknown> }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        got.push({
          key: message.key!.toString(),
          service: message.headers!.service!.toString(),
          value: JSON.parse(message.value!.toString()) as Record<string, unknown>,
        });
      },
    });
    await expect.poll(() => got.length, { timeout: 30_000, interval: 100 }).toBe(2);
    got.sort((a, b) => (a.value.row as number) - (b.value.row as number));
    expect(got[0]!.key).toBe(got[1]!.key);
    expect(got[0]!.key).toBe(got[0]!.value.request_id);
    expect(got.map((g) => g.service)).toEqual(['svc', 'svc']);
    expect(got.map((g) => ({ ...g.value, request_id: 'r' }))).toEqual([
      {
        request_id: 'r',
        service: 'svc',
        ts: Date.UTC(2026, 0, 1),
        row: 0,
        entities: { user_id: 'u1' },
        features: { clicks_1h: 3 },
        statuses: { clicks_1h: 'PRESENT' },
        model: null,
        arm: null,
        score: null,
      },
      {
        request_id: 'r',
        service: 'svc',
        ts: Date.UTC(2026, 0, 1),
        row: 1,
        entities: { user_id: 'u2' },
        features: { clicks_1h: 0 },
        statuses: { clicks_1h: 'NOT_FOUND' },
        model: null,
        arm: null,
        score: null,
      },
    ]);
  }, 60_000);

  it('counts the rows of an unreachable broker as sink_error, never failing the log', async () => {
    const sink = new KafkaLogSink({ brokers: ['127.0.0.1:1'], clientId: 'test' }, 'nowhere');
    const counts: string[] = [];
    const log = new FeatureLog({
      sinks: [sink],
      flushMs: 60_000,
      onRows: (e, d, n, reason) => counts.push(`${d}:${reason ?? e}:${n}`),
      onError: () => undefined,
    });
    log.enqueue({
      service: 'svc',
      logging: { sample: 1, destinations: ['kafka'] },
      t: 0,
      entities: { user_id: ['u1'] },
      response: { columns: [{ name: 'x', values: [1], statuses: ['PRESENT'] }] },
    });
    await log.drain();
    expect(counts).toEqual(['kafka:sink_error:1']);
  }, 60_000);
});
