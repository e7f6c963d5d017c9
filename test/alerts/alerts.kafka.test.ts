/**
 * Alerts end to end against the real broker: a consumer-lag rule and a DLQ-rate rule read
 * Kafka's offsets, fire to the `alerts`-style topic (created when missing, keyed by
 * fingerprint) and to two local webhooks (JSON, retried after a 500; Slack's shape), and
 * resolve once the group catches up and the DLQ is quiet — each message sent once.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertDestinations } from '../../alerts/alert-destinations.ts';
import { AlertEvaluator } from '../../alerts/alert-evaluator.ts';
import type { AlertMessage } from '../../alerts/alert-message.ts';
import { alertStatePath } from '../../alerts/alert-state.ts';
import { projectSignals } from '../../alerts/signal-reader.ts';
import { resolveConfig, type LarderConfig } from '../../config/config.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { until } from '../support/wait.ts';
import { tempDir } from '../support/temp-repo.ts';
import { createTopicsReady } from '../../core/create-topics.ts';

const BROKERS = ['127.0.0.1:9092'];
const kafka = new Kafka({ clientId: 'alerts-test', brokers: BROKERS, logLevel: logLevel.NOTHING });
const id = randomUUID().slice(0, 8);
const SOURCE = `test-alerts-src-${id}`;
const ALERTS = `test-alerts-${id}`;
const NAMESPACE = `alerts-${id}`;

/** A webhook that records bodies and answers 500 to the first `failFirst` requests. */
async function webhook(
  failFirst: number,
): Promise<{ server: Server; url: string; bodies: unknown[]; requests: number }> {
  const hook = { server: null as unknown as Server, url: '', bodies: [] as unknown[], requests: 0 };
  hook.server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      hook.requests++;
      if (hook.requests <= failFirst) return res.writeHead(500).end();
      hook.bodies.push(JSON.parse(text));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.server.listen(0, '127.0.0.1', r));
  hook.url = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}/hook`;
  return hook;
}

let tmp: { dir: string; cleanup: () => void };
let repo: Repository;
let json: Awaited<ReturnType<typeof webhook>>;
let slack: Awaited<ReturnType<typeof webhook>>;
const admin = kafka.admin();

beforeAll(async () => {
  tmp = tempDir();
  repo = await loadRepository('examples/ecommerce/features');
  json = await webhook(1);
  slack = await webhook(0);
  await admin.connect();
  await createTopicsReady(admin, [
    { topic: SOURCE, numPartitions: 1 },
    { topic: `${SOURCE}.dlq`, numPartitions: 1 },
  ]);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: SOURCE,
    messages: Array.from({ length: 5 }, (_, i) => ({ value: `r${i}` })),
  });
  await producer.disconnect();
}, 60_000);
afterAll(async () => {
  await admin.deleteTopics({ topics: [SOURCE, `${SOURCE}.dlq`, ALERTS] }).catch(() => undefined);
  await admin.disconnect();
  json?.server.close();
  slack?.server.close();
  tmp?.cleanup();
});

describe('alerts on Kafka signals', { timeout: 90_000 }, () => {
  it('fires to the topic and both webhooks once, then sends resolved once', async () => {
    const config: LarderConfig = resolveConfig(
      {
        home: join(tmp.dir, 'home'),
        namespace: NAMESPACE,
        kafka: { brokers: BROKERS },
        alerts: {
          rules: [
            { name: 'lag', signal: 'consumer_lag', max: 2, topics: [SOURCE], severity: 'critical' },
            { name: 'dlq', signal: 'dlq_rate', maxPerMinute: 5, topics: [SOURCE] },
          ],
          destinations: [
            { type: 'kafka', topic: ALERTS },
            { type: 'webhook', url: json.url, retries: 2 },
            { type: 'webhook', url: slack.url, format: 'slack', retries: 0 },
          ],
        },
      },
      tmp.dir,
      {},
    );
    let now = Date.UTC(2026, 0, 1);
    const signals = projectSignals(config, repo);
    const destinations = alertDestinations(config.alerts!.destinations, config.kafka, {
      baseDelayMs: 20,
    });
    const ev = new AlertEvaluator({
      alerts: config.alerts!,
      statePath: alertStatePath(config.home),
      read: signals.read,
      destinations,
      clock: () => now,
    });
    try {
      // The group never committed: 5 records behind. The DLQ's first total is only recorded.
      const r1 = await ev.evaluate();
      expect(r1.errors).toEqual([]);
      expect(r1.fired.map((a) => a.fingerprint)).toEqual([`lag{topic=${SOURCE}}`]);
      expect(json.requests).toBe(2); // a 500, then accepted on the retry

      // 12 dead letters in a minute: over 5/min.
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: `${SOURCE}.dlq`,
        messages: Array.from({ length: 12 }, (_, i) => ({ value: `bad${i}` })),
      });
      await producer.disconnect();
      now += 60_000;
      const r2 = await ev.evaluate();
      expect(r2.fired.map((a) => [a.fingerprint, a.value])).toEqual([
        [`dlq{topic=${SOURCE}.dlq}`, 12],
      ]);

      // The group catches up and the DLQ is quiet: both resolve.
      await admin.setOffsets({
        groupId: `${NAMESPACE}-stream`,
        topic: SOURCE,
        partitions: [{ partition: 0, offset: '5' }],
      });
      now += 60_000;
      const r3 = await ev.evaluate();
      expect(r3.resolved.map((a) => a.fingerprint).sort()).toEqual([
        `dlq{topic=${SOURCE}.dlq}`,
        `lag{topic=${SOURCE}}`,
      ]);
      now += 60_000;
      const r4 = await ev.evaluate();
      expect([r4.fired, r4.resolved, r4.firing]).toEqual([[], [], []]);
    } finally {
      await signals.close();
      await Promise.all(destinations.map((d) => d.close()));
    }

    const sequence = [
      [`lag{topic=${SOURCE}}`, 'firing'],
      [`dlq{topic=${SOURCE}.dlq}`, 'firing'],
      [`lag{topic=${SOURCE}}`, 'resolved'],
      [`dlq{topic=${SOURCE}.dlq}`, 'resolved'],
    ];
    const bodies = json.bodies as AlertMessage[];
    expect(bodies.map((b) => [b.fingerprint, b.status])).toEqual(sequence);
    expect(bodies[0]).toMatchObject({
      event: 'larder.alert',
      rule: 'lag',
      signal: 'consumer_lag',
      severity: 'critical',
      labels: { topic: SOURCE },
      value: 5,
      threshold: 2,
      summary: `consumer group ${NAMESPACE}-stream is 5 record(s) behind on ${SOURCE} (at most 2)`,
    });
    expect((slack.bodies as { text: string }[]).map((b) => b.text)).toEqual([
      `:rotating_light: [FIRING] lag (critical): consumer group ${NAMESPACE}-stream is 5 record(s) behind on ${SOURCE} (at most 2)`,
      expect.stringMatching(
        /^:rotating_light: \[FIRING\] dlq \(warning\): .*\.dlq received 12 record\(s\) in 60 s: 12\/min/,
      ),
      expect.stringMatching(/^:white_check_mark: \[RESOLVED\] lag \(critical\)/),
      expect.stringMatching(/^:white_check_mark: \[RESOLVED\] dlq \(warning\)/),
    ]);

    // The topic holds the same four messages, keyed by fingerprint.
    const consumer = kafka.consumer({ groupId: `alerts-read-${id}`, maxWaitTimeInMs: 50 });
    await consumer.connect();
    const got: [string, string][] = [];
    try {
      await consumer.subscribe({ topic: ALERTS, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const m = JSON.parse(message.value!.toString()) as AlertMessage;
          expect(message.key!.toString()).toBe(m.fingerprint);
          expect(message.headers!.status!.toString()).toBe(m.status);
          got.push([m.fingerprint, m.status]);
        },
      });
      await until('four alert messages', () => (got.length >= 4 ? true : null), 30_000);
    } finally {
      await consumer.disconnect();
    }
    expect(got).toEqual(sequence);
  });
});
