/**
 * Kafka offsets for the `consumer_lag` and `dlq_rate` signals, through the slice of the
 * kafkajs admin client they use (tests may pass their own).
 */
export interface OffsetsAdmin {
  listTopics(): Promise<string[]>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string; low: string }[]>;
  fetchOffsets(o: {
    groupId: string;
    topics: string[];
  }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

/**
 * Records of `topic` the group has not consumed: per partition, the end offset minus the
 * group's committed offset (the partition's first offset when the group committed none),
 * summed.
 */
export async function consumerLag(
  admin: OffsetsAdmin,
  groupId: string,
  topic: string,
): Promise<number> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const at = new Map(
    (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
      p.partition,
      Number(p.offset),
    ]),
  );
  let lag = 0;
  for (const e of ends) {
    const c = at.get(e.partition) ?? -1;
    const from = c >= 0 ? Math.max(c, Number(e.low)) : Number(e.low);
    lag += Math.max(0, Number(e.high) - from);
  }
  return lag;
}

/** Records ever written to `topic` (its end offsets summed); 0 when it does not exist. */
export async function recordsWritten(
  admin: OffsetsAdmin,
  topic: string,
  existing: ReadonlySet<string>,
): Promise<number> {
  if (!existing.has(topic)) return 0;
  const ends = await admin.fetchTopicOffsets(topic);
  return ends.reduce((n, e) => n + Number(e.high), 0);
}
