/**
 * Writes feature-log rows to a Kafka topic (default `larder_feature_log`, created on first use
 * with 6 partitions when missing): one JSON message per row, keyed by the request id, with the
 * Parquet file's columns (`ts` as epoch ms; `entities`, `features`, `statuses` as objects) and
 * a `service` header (docs/monitoring.md "Feature logging").
 */
import { Kafka, logLevel } from 'kafkajs';
import type { FeatureLogRow, FeatureLogSink } from './feature-log.ts';
import { TopicProducer } from './topic-producer.ts';

/** The topic feature-log rows go to. */
export const FEATURE_LOG_TOPIC = 'larder_feature_log';

/** A row as its Kafka message's JSON value. */
export const rowMessage = (r: FeatureLogRow): Record<string, unknown> => ({
  request_id: r.requestId,
  service: r.service,
  ts: r.t,
  row: r.row,
  entities: r.entities,
  features: r.values,
  statuses: r.statuses,
  model: r.model,
  arm: r.arm,
  score: r.score,
});

/**
 * @example
 * const sink = new KafkaLogSink(config.kafka); // connects on the first write
 */
export class KafkaLogSink implements FeatureLogSink {
  readonly destination = 'kafka';
  readonly topic: string;
  readonly #out: TopicProducer;

  constructor(
    kafka: { readonly brokers: readonly string[]; readonly clientId: string },
    topic = FEATURE_LOG_TOPIC,
  ) {
    this.topic = topic;
    const client = new Kafka({
      clientId: `${kafka.clientId}-feature-log`,
      brokers: [...kafka.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    this.#out = new TopicProducer(client, topic, 6);
  }

  async write(rows: readonly FeatureLogRow[]): Promise<void> {
    const producer = await this.#out.open();
    await producer.send({
      topic: this.topic,
      messages: rows.map((r) => ({
        key: r.requestId,
        value: JSON.stringify(rowMessage(r)),
        headers: { service: r.service },
      })),
    });
  }

  close(): Promise<void> {
    return this.#out.close();
  }
}
