/**
 * Where firing and resolved alerts go: a Kafka topic (JSON keyed by fingerprint, the topic
 * created when missing) or a webhook (JSON or Slack's shape, retried with backoff). A `send`
 * that throws is tried again on the next evaluation (the state remembers what each destination
 * accepted), so a destination that is down gets the message once it is back.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { AlertDestination } from '../config/alerts-config.ts';
import { postJson } from '../core/post-json.ts';
import { slackMessage, type AlertMessage } from './alert-message.ts';

export interface AlertDestinationSender {
  /** Stable across restarts: `kafka:<topic>`, `webhook:<url>`. */
  readonly name: string;
  send(message: AlertMessage): Promise<void>;
  close(): Promise<void>;
}

export class KafkaAlertDestination implements AlertDestinationSender {
  readonly name: string;
  readonly topic: string;
  readonly #kafka: Kafka;
  #producer: Promise<Producer> | null = null;

  constructor(
    kafka: { readonly brokers: readonly string[]; readonly clientId: string },
    topic: string,
  ) {
    this.topic = topic;
    this.name = `kafka:${topic}`;
    this.#kafka = new Kafka({
      clientId: `${kafka.clientId}-alerts`,
      brokers: [...kafka.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
  }

  #open(): Promise<Producer> {
    // Lazy, and reset on failure so the next evaluation connects again.
    this.#producer ??= (async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      try {
        if (!(await admin.listTopics()).includes(this.topic))
          await admin.createTopics({
            waitForLeaders: true,
            topics: [{ topic: this.topic, numPartitions: 1 }],
          });
      } finally {
        await admin.disconnect();
      }
      const producer = this.#kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      return producer;
    })().catch((e: unknown) => {
      this.#producer = null;
      throw e;
    });
    return this.#producer;
  }

  async send(m: AlertMessage): Promise<void> {
    const producer = await this.#open();
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

  async close(): Promise<void> {
    const p = this.#producer;
    this.#producer = null;
    if (p) await (await p.catch(() => null))?.disconnect();
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
