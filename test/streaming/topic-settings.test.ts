/**
 * Topic declarations without a broker: `streamSource({ topicSettings })` validation and spec,
 * the registry diff `plan` shows for a changed declaration, and the drift computation of
 * `larder topics plan|apply` (streaming/topics/topic-drift.ts).
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../core/errors.ts';
import { batchSource, streamSource } from '../../definitions/index.ts';
import type { TopicSettingsSpec } from '../../definitions/spec.ts';
import { diffSpec } from '../../registry/spec-diff.ts';
import {
  describeDrift,
  normalizePolicy,
  planTopic,
  refusal,
  type ObservedTopic,
} from '../../streaming/topics/topic-drift.ts';

const batch = batchSource({
  name: 'events_batch',
  schema: z.object({ id: z.string(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});

const source = (topicSettings: unknown) =>
  streamSource({
    name: 'events',
    topic: 'events',
    batchSource: batch,
    topicSettings: topicSettings as never,
  });

function problems(topicSettings: unknown): DefinitionError['problems'] {
  try {
    source(topicSettings);
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionError);
    return (e as DefinitionError).problems;
  }
  throw new Error('expected a DefinitionError');
}

const DAY = 86_400_000;

describe('streamSource topicSettings', () => {
  it('carries the declaration in the spec: retention in ms, "forever" as -1, undeclared as null', () => {
    expect(
      source({ partitions: 24, replicationFactor: 3, retention: '7d', cleanupPolicy: 'delete' })
        .spec.topicSettings,
    ).toEqual({
      partitions: 24,
      replicationFactor: 3,
      retentionMs: 7 * DAY,
      cleanupPolicy: 'delete',
    });
    expect(source({ partitions: 1, retention: 'forever' }).spec.topicSettings).toEqual({
      partitions: 1,
      replicationFactor: null,
      retentionMs: -1,
      cleanupPolicy: null,
    });
  });

  it('a source without a declaration has no topicSettings key (its registry hash is unchanged)', () => {
    const s = streamSource({ name: 'plain', topic: 'plain', batchSource: batch });
    expect('topicSettings' in s.spec).toBe(false);
  });

  it('names the file, line, field and hint of a retention that is not a duration', () => {
    const [p, ...rest] = problems({ partitions: 3, retention: '7 days' });
    expect(rest).toEqual([]);
    expect(p).toMatchObject({
      object: 'stream source "events"',
      field: 'topicSettings.retention',
      hint: 'write a duration such as "7d" or "12h", or "forever" to keep records forever',
    });
    expect(p!.message).toContain('"7 days" is not a duration');
    expect(p!.at).toMatch(/topic-settings\.test\.ts:\d+$/);
  });

  it('refuses partitions and replication factors that are not positive integers', () => {
    expect(problems({ partitions: 0 }).map((p) => p.field)).toEqual(['topicSettings.partitions']);
    expect(problems({ partitions: 1.5 }).map((p) => p.field)).toEqual(['topicSettings.partitions']);
    expect(problems({ replicationFactor: 1 }).map((p) => p.field)).toEqual([
      'topicSettings.partitions',
    ]);
    expect(problems({ partitions: 2, replicationFactor: 0 }).map((p) => p.field)).toEqual([
      'topicSettings.replicationFactor',
    ]);
  });

  it('refuses an unknown cleanup policy and an unknown key', () => {
    const [policy] = problems({ partitions: 2, cleanupPolicy: 'purge' });
    expect(policy!.field).toBe('topicSettings.cleanupPolicy');
    expect(policy!.message).toContain("'delete' | 'compact' | 'compact,delete'");
    const [key] = problems({ partitions: 2, retentionMs: 5 });
    expect(key!.message).toContain("Unrecognized key(s) in object: 'retentionMs'");
  });

  it('plan shows a changed declaration field by field, retention as a duration', () => {
    const a = source({ partitions: 24, retention: '7d' }).spec;
    const b = source({ partitions: 12, retention: '30d', cleanupPolicy: 'compact' }).spec;
    expect(diffSpec(a, b).map((d) => d.text)).toEqual([
      '~ topicSettings.partitions 24 → 12',
      '~ topicSettings.retention 7d → 30d',
      '~ topicSettings.cleanupPolicy null → compact',
    ]);
    const forever = source({ partitions: 24, retention: 'forever' }).spec;
    expect(diffSpec(a, forever).map((d) => d.text)).toEqual([
      '~ topicSettings.retention 7d → forever',
    ]);
  });
});

const DECLARED: TopicSettingsSpec = {
  partitions: 6,
  replicationFactor: 3,
  retentionMs: 7 * DAY,
  cleanupPolicy: 'delete',
};
const SAME: ObservedTopic = {
  partitions: 6,
  replicationFactor: 3,
  retentionMs: 7 * DAY,
  cleanupPolicy: 'delete',
  holdsData: true,
};

describe('planTopic: a declaration against the topic on the cluster', () => {
  it('a missing topic is created with the declaration, the replication factor capped to the brokers', () => {
    const p = planTopic('events', 'ev', DECLARED, null, 1);
    expect(p.status).toBe('missing');
    expect(p.actions).toEqual([
      {
        kind: 'create',
        partitions: 6,
        replicationFactor: 1,
        configs: { 'retention.ms': String(7 * DAY), 'cleanup.policy': 'delete' },
      },
    ]);
    expect(p.warnings).toEqual([
      'replication factor 3 declared, but the cluster has 1 broker(s): using 1',
    ]);
    const uncapped = planTopic('events', 'ev', DECLARED, null, 3);
    expect(uncapped.warnings).toEqual([]);
    expect(uncapped.actions[0]).toMatchObject({ replicationFactor: 3 });
  });

  it('a matching topic is in sync; so is a capped replication factor on a small cluster', () => {
    expect(planTopic('events', 'ev', DECLARED, SAME, 3)).toMatchObject({
      status: 'in_sync',
      drift: [],
      actions: [],
      unfixable: [],
    });
    expect(planTopic('events', 'ev', DECLARED, { ...SAME, replicationFactor: 1 }, 1).status).toBe(
      'in_sync',
    );
  });

  it('undeclared fields are never drift', () => {
    const bare: TopicSettingsSpec = {
      partitions: 6,
      replicationFactor: null,
      retentionMs: null,
      cleanupPolicy: null,
    };
    const other = { ...SAME, replicationFactor: 1, retentionMs: -1, cleanupPolicy: 'compact' };
    expect(planTopic('events', 'ev', bare, other, 3).status).toBe('in_sync');
  });

  it('fewer partitions than declared: add them (refused on a topic with data unless allowed)', () => {
    const p = planTopic('events', 'ev', DECLARED, { ...SAME, partitions: 4 }, 3);
    expect(p.status).toBe('drift');
    expect(p.drift).toEqual([{ field: 'partitions', declared: 6, actual: 4 }]);
    expect(p.actions).toEqual([{ kind: 'add_partitions', from: 4, to: 6, holdsData: true }]);
    const none = { allowRepartition: false, alterConfig: false };
    expect(refusal(p.actions[0]!, none)).toContain('pass --allow-repartition');
    expect(refusal(p.actions[0]!, { ...none, allowRepartition: true })).toBeNull();
    const empty = planTopic(
      'events',
      'ev',
      DECLARED,
      { ...SAME, partitions: 4, holdsData: false },
      3,
    );
    expect(refusal(empty.actions[0]!, none)).toBeNull();
  });

  it('more partitions than declared, or another replication factor: drift no apply can fix', () => {
    const p = planTopic(
      'events',
      'ev',
      DECLARED,
      { ...SAME, partitions: 8, replicationFactor: 2 },
      3,
    );
    expect(p.drift.map((d) => d.field)).toEqual(['partitions', 'replicationFactor']);
    expect(p.actions).toEqual([]);
    expect(p.unfixable).toEqual([
      '8 partitions, declared 6: Kafka cannot remove partitions (recreate the topic or declare 8)',
      'replication factor 2, declared 3: change it with a partition reassignment (kafka-reassign-partitions)',
    ]);
  });

  it('retention and cleanup policy drift: one config change, only with --alter-config', () => {
    const p = planTopic(
      'events',
      'ev',
      DECLARED,
      { ...SAME, retentionMs: -1, cleanupPolicy: 'compact' },
      3,
    );
    expect(p.drift.map(describeDrift)).toEqual([
      'retention forever, declared 7d',
      'cleanupPolicy compact, declared delete',
    ]);
    expect(p.actions).toEqual([
      {
        kind: 'alter_config',
        configs: { 'retention.ms': String(7 * DAY), 'cleanup.policy': 'delete' },
      },
    ]);
    expect(refusal(p.actions[0]!, { allowRepartition: true, alterConfig: false })).toBe(
      'changing retention.ms, cleanup.policy of an existing topic: pass --alter-config',
    );
    expect(refusal(p.actions[0]!, { allowRepartition: false, alterConfig: true })).toBeNull();
  });

  it('cleanup policies compare as sets', () => {
    expect(normalizePolicy('delete, compact')).toBe('compact,delete');
    const both = { ...DECLARED, cleanupPolicy: 'compact,delete' as const };
    expect(
      planTopic('events', 'ev', both, { ...SAME, cleanupPolicy: 'compact,delete' }, 3).status,
    ).toBe('in_sync');
  });
});
