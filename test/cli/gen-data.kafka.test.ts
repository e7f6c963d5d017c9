import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopicsReady } from '../../core/create-topics.ts';

const run = promisify(execFile);
const kafka = new Kafka({
  clientId: 'larder-cli-test',
  brokers: ['127.0.0.1:9092'],
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
const topics: string[] = [];

afterAll(async () => {
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
  await admin.disconnect();
});

describe('larder gen-data --kafka', () => {
  it('produces to the topics named by LARDER_TOPIC_* overrides', async () => {
    const id = randomUUID();
    const env = {
      ...process.env,
      LARDER_TOPIC_USER_EVENTS: `test-${id}-ev`,
      LARDER_TOPIC_TRANSACTIONS: `test-${id}-tx`,
    };
    topics.push(env.LARDER_TOPIC_USER_EVENTS, env.LARDER_TOPIC_TRANSACTIONS);
    await admin.connect();
    await createTopicsReady(
      admin,
      topics.map((topic) => ({ topic, numPartitions: 2 })),
    );
    const args = [
      'bin/larder.js',
      'gen-data',
      '--kafka',
      '--events',
      '300',
      '--users',
      '20',
      '--products',
      '10',
      '--days',
      '1',
      '--end',
      '2026-01-01T00:00:00Z',
      '--json',
    ];
    const r = await run('node', args, { env });
    const summary = JSON.parse(r.stdout) as { events: number; transactions: number };
    expect(summary.events).toBe(300);
    const offsets = async (topic: string): Promise<number> =>
      (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    expect(await offsets(env.LARDER_TOPIC_USER_EVENTS)).toBe(300);
    expect(await offsets(env.LARDER_TOPIC_TRANSACTIONS)).toBe(summary.transactions);
    expect(summary.transactions).toBeGreaterThan(0);
  });
});
