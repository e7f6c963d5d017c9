/**
 * `consumer_lag`: per source topic, the stream group's (`<namespace>-stream`) unconsumed
 * records. `dlq_rate`: per `<topic>.dlq`, records written per minute since the previous
 * evaluation (the totals are kept in the state file; the first evaluation only records them).
 */
import type { AlertRuleOf } from '../../config/alerts-config.ts';
import { dlqTopic } from '../../streaming/dead-letter.ts';
import type { Observation, SignalMemory } from '../alert-types.ts';
import { consumerLag, recordsWritten, type OffsetsAdmin } from './kafka-offsets.ts';

export async function consumerLagSignal(
  rule: AlertRuleOf<'consumer_lag'>,
  admin: OffsetsAdmin,
  groupId: string,
  topics: readonly string[],
): Promise<Observation[]> {
  const out: Observation[] = [];
  for (const topic of rule.topics ?? topics) {
    const lag = await consumerLag(admin, groupId, topic);
    out.push({
      labels: { topic },
      value: lag,
      threshold: rule.max,
      breached: lag > rule.max,
      summary: `consumer group ${groupId} is ${lag} record(s) behind on ${topic} (at most ${rule.max})`,
    });
  }
  return out;
}

export async function dlqRateSignal(
  rule: AlertRuleOf<'dlq_rate'>,
  admin: OffsetsAdmin,
  topics: readonly string[],
  now: number,
  memory: SignalMemory,
): Promise<Observation[]> {
  const existing = new Set(await admin.listTopics());
  const out: Observation[] = [];
  for (const source of rule.topics ?? topics) {
    const topic = dlqTopic(source);
    const total = await recordsWritten(admin, topic, existing);
    const key = `dlq:${topic}`;
    const prev = memory[key];
    memory[key] = { at: now, total };
    if (!prev || now <= prev.at) continue;
    const perMinute = (Math.max(0, total - prev.total) * 60_000) / (now - prev.at);
    const rate = Math.round(perMinute * 1000) / 1000;
    out.push({
      labels: { topic },
      value: rate,
      threshold: rule.maxPerMinute,
      breached: rate > rule.maxPerMinute,
      summary: `${topic} received ${total - prev.total} record(s) in ${Math.round((now - prev.at) / 1000)} s: ${rate}/min (at most ${rule.maxPerMinute}/min)`,
    });
  }
  return out;
}
