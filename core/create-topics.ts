/**
 * Kafka topics created, then waited for until every partition has a leader. kafkajs's own
 * `waitForLeaders` retries only LEADER_NOT_AVAILABLE, but a KRaft broker may first answer
 * UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created (seen on a loaded machine): the
 * creation had succeeded and the call failed. Here both answers mean "not yet", until the
 * timeout.
 *
 * @example
 * await createTopicsReady(admin, [{ topic: 'events', numPartitions: 6 }]);
 */
import type { Admin, ITopicConfig } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LarderError } from './errors.ts';

/** The admin calls used here. */
export type CreateTopicsAdmin = Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>;

/** Broker answers that mean the new topic's metadata has not reached it yet. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/**
 * Creates `topics` and resolves once each of their partitions has a leader: true, or false
 * when every topic already existed (as kafkajs's `createTopics`). Fails with
 * LARDER_BROKER_UNAVAILABLE when a partition has no leader after `timeoutMs`.
 */
export async function createTopicsReady(
  admin: CreateTopicsAdmin,
  topics: ITopicConfig[],
  timeoutMs = 30_000,
): Promise<boolean> {
  const created = await admin.createTopics({ waitForLeaders: false, topics });
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      const led = found.filter(
        (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
      );
      if (led.length === names.length) return created;
    } catch (e) {
      if (!NOT_YET.has((e as { type?: string }).type ?? '')) throw e;
    }
    if (Date.now() >= deadline)
      throw new LarderError(
        'LARDER_BROKER_UNAVAILABLE',
        `Kafka topics ${names.join(', ')}: created, but a partition has no leader after ${timeoutMs / 1000} s; check the brokers (kafka-metadata, their logs) and retry`,
      );
    await sleep(100);
  }
}
