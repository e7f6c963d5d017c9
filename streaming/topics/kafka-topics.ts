/**
 * The Kafka side of topic declarations: reads topics' state (partitions, replicas, retention,
 * cleanup policy, whether they hold data) and makes the changes `apply` decided on, through the
 * slice of the kafkajs admin client it needs.
 */
import type { Admin, ConfigResourceTypes } from 'kafkajs';
import { normalizePolicy, type ObservedTopic, type TopicAction } from './topic-drift.ts';
import { createTopicsReady } from '../../core/create-topics.ts';

/** The admin calls used here. */
export type TopicAdmin = Pick<
  Admin,
  | 'listTopics'
  | 'fetchTopicMetadata'
  | 'fetchTopicOffsets'
  | 'describeCluster'
  | 'describeConfigs'
  | 'createTopics'
  | 'createPartitions'
  | 'alterConfigs'
>;

/** `ConfigResourceTypes.TOPIC` (kafkajs's enums are not named exports under ESM). */
const TOPIC = 2 as ConfigResourceTypes;

/** `ConfigSource.TOPIC_CONFIG`: a config set on the topic itself (not a broker default). */
const TOPIC_CONFIG_SOURCE = 1;

/** How many brokers the cluster has. */
export async function brokerCount(admin: TopicAdmin): Promise<number> {
  return (await admin.describeCluster()).brokers.length;
}

/** The state of each of `topics` that exists (missing ones are absent from the map). */
export async function observeTopics(
  admin: TopicAdmin,
  topics: readonly string[],
): Promise<Map<string, ObservedTopic>> {
  const existing = new Set(await admin.listTopics());
  const names = [...new Set(topics)].filter((t) => existing.has(t));
  const out = new Map<string, ObservedTopic>();
  if (names.length === 0) return out;
  const [meta, configs] = await Promise.all([
    admin.fetchTopicMetadata({ topics: names }),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({
        type: TOPIC,
        name,
        configNames: ['retention.ms', 'cleanup.policy'],
      })),
    }),
  ]);
  for (const t of meta.topics) {
    const entries = configs.resources.find((r) => r.resourceName === t.name)?.configEntries ?? [];
    const value = (n: string): string => entries.find((e) => e.configName === n)?.configValue ?? '';
    const offsets = await admin.fetchTopicOffsets(t.name);
    out.set(t.name, {
      partitions: t.partitions.length,
      replicationFactor: Math.min(...t.partitions.map((p) => p.replicas.length)),
      retentionMs: Number(value('retention.ms')),
      cleanupPolicy: normalizePolicy(value('cleanup.policy')),
      holdsData: offsets.some((o) => Number(o.high) > Number(o.low)),
    });
  }
  return out;
}

/**
 * Makes one change. `alter_config` keeps the topic's other topic-level configs: Kafka's
 * AlterConfigs replaces the whole set, so they are read and sent along.
 */
export async function runAction(
  admin: TopicAdmin,
  topic: string,
  action: TopicAction,
): Promise<void> {
  switch (action.kind) {
    case 'create':
      await createTopicsReady(admin, [
        {
          topic,
          numPartitions: action.partitions,
          ...(action.replicationFactor === null
            ? {}
            : { replicationFactor: action.replicationFactor }),
          configEntries: Object.entries(action.configs).map(([name, value]) => ({
            name,
            value,
          })),
        },
      ]);
      return;
    case 'add_partitions':
      await admin.createPartitions({ topicPartitions: [{ topic, count: action.to }] });
      return;
    case 'alter_config': {
      const current = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: TOPIC, name: topic }],
      });
      const kept = Object.fromEntries(
        (current.resources[0]?.configEntries ?? [])
          .filter((e) => e.configSource === TOPIC_CONFIG_SOURCE && !e.isSensitive)
          .map((e) => [e.configName, e.configValue]),
      );
      const merged = { ...kept, ...action.configs };
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: TOPIC,
            name: topic,
            configEntries: Object.entries(merged).map(([name, value]) => ({ name, value })),
          },
        ],
      });
      return;
    }
  }
}
