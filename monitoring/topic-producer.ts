/**
 * A Kafka producer for one topic, connected on first use: the topic is created when missing
 * (with `partitions`), and a failed connection is forgotten so the next call connects again.
 * Shared by the feature log's Kafka sink and the alerts' Kafka destination.
 *
 * @example
 * const out = new TopicProducer(kafka, 'alerts', 1);
 * await (await out.open()).send({ topic: 'alerts', messages });
 * await out.close();
 */
import type { Kafka, Producer } from 'kafkajs';
import { createTopicsReady } from '../core/create-topics.ts';

export class TopicProducer {
  #producer: Promise<Producer> | null = null;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly partitions: number,
  ) {}

  open(): Promise<Producer> {
    this.#producer ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        if (!(await admin.listTopics()).includes(this.topic))
          await createTopicsReady(admin, [{ topic: this.topic, numPartitions: this.partitions }]);
      } finally {
        await admin.disconnect();
      }
      const producer = this.kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      return producer;
    })().catch((e: unknown) => {
      this.#producer = null;
      throw e;
    });
    return this.#producer;
  }

  async close(): Promise<void> {
    const p = this.#producer;
    this.#producer = null;
    if (p) await (await p.catch(() => null))?.disconnect();
  }
}
