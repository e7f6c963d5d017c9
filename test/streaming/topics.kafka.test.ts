/**
 * Declared topics against the real broker (one broker: a declared replication factor of 3 is
 * capped to 1): `planTopics` / `applyTopics` (`larder topics plan|apply`) and
 * `prepareStreamTopics` (`larder stream`'s check). Each test declares its own `test-<uuid>`
 * topic in a throw-away repository and deletes it afterwards.
 */
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LarderError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import {
  applyTopics,
  managesTopics,
  planTopics,
  prepareStreamTopics,
  type TopicsScope,
} from '../../streaming/topics/topics-plan.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';
import { kafka } from './stream-fixture.ts';

const DAY = 86_400_000;
let admin: Admin;
const topics: string[] = [];
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(() => admin.disconnect());
afterEach(async () => {
  cleanups.splice(0).forEach((c) => c());
  const existing = new Set(await admin.listTopics());
  const mine = topics.splice(0).filter((t) => existing.has(t));
  if (mine.length > 0) await admin.deleteTopics({ topics: mine, timeout: 10_000 });
});

const newTopic = (): string => {
  const t = `test-${randomUUID()}-declared`;
  topics.push(t);
  return t;
};

/** A repository whose stream source `ev_stream` declares `topic` with `partitions`. */
async function declaring(topic: string, partitions: number): Promise<Repository> {
  const r = tempRepo({
    'repo.ts': BASE_REPO,
    'stream.ts': `import { streamSource } from 'larder';
import { events } from './repo.ts';
export const evStream = streamSource({
  name: 'ev_stream',
  topic: '${topic}',
  batchSource: events,
  topicSettings: { partitions: ${partitions}, replicationFactor: 3, retention: '1d', cleanupPolicy: 'delete' },
});
`,
  });
  cleanups.push(r.cleanup);
  return loadRepository(r.dir);
}

const scope = (repo: Repository): TopicsScope => ({ repo, overrides: {} });
const NO_FLAGS = { allowRepartition: false, alterConfig: false };

async function configsOf(topic: string): Promise<Record<string, string>> {
  const r = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2, name: topic }],
  });
  return Object.fromEntries(
    r.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
  );
}

async function partitionsOf(topic: string): Promise<{ count: number; replicas: number }> {
  const m = await admin.fetchTopicMetadata({ topics: [topic] });
  const parts = m.topics[0]!.partitions;
  return { count: parts.length, replicas: Math.min(...parts.map((p) => p.replicas.length)) };
}

