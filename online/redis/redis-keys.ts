/**
 * Redis key of one entity of one view: `<namespace>:<view>:{<entity key>}`. The hash tag is
 * the entity key, so every view of an entity lives in one cluster slot. See
 * docs/online-store-format.md.
 */
export function redisKey(namespace: string, view: string, entityKey: string): string {
  return `${namespace}:${view}:{${entityKey}}`;
}

/** SCAN pattern matching every key of a namespace (namespaces are `[a-zA-Z0-9_-]+`). */
export function namespacePattern(namespace: string): string {
  return `${namespace}:*`;
}

/**
 * Checkpoints of a consumer group on a topic: a hash, field `<partition>` = last applied
 * offset. With a `slotTag` (Redis Cluster), the per-slot checkpoint hash that lives in that
 * slot: `<namespace>:__ckpt:{<tag>}:<group>:<topic>`.
 */
export function checkpointKey(
  namespace: string,
  group: string,
  topic: string,
  slotTag?: string,
): string {
  return slotTag === undefined
    ? `${namespace}:__ckpt:${group}:${topic}`
    : `${namespace}:__ckpt:{${slotTag}}:${group}:${topic}`;
}

/**
 * An idempotency key of `POST /push` (a hash: `fp`, `resp`; expires after the key's
 * retention): `<namespace>:__idem:<sha256 of the key>`. With a `slotTag` (Redis Cluster), the
 * key's marker in that slot: `<namespace>:__idem:{<tag>}:<sha256>`.
 */
export function idempotencyKey(namespace: string, keyHash: string, slotTag?: string): string {
  return slotTag === undefined
    ? `${namespace}:__idem:${keyHash}`
    : `${namespace}:__idem:{${slotTag}}:${keyHash}`;
}

/**
 * A view's key sample (a sorted set: entity key → the write time in ms, at most
 * `SAMPLE_SIZE` members, the most recent), kept by the writers so that `sampleEntityKeys`
 * finds entities whatever else the Redis holds: `<namespace>:__sample:<view>`.
 */
export function sampleKey(namespace: string, view: string): string {
  return `${namespace}:__sample:${view}`;
}
