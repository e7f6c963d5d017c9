import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from 'kafkajs';
import type { GeneratedRecord, Topic } from './gen-data-options.ts';

export interface ProduceToKafkaOptions {
  brokers: string[];
  /** Kafka topic names of the two sources (the spec's defaults: `user-events`, `transactions`). */
  topics: Record<Topic, string>;
  /** user_events per second; 0 = as fast as possible. */
  rate: number;
  /** Usually {@link generateRecords}' output; must be in timestamp order. */
  records: Iterable<GeneratedRecord>;
  /** Stop after this many user_events (their transactions included). */
  limit?: number;
  /** Messages per `sendBatch` (default 500). */
  batchSize?: number;
  clientId?: string;
  /** Called after every batch the broker acknowledged. */
  onProgress?: (p: { events: number; transactions: number }) => void;
}

/**
 * Produces generated records to Kafka: value = the record as UTF-8 JSON, key = userId (or
 * sessionId when userId is null; transactions always have a userId), in batches acknowledged
 * by all in-sync replicas (`acks: -1`) from an idempotent producer (a retried send is written
 * once). With `rate > 0` it sleeps between batches to hold the
 * given number of user_events per second. Order within a key is the records' order.
 *
 * @example
 * await produceToKafka({
 *   brokers: ['127.0.0.1:9092'],
 *   topics: { user_events: 'user-events', transactions: 'transactions' },
 *   rate: 1000,
 *   records: generateRecords({ users: 1000, products: 500, days: 1, events: 10_000, seed: 7, end: Date.now() }),
 * });
 */
export async function produceToKafka(
  opts: ProduceToKafkaOptions,
): Promise<{ events: number; transactions: number }> {
  const { Kafka, Partitioners, logLevel } = await import('kafkajs');
  const kafka = new Kafka({
    clientId: opts.clientId ?? 'larder-datagen',
    brokers: opts.brokers,
    logLevel: logLevel.ERROR,
  });
  // Idempotent: a send retried after a leader change ("not the leader for that
  // topic-partition") is written once, not twice, so a test's reference counts what Kafka holds.
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const limit = opts.limit ?? Infinity;
  let events = 0;
  let transactions = 0;
  let pending: Record<Topic, Message[]> = { user_events: [], transactions: [] };
  let pendingCount = 0;
  const t0 = performance.now();

  const send = async (): Promise<void> => {
    if (pendingCount === 0) return;
    const topicMessages = (['user_events', 'transactions'] as const)
      .filter((t) => pending[t].length > 0)
      .map((t) => ({ topic: opts.topics[t], messages: pending[t] }));
    pending = { user_events: [], transactions: [] };
    pendingCount = 0;
    await producer.sendBatch({ topicMessages, acks: -1 });
    opts.onProgress?.({ events, transactions });
    if (opts.rate > 0) {
      const due = t0 + (events / opts.rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
  };

  await producer.connect();
  try {
    for (const item of opts.records) {
      if (item.topic === 'user_events') {
        if (events >= limit) break;
        events++;
        const r = item.record;
        pending.user_events.push({ key: r.userId ?? r.sessionId, value: JSON.stringify(r) });
      } else {
        transactions++;
        const r = item.record;
        pending.transactions.push({ key: r.userId, value: JSON.stringify(r) });
      }
      if (++pendingCount >= batchSize) await send();
    }
    await send();
  } finally {
    await producer.disconnect();
  }
  return { events, transactions };
}
