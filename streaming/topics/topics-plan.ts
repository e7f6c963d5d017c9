/**
 * `larder topics plan|apply` and `larder stream`'s check: the stream sources' declared topics
 * (`topicSettings`) against the cluster.
 *
 * A declaration belongs to the topic named in the definition. A source pointed at another
 * topic by `LARDER_TOPIC_<NAME>` (a test's or a tenant's topic) is not managed: its topic is
 * neither created from the declaration nor checked against it.
 */
import { LarderError } from '../../core/errors.ts';
import { resolveTopic } from '../../definitions/dsl/sources.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { TopicSettingsSpec } from '../../definitions/spec.ts';
import { brokerCount, observeTopics, runAction, type TopicAdmin } from './kafka-topics.ts';
import {
  describeDrift,
  planTopic,
  refusal,
  type ApplyFlags,
  type TopicAction,
  type TopicPlan,
} from './topic-drift.ts';

/** A stream source whose topic is not managed, and why. */
export interface UnmanagedTopic {
  source: string;
  topic: string;
  reason: string;
}

export interface TopicsReport {
  brokers: number;
  topics: TopicPlan[];
  unmanaged: UnmanagedTopic[];
}

export interface TopicsScope {
  repo: Repository;
  /** `config.stream.topics`: the `LARDER_TOPIC_<NAME>` overrides. */
  overrides: Readonly<Record<string, string>>;
  /** Stream sources to cover (default: all). */
  sources?: readonly string[];
}

interface Declared {
  source: string;
  topic: string;
  settings: TopicSettingsSpec;
}

function declaredTopics(scope: TopicsScope): { declared: Declared[]; unmanaged: UnmanagedTopic[] } {
  const declared: Declared[] = [];
  const unmanaged: UnmanagedTopic[] = [];
  for (const s of scope.repo.streamSources.values()) {
    if (scope.sources && !scope.sources.includes(s.spec.name)) continue;
    const topic = resolveTopic(s.spec, scope.overrides);
    const source = s.spec.name;
    if (topic !== s.spec.topic)
      unmanaged.push({ source, topic, reason: `${s.spec.topicEnv} overrides the declared topic` });
    else if (!s.spec.topicSettings)
      unmanaged.push({ source, topic, reason: 'no topicSettings declared' });
    else declared.push({ source, topic, settings: s.spec.topicSettings });
  }
  return { declared, unmanaged };
}

/** Whether `scope` has a declared topic to create or check (else no broker call is needed). */
export const managesTopics = (scope: TopicsScope): boolean =>
  declaredTopics(scope).declared.length > 0;

/** Compares every declared topic in `scope` with the cluster. */
export async function planTopics(admin: TopicAdmin, scope: TopicsScope): Promise<TopicsReport> {
  const { declared, unmanaged } = declaredTopics(scope);
  const brokers = await brokerCount(admin);
  const observed = await observeTopics(
    admin,
    declared.map((d) => d.topic),
  );
  return {
    brokers,
    topics: declared.map((d) =>
      planTopic(d.source, d.topic, d.settings, observed.get(d.topic) ?? null, brokers),
    ),
    unmanaged,
  };
}

/** What `apply` did and what it left. */
export interface ApplyResult {
  applied: { topic: string; action: TopicAction }[];
  /** Changes the flags did not allow. */
  refused: { topic: string; reason: string }[];
  /** Drift no apply can fix. */
  unfixable: { topic: string; reason: string }[];
}

/** Creates missing topics and makes the changes `flags` allow; reports the rest. */
export async function applyTopics(
  admin: TopicAdmin,
  report: TopicsReport,
  flags: ApplyFlags,
): Promise<ApplyResult> {
  const result: ApplyResult = { applied: [], refused: [], unfixable: [] };
  for (const t of report.topics) {
    for (const action of t.actions) {
      const why = refusal(action, flags);
      if (why) result.refused.push({ topic: t.topic, reason: why });
      else {
        await runAction(admin, t.topic, action);
        result.applied.push({ topic: t.topic, action });
      }
    }
    for (const reason of t.unfixable) result.unfixable.push({ topic: t.topic, reason });
  }
  return result;
}

