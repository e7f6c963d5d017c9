/**
 * `createTopicsReady` on the real broker: a created topic is led on return, an existing one
 * answers false, and the broker's "not yet" answers for a topic it has just created
 * (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE: kafkajs's own `waitForLeaders` fails on
 * the first) are waited out — injected into the real admin's metadata calls, since the broker
 * gives them only under load — until the timeout, then LARDER_BROKER_UNAVAILABLE.
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopicsReady, type CreateTopicsAdmin } from '../../core/create-topics.ts';
import { LarderError } from '../../core/errors.ts';
import { kafka } from '../streaming/stream-fixture.ts';

const admin: Admin = kafka.admin();
const made: string[] = [];
const name = (): string => {
  const t = `test-${randomUUID()}-ready`;
  made.push(t);
  return t;
};

/** The real admin, its first `failures` metadata answers replaced by a protocol error of `type`. */
function flaky(type: string, failures: number): CreateTopicsAdmin & { calls: () => number } {
  let calls = 0;
  return {
    createTopics: (o) => admin.createTopics(o),
    fetchTopicMetadata: async (o) => {
      calls++;
      if (calls <= failures)
        throw Object.assign(new Error('This server does not host this topic-partition'), {
          type,
        });
      return admin.fetchTopicMetadata(o);
    },
    calls: () => calls,
  };
}

beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  const existing = new Set(await admin.listTopics());
  const topics = made.filter((t) => existing.has(t));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => {});
  await admin.disconnect();
});

describe('createTopicsReady', () => {
  it('creates topics whose every partition has a leader on return; an existing topic answers false', async () => {
    const a = name();
    const b = name();
    const specs = [
      { topic: a, numPartitions: 3 },
      { topic: b, numPartitions: 1 },
    ];
    expect(await createTopicsReady(admin, specs)).toBe(true);
    const { topics } = await admin.fetchTopicMetadata({ topics: [a, b] });
    expect(topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(
      [
        [a, 3],
        [b, 1],
      ].sort(),
    );
    for (const t of topics)
      for (const p of t.partitions) expect(p.leader).toBeGreaterThanOrEqual(0);
    expect(await createTopicsReady(admin, specs)).toBe(false);
  });

  it.each(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE'])(
    'waits out %s answers for a topic just created',
    async (type) => {
      const t = name();
      const a = flaky(type, 3);
      expect(await createTopicsReady(a, [{ topic: t, numPartitions: 2 }])).toBe(true);
      expect(a.calls()).toBeGreaterThanOrEqual(4);
      const { topics } = await admin.fetchTopicMetadata({ topics: [t] });
      expect(topics[0]!.partitions).toHaveLength(2);
    },
  );

  it('fails with LARDER_BROKER_UNAVAILABLE, naming the topics, when no leader comes in time', async () => {
    const t = name();
    const err = await createTopicsReady(
      flaky('UNKNOWN_TOPIC_OR_PARTITION', Infinity),
      [{ topic: t, numPartitions: 1 }],
      300,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarderError);
    expect((err as LarderError).code).toBe('LARDER_BROKER_UNAVAILABLE');
    expect((err as LarderError).message).toContain(t);
  });

  it('passes on any other broker error at once', async () => {
    const t = name();
    const a = flaky('TOPIC_AUTHORIZATION_FAILED', 1);
    await expect(createTopicsReady(a, [{ topic: t, numPartitions: 1 }])).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    expect(a.calls()).toBe(1);
  });
});
