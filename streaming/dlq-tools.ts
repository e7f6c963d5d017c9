/**
 * `larder dlq inspect|replay`: reads a dead-letter topic up to its current end.
 * - inspect: lists the records (reason, source position, key, value), commits nothing.
 * - replay: re-feeds each not yet replayed record's original key and value to its source
 *   topic with `larder-replay-count` = previous + 1 (group `<namespace>-dlq-replay` commits
 *   what it replayed, so a record is replayed once). A record still bad lands in the DLQ again
 *   with that count; once the count reaches `maxReplays` it is not replayed any more.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS, dlqTopic, headerText } from './dead-letter.ts';

export interface DeadLetterRecord {
  partition: number;
  offset: string;
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  replayCount: number;
  key: string | null;
  value: string | null;
}

const toRecord = (partition: number, m: KafkaMessage): DeadLetterRecord => ({
  partition,
  offset: m.offset,
  reason: headerText(m.headers, DLQ_HEADERS.error) ?? '',
  sourceTopic: headerText(m.headers, DLQ_HEADERS.topic) ?? '',
  sourcePartition: Number(headerText(m.headers, DLQ_HEADERS.partition) ?? -1),
  sourceOffset: headerText(m.headers, DLQ_HEADERS.offset) ?? '',
  replayCount: Number(headerText(m.headers, DLQ_HEADERS.replayCount) ?? 0),
  key: m.key ? m.key.toString('utf8') : null,
  value: m.value ? m.value.toString('utf8') : null,
});

/** Reads `topic` from the group's position (or the beginning) to its current end. */
async function readToEnd(
  kafka: Kafka,
  topic: string,
  groupId: string,
  onMessage: (partition: number, m: KafkaMessage) => Promise<boolean>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  await admin.disconnect();
  const remaining = new Map<number, number>();
  const start = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
  );
  for (const e of ends) {
    const from = Math.max(Number(e.low), start.get(e.partition) ?? -1);
    if (Number(e.high) > from) remaining.set(e.partition, Number(e.high) - 1);
  }
  if (remaining.size === 0) return;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 6000 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((done, fail) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const last = remaining.get(partition);
            if (last === undefined) return;
            const more = await onMessage(partition, message);
            if (Number(message.offset) >= last || !more) remaining.delete(partition);
            if (remaining.size === 0 || !more) done();
          },
        })
        .catch(fail);
    });
  } finally {
    await consumer.disconnect();
  }
}

/**
 * The records of `<topic>.dlq`, oldest first (at most `limit`).
 *
 * @example
 * const records = await inspectDlq({ brokers: ['127.0.0.1:9092'], topic: 'user-events', limit: 20 });
 */
export async function inspectDlq(opts: {
  brokers: readonly string[];
  topic: string;
  limit?: number;
  /** The Kafka client's retries of a failed request (default kafkajs's: 5, from 0.3 s). */
  retries?: number;
}): Promise<DeadLetterRecord[]> {
  const kafka = new Kafka({
    clientId: 'larder-dlq',
    brokers: [...opts.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: opts.retries ?? 5 },
  });
  const out: DeadLetterRecord[] = [];
  const limit = opts.limit ?? Infinity;
  await readToEnd(
    kafka,
    dlqTopic(opts.topic),
    `larder-dlq-inspect-${randomUUID()}`,
    async (p, m) => {
      out.push(toRecord(p, m));
      return out.length < limit;
    },
  );
  return out.slice(0, limit);
}

/**
 * Re-feeds the dead letters of `topic` not replayed yet to `topic`; returns the counts.
 *
 * @example
 * await replayDlq({ brokers, topic: 'user-events', namespace: 'larder', maxReplays: 3 });
 */
export async function replayDlq(opts: {
  brokers: readonly string[];
  topic: string;
  namespace: string;
  maxReplays?: number;
  /** The Kafka client's retries of a failed request (default kafkajs's: 5, from 0.3 s). */
  retries?: number;
}): Promise<{ replayed: number; gaveUp: number }> {
  const kafka = new Kafka({
    clientId: 'larder-dlq',
    brokers: [...opts.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: opts.retries ?? 5 },
  });
  const producer = kafka.producer();
  await producer.connect();
  const max = opts.maxReplays ?? 3;
  let replayed = 0;
  let gaveUp = 0;
  try {
    await readToEnd(kafka, dlqTopic(opts.topic), `${opts.namespace}-dlq-replay`, async (_p, m) => {
      const r = toRecord(_p, m);
      if (r.replayCount >= max) {
        gaveUp++;
        return true;
      }
      await producer.send({
        topic: opts.topic,
        acks: -1,
        messages: [
          {
            key: m.key,
            value: m.value,
            headers: { [DLQ_HEADERS.replayCount]: String(r.replayCount + 1) },
          },
        ],
      });
      replayed++;
      return true;
    });
  } finally {
    await producer.disconnect();
  }
  return { replayed, gaveUp };
}