/**
 * Before `larder stream` consumes: creates the missing declared topics from their declaration,
 * and refuses (LARDER_TOPIC_MISMATCH) a declared topic with another partition count, unless
 * `allowMismatch`. Returns warnings to log: a capped replication factor, an allowed mismatch,
 * drift in replication factor, retention or cleanup policy (which do not stop the worker).
 */
export async function prepareStreamTopics(
  admin: TopicAdmin,
  scope: TopicsScope,
  allowMismatch: boolean,
): Promise<string[]> {
  let report = await planTopics(admin, scope);
  const warnings: string[] = [];
  const missing = report.topics.filter((t) => t.status === 'missing');
  for (const t of missing) {
    for (const a of t.actions) await runAction(admin, t.topic, a);
    warnings.push(...t.warnings.map((w) => `topic "${t.topic}": ${w}`));
  }
  // Read again what was created: another worker or a producer may have created it first
  // (creating an existing topic changes nothing), with another partition count.
  if (missing.length > 0) report = await planTopics(admin, scope);
  for (const t of report.topics) {
    for (const x of t.drift.filter((y) => y.field !== 'partitions'))
      warnings.push(`topic "${t.topic}": ${describeDrift(x)} (see \`larder topics plan\`)`);
    const d = t.drift.find((x) => x.field === 'partitions');
    if (!d) continue;
    const what = `topic "${t.topic}" has ${d.actual} partitions, but stream source "${t.source}" declares ${d.declared}`;
    if (allowMismatch) warnings.push(`${what} (allowed by --allow-partition-mismatch)`);
    else
      throw new LarderError('LARDER_TOPIC_MISMATCH', what, {
        hint: 'see `larder topics plan`; fix the topic or the declaration, or pass --allow-partition-mismatch',
      });
  }
  return warnings;
}

/** Runs `fn` with a connected admin client of `kafka` (the configuration's `kafka` section). */
export async function withTopicAdmin<T>(
  kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    /** The Kafka client's retries of a failed request (default 5, kafkajs's). */
    readonly retries?: number;
  },
  fn: (admin: TopicAdmin) => Promise<T>,
): Promise<T> {
  // Loaded on use: `larder topics` is in the CLI's command tree, which every `larder` loads.
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({
    clientId: kafka.clientId,
    brokers: [...kafka.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: kafka.retries ?? 5 },
  }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** The lines `larder topics plan` prints for one topic. */
export function formatTopicPlan(t: TopicPlan, flags: ApplyFlags | null): string[] {
  const head =
    t.status === 'missing'
      ? `+ ${t.topic} (${t.source}): missing, will be created`
      : t.status === 'in_sync'
        ? `  ${t.topic} (${t.source}): matches the declaration`
        : `~ ${t.topic} (${t.source}): drift`;
  const lines = [head];
  for (const d of t.drift) lines.push(`    ${describeDrift(d)}`);
  for (const a of t.actions) {
    const why = flags ? refusal(a, flags) : null;
    lines.push(`    ${why ? 'refused: ' : 'apply: '}${describeAction(a)}${why ? ` (${why})` : ''}`);
  }
  for (const u of t.unfixable) lines.push(`    cannot fix: ${u}`);
  for (const w of t.warnings) lines.push(`    warning: ${w}`);
  return lines;
}

/** One action in words: `create with 24 partitions, replication factor 1, retention.ms=…`. */
export function describeAction(a: TopicAction): string {
  const configs = (c: Record<string, string>): string =>
    Object.entries(c)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
  switch (a.kind) {
    case 'create':
      return [
        `create with ${a.partitions} partitions`,
        a.replicationFactor === null
          ? 'the default replication factor'
          : `replication factor ${a.replicationFactor}`,
        ...(Object.keys(a.configs).length > 0 ? [configs(a.configs)] : []),
      ].join(', ');
    case 'add_partitions':
      return `add partitions ${a.from} → ${a.to}${a.holdsData ? ' (the topic holds data)' : ''}`;
    case 'alter_config':
      return `set ${configs(a.configs)}`;
  }
}
