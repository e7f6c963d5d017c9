/**
 * Where firing and resolved alerts go: a Kafka topic (JSON keyed by fingerprint, the topic
 * created when missing) or a webhook (JSON or Slack's shape, retried with backoff). A `send`
 * that throws is tried again on the next evaluation (the state remembers what each destination
 * accepted), so a destination that is down gets the message once it is back.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { AlertDestination } from '../config/alerts-config.ts';
import { postJson } from '../core/post-json.ts';
import { slackMessage, type AlertMessage } from './alert-message.ts';
import { TopicProducer } from '../monitoring/topic-producer.ts';

export interface AlertDestinationSender {
  /** Stable across restarts: `kafka:<topic>`, `webhook:<url>`. */
  readonly name: string;
  send(message: AlertMessage): Promise<void>;
  close(): Promise<void>;
}

export class KafkaAlertDestination implements AlertDestinationSender {
  readonly name: string;
  readonly topic: string;
  readonly #out: TopicProducer;

  constructor(
    kafka: { readonly brokers: readonly string[]; readonly clientId: string },
    topic: string,
  ) {
    this.topic = topic;
    this.name = `kafka:${topic}`;
    const client = new Kafka({
      clientId: `${kafka.clientId}-alerts`,
      brokers: [...kafka.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    this.#out = new TopicProducer(client, topic, 1);
  }

  async send(m: AlertMessage): Promise<void> {
    const producer = await this.#out.open();
    await producer.send({
      topic: this.topic,
      messages: [
        {
          key: m.fingerprint,
          value: JSON.stringify(m),
          headers: { status: m.status, rule: m.rule, severity: m.severity },
        },
      ],
    });
  }

  close(): Promise<void> {
    return this.#out.close();
  }
}

export class WebhookAlertDestination implements AlertDestinationSender {
  readonly name: string;
  readonly #d: Extract<AlertDestination, { type: 'webhook' }>;
  readonly #baseDelayMs: number;

  constructor(d: Extract<AlertDestination, { type: 'webhook' }>, baseDelayMs = 1000) {
    this.#d = d;
    this.name = `webhook:${d.url}`;
    this.#baseDelayMs = baseDelayMs;
  }

  async send(m: AlertMessage): Promise<void> {
    const body = this.#d.format === 'slack' ? slackMessage(m) : m;
    const ok = await postJson(this.#d.url, body, {
      retries: this.#d.retries,
      baseDelayMs: this.#baseDelayMs,
      ...(this.#d.headers ? { headers: this.#d.headers } : {}),
    });
    if (!ok)
      throw new Error(
        `${this.#d.url} did not accept the alert after ${this.#d.retries + 1} attempt(s)`,
      );
  }

  async close(): Promise<void> {}
}

/** The senders of the configured destinations (`baseDelayMs`: webhook backoff, tests shorten it). */
export function alertDestinations(
  destinations: readonly AlertDestination[],
  kafka: { readonly brokers: readonly string[]; readonly clientId: string },
  opts: { baseDelayMs?: number } = {},
): AlertDestinationSender[] {
  return destinations.map((d) =>
    d.type === 'kafka'
      ? new KafkaAlertDestination(kafka, d.topic)
      : new WebhookAlertDestination(d, opts.baseDelayMs),
  );
}