describe('declared topics on the broker', () => {
  it('apply creates a missing topic as declared (replication capped to 1 broker); plan then finds it in sync', async () => {
    const topic = newTopic();
    const repo = await declaring(topic, 3);
    const before = await planTopics(admin, scope(repo));
    expect(before.brokers).toBe(1);
    expect(before.topics).toMatchObject([{ topic, source: 'ev_stream', status: 'missing' }]);
    expect(before.topics[0]!.warnings).toEqual([
      'replication factor 3 declared, but the cluster has 1 broker(s): using 1',
    ]);
    const r = await applyTopics(admin, before, NO_FLAGS);
    expect(r.applied.map((a) => a.action.kind)).toEqual(['create']);
    expect(r.refused).toEqual([]);
    expect(await partitionsOf(topic)).toEqual({ count: 3, replicas: 1 });
    expect(await configsOf(topic)).toMatchObject({
      'retention.ms': String(DAY),
      'cleanup.policy': 'delete',
    });
    const after = await planTopics(admin, scope(repo));
    expect(after.topics).toMatchObject([{ status: 'in_sync', drift: [], actions: [] }]);
  }, 60_000);

  it('retention drift is reported and changed only with alterConfig, keeping the other topic configs', async () => {
    const topic = newTopic();
    const repo = await declaring(topic, 1);
    await applyTopics(admin, await planTopics(admin, scope(repo)), NO_FLAGS);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2,
          name: topic,
          configEntries: [
            { name: 'retention.ms', value: String(2 * DAY) },
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'max.message.bytes', value: '123456' },
          ],
        },
      ],
    });
    const drifted = await planTopics(admin, scope(repo));
    expect(drifted.topics[0]).toMatchObject({
      status: 'drift',
      drift: [{ field: 'retentionMs', declared: DAY, actual: 2 * DAY }],
    });
    // The stream worker starts, with a warning.
    expect(await prepareStreamTopics(admin, scope(repo), false)).toEqual([
      `topic "${topic}": retention 2d, declared 1d (see \`larder topics plan\`)`,
    ]);
    const refused = await applyTopics(admin, drifted, NO_FLAGS);
    expect(refused.applied).toEqual([]);
    expect(refused.refused).toEqual([
      { topic, reason: 'changing retention.ms of an existing topic: pass --alter-config' },
    ]);
    expect((await configsOf(topic))['retention.ms']).toBe(String(2 * DAY));
    const fixed = await applyTopics(admin, drifted, { ...NO_FLAGS, alterConfig: true });
    expect(fixed.applied.map((a) => a.action.kind)).toEqual(['alter_config']);
    expect(await configsOf(topic)).toMatchObject({
      'retention.ms': String(DAY),
      'max.message.bytes': '123456',
    });
    expect((await planTopics(admin, scope(repo))).topics[0]!.status).toBe('in_sync');
  }, 60_000);

  it('partitions: a topic holding data gets more only with allowRepartition; stream refuses a mismatch', async () => {
    const topic = newTopic();
    await applyTopics(admin, await planTopics(admin, scope(await declaring(topic, 1))), NO_FLAGS);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'u1', value: '{}' }] });
    await producer.disconnect();

    const wider = await declaring(topic, 2);
    const plan = await planTopics(admin, scope(wider));
    expect(plan.topics[0]!.actions).toEqual([
      { kind: 'add_partitions', from: 1, to: 2, holdsData: true },
    ]);
    const refused = await applyTopics(admin, plan, NO_FLAGS);
    expect(refused.refused.map((r) => r.reason)).toEqual([
      'adding partitions (1 → 2) to a topic that holds data changes which partition a key goes to: pass --allow-repartition',
    ]);
    expect((await partitionsOf(topic)).count).toBe(1);

    const err = await prepareStreamTopics(admin, scope(wider), false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LarderError);
    expect((err as LarderError).code).toBe('LARDER_TOPIC_MISMATCH');
    expect((err as LarderError).message).toBe(
      `topic "${topic}" has 1 partitions, but stream source "ev_stream" declares 2`,
    );
    expect((err as LarderError).hint).toContain('--allow-partition-mismatch');
    expect(await prepareStreamTopics(admin, scope(wider), true)).toEqual([
      `topic "${topic}" has 1 partitions, but stream source "ev_stream" declares 2 (allowed by --allow-partition-mismatch)`,
    ]);

    await applyTopics(admin, plan, { ...NO_FLAGS, allowRepartition: true });
    expect((await partitionsOf(topic)).count).toBe(2);
    expect(await prepareStreamTopics(admin, scope(wider), false)).toEqual([]);

    // Declaring fewer than the topic has: never removed, reported, and refused by stream.
    const narrower = await planTopics(admin, scope(await declaring(topic, 1)));
    expect(narrower.topics[0]!.actions).toEqual([]);
    expect(narrower.topics[0]!.unfixable).toEqual([
      '2 partitions, declared 1: Kafka cannot remove partitions (recreate the topic or declare 2)',
    ]);
    const left = await applyTopics(admin, narrower, { allowRepartition: true, alterConfig: true });
    expect(left.unfixable).toHaveLength(1);
    expect((await partitionsOf(topic)).count).toBe(2);
  }, 90_000);

  it('stream reads a topic it created again: one another client created first with 1 partition is refused', async () => {
    const topic = newTopic();
    const repo = await declaring(topic, 2);
    // A producer's auto-creation wins the race between the plan and the worker's createTopics.
    const racing = {
      ...admin,
      createTopics: async (o: Parameters<Admin['createTopics']>[0]) => {
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
        return admin.createTopics(o);
      },
    } as Admin;
    const err = await prepareStreamTopics(racing, scope(repo), false).catch((e: unknown) => e);
    expect((err as LarderError).message).toBe(
      `topic "${topic}" has 1 partitions, but stream source "ev_stream" declares 2`,
    );
  }, 60_000);

  it('stream creates a missing declared topic; a topic overridden by LARDER_TOPIC_* is not managed', async () => {
    const topic = newTopic();
    const repo = await declaring(topic, 2);
    const other = newTopic();
    const overridden: TopicsScope = { repo, overrides: { LARDER_TOPIC_EV_STREAM: other } };
    expect(managesTopics(overridden)).toBe(false);
    expect(await planTopics(admin, overridden)).toMatchObject({
      topics: [],
      unmanaged: [
        {
          source: 'ev_stream',
          topic: other,
          reason: 'LARDER_TOPIC_EV_STREAM overrides the declared topic',
        },
      ],
    });
    expect(managesTopics(scope(repo))).toBe(true);
    expect(await prepareStreamTopics(admin, scope(repo), false)).toEqual([
      `topic "${topic}": replication factor 3 declared, but the cluster has 1 broker(s): using 1`,
    ]);
    expect(await partitionsOf(topic)).toEqual({ count: 2, replicas: 1 });
    expect(new Set(await admin.listTopics()).has(other)).toBe(false);
  }, 60_000);
});
