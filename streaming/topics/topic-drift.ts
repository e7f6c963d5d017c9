/**
 * What `larder topics plan` finds for one declared topic: how the topic on the cluster differs
 * from the source's `topicSettings`, and what `apply` would do about it. Pure: the cluster's
 * state comes in as an `ObservedTopic` (streaming/topics/kafka-topics.ts reads it).
 */
import { formatDuration } from '../../core/duration.ts';
import type { TopicSettingsSpec } from '../../definitions/spec.ts';

/** A topic as the cluster has it. */
export interface ObservedTopic {
  partitions: number;
  /** The smallest replica count over its partitions. */
  replicationFactor: number;
  /** `retention.ms` (-1: forever). */
  retentionMs: number;
  /** `cleanup.policy`, normalized (`compact,delete`). */
  cleanupPolicy: string;
  /** Some partition holds records (its high watermark is above its low one). */
  holdsData: boolean;
}

export type DriftField = 'partitions' | 'replicationFactor' | 'retentionMs' | 'cleanupPolicy';

/** One declared field the topic does not match. */
export interface TopicDrift {
  field: DriftField;
  declared: number | string;
  actual: number | string;
}

/**
 * A change `apply` can make. `add_partitions` needs `--allow-repartition` when the topic holds
 * data (new partitions change which partition a key goes to); `alter_config` needs
 * `--alter-config`.
 */
export type TopicAction =
  | {
      kind: 'create';
      partitions: number;
      replicationFactor: number | null;
      configs: Record<string, string>;
    }
  | { kind: 'add_partitions'; from: number; to: number; holdsData: boolean }
  | { kind: 'alter_config'; configs: Record<string, string> };

export interface TopicPlan {
  /** The stream source declaring the topic. */
  source: string;
  topic: string;
  status: 'missing' | 'in_sync' | 'drift';
  drift: TopicDrift[];
  actions: TopicAction[];
  /** Drift no `apply` can fix: fewer partitions wanted, another replication factor. */
  unfixable: string[];
  /** The replication factor capped to the broker count, and the like. */
  warnings: string[];
}

/** `cleanup.policy` with its policies sorted: `delete,compact` → `compact,delete`. */
export const normalizePolicy = (p: string): string =>
  p
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .sort()
    .join(',');

const showRetention = (ms: number): string => (ms < 0 ? 'forever' : formatDuration(ms));

/** A drift as `plan` prints it: `partitions 6 → 24 declared`. */
export function describeDrift(d: TopicDrift): string {
  const show = (v: number | string): string =>
    d.field === 'retentionMs' && typeof v === 'number' ? showRetention(v) : String(v);
  const name = d.field === 'retentionMs' ? 'retention' : d.field;
  return `${name} ${show(d.actual)}, declared ${show(d.declared)}`;
}

/** The topic-level configs a declaration sets (`retention.ms`, `cleanup.policy`). */
export function declaredConfigs(s: TopicSettingsSpec): Record<string, string> {
  const out: Record<string, string> = {};
  if (s.retentionMs !== null) out['retention.ms'] = String(s.retentionMs);
  if (s.cleanupPolicy !== null) out['cleanup.policy'] = s.cleanupPolicy;
  return out;
}

/**
 * The replication factor to create with: the declared one, capped to `brokers` (a single local
 * broker cannot hold 3 replicas) with a warning; null (the broker's default) when undeclared.
 */
export function effectiveReplication(
  s: TopicSettingsSpec,
  brokers: number,
): { replicationFactor: number | null; warning: string | null } {
  if (s.replicationFactor === null) return { replicationFactor: null, warning: null };
  if (s.replicationFactor <= brokers)
    return { replicationFactor: s.replicationFactor, warning: null };
  return {
    replicationFactor: brokers,
    warning: `replication factor ${s.replicationFactor} declared, but the cluster has ${brokers} broker(s): using ${brokers}`,
  };
}

/** Compares a declaration with the topic on the cluster (`null`: it does not exist). */
export function planTopic(
  source: string,
  topic: string,
  declared: TopicSettingsSpec,
  observed: ObservedTopic | null,
  brokers: number,
): TopicPlan {
  const rf = effectiveReplication(declared, brokers);
  const warnings = rf.warning ? [rf.warning] : [];
  const configs = declaredConfigs(declared);
  if (observed === null)
    return {
      source,
      topic,
      status: 'missing',
      drift: [],
      actions: [
        {
          kind: 'create',
          partitions: declared.partitions,
          replicationFactor: rf.replicationFactor,
          configs,
        },
      ],
      unfixable: [],
      warnings,
    };
  const drift: TopicDrift[] = [];
  const actions: TopicAction[] = [];
  const unfixable: string[] = [];
  if (observed.partitions !== declared.partitions) {
    drift.push({ field: 'partitions', declared: declared.partitions, actual: observed.partitions });
    if (observed.partitions < declared.partitions)
      actions.push({
        kind: 'add_partitions',
        from: observed.partitions,
        to: declared.partitions,
        holdsData: observed.holdsData,
      });
    else
      unfixable.push(
        `${observed.partitions} partitions, declared ${declared.partitions}: Kafka cannot remove partitions (recreate the topic or declare ${observed.partitions})`,
      );
  }
  if (rf.replicationFactor !== null && observed.replicationFactor !== rf.replicationFactor) {
    drift.push({
      field: 'replicationFactor',
      declared: rf.replicationFactor,
      actual: observed.replicationFactor,
    });
    unfixable.push(
      `replication factor ${observed.replicationFactor}, declared ${rf.replicationFactor}: change it with a partition reassignment (kafka-reassign-partitions)`,
    );
  }
  const alter: Record<string, string> = {};
  if (declared.retentionMs !== null && observed.retentionMs !== declared.retentionMs) {
    drift.push({
      field: 'retentionMs',
      declared: declared.retentionMs,
      actual: observed.retentionMs,
    });
    alter['retention.ms'] = String(declared.retentionMs);
  }
  if (
    declared.cleanupPolicy !== null &&
    normalizePolicy(observed.cleanupPolicy) !== normalizePolicy(declared.cleanupPolicy)
  ) {
    drift.push({
      field: 'cleanupPolicy',
      declared: declared.cleanupPolicy,
      actual: observed.cleanupPolicy,
    });
    alter['cleanup.policy'] = declared.cleanupPolicy;
  }
  if (Object.keys(alter).length > 0) actions.push({ kind: 'alter_config', configs: alter });
  return {
    source,
    topic,
    status: drift.length === 0 ? 'in_sync' : 'drift',
    drift,
    actions,
    unfixable,
    warnings,
  };
}

/** What `apply` may do under its flags. */
export interface ApplyFlags {
  /** Add partitions to a topic that holds data. */
  allowRepartition: boolean;
  /** Change `retention.ms` / `cleanup.policy` of an existing topic. */
  alterConfig: boolean;
}

/** Why `apply` refuses an action under `flags`, or null when it may run it. */
export function refusal(a: TopicAction, flags: ApplyFlags): string | null {
  if (a.kind === 'add_partitions' && a.holdsData && !flags.allowRepartition)
    return `adding partitions (${a.from} → ${a.to}) to a topic that holds data changes which partition a key goes to: pass --allow-repartition`;
  if (a.kind === 'alter_config' && !flags.alterConfig)
    return `changing ${Object.keys(a.configs).join(', ')} of an existing topic: pass --alter-config`;
  return null;
}
