import type { PlainReadConnection } from './plain-reads.ts';

/**
 * The slice of ioredis the Redis online store uses, so the store is typed by what it needs and
 * works the same over a single `Redis` and a `Cluster` (bullmq's `interfaces/redis-client.ts`).
 */
export type PipelineResult = [error: Error | null, result: unknown][];

export interface RedisPipelineLike {
  hgetall(key: string): unknown;
  hmget(key: string, ...fields: string[]): unknown;
  hkeys(key: string): unknown;
  hset(key: string, ...fieldValues: (string | number)[]): unknown;
  hdel(key: string, ...fields: string[]): unknown;
  pexpiretime(key: string): unknown;
  pexpire(key: string, ms: number): unknown;
  unlink(key: string): unknown;
  exists(key: string): unknown;
  zadd(key: string, ...scoreMembers: (string | number)[]): unknown;
  zremrangebyrank(key: string, start: number, stop: number): unknown;
  zrevrange(key: string, start: number, stop: number): unknown;
  exec(): Promise<PipelineResult | null>;
}

/** Custom commands registered with `defineCommand` (EVALSHA with an EVAL fallback). */
export interface ScriptPipeline extends RedisPipelineLike {
  /** `lua/set-fields.lua`, variable key count: `numKeys, ...keys, now`, then per key its segment. */
  larderSetFields(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
  /**
   * `lua/cas-fields.lua`, variable key count: `numKeys, ...keys, now`, then per key its
   * triples; answers the 1-based positions of the keys that conflicted.
   */
  larderCasFields(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
  /**
   * `lua/load-fields.lua`, variable key count: `numKeys, ...keys, now`, then per key its pairs
   * and triples; answers the 1-based positions of the keys that conflicted.
   */
  larderLoadFields(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
  /** Variable key count: `numKeys, ...keys, ...args`. */
  larderStreamBatch(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
  /** `lua/idempotent-batch.lua`: KEYS = idempotency hash (or slot marker) + entity keys. */
  larderIdempotent(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
  /** `lua/idempotent-claim.lua` (Redis Cluster): KEYS[1] = the idempotency hash. */
  larderIdemClaim(key: string, fingerprint: string, ttlMs: number): unknown;
  /**
   * `lua/read-entities.lua`, variable key count: `numKeys, ...keys, h, then per field group
   * k, n, ...fields`; per key its HGETALL joined by newlines, or 0, 1 or its joined values.
   */
  larderReadEntities(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
  /** Variable key count: `numKeys, ...keys`, then per key `n, ...fields`; per key its values. */
  larderReadMergeFields(numKeys: number, ...keysAndArgs: (string | number)[]): unknown;
}

/** The scripts sent as one command, outside a pipeline (a single Redis client). */
export interface ScriptCommands {
  /** {@link ScriptPipeline.larderReadEntities}, resolving to its reply. */
  larderReadEntities(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

export interface RedisNodeLike {
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    n: number,
  ): Promise<[cursor: string, keys: string[]]>;
  pipeline(): RedisPipelineLike;
  /** `WAIT numreplicas timeout`: the replicas that have every write sent on this connection. */
  wait(numReplicas: number, timeoutMs: number): Promise<number>;
}

export interface RedisClientLike {
  pipeline(): RedisPipelineLike;
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** How keys map to nodes: one group per node, each sent as one pipeline. */
export interface RedisTopology {
  readonly kind: 'redis' | 'redis-cluster';
  readonly client: RedisClientLike;
  /** Connects; resolves when commands can be sent. */
  connect(): Promise<void>;
  /** Indexes of `keys` grouped by the node that serves them. */
  groupByNode(keys: readonly string[]): number[][];
  /** Every master (the connections commands are sent on), to SCAN and to WAIT. */
  masters(): RedisNodeLike[];
  /** Connected now: false while (re)connecting, so commands fail at once instead of queueing. */
  ready(): boolean;
  /**
   * One key per master (none for a single server), for a readiness check that reaches every
   * master: a store with any master down is not ready.
   */
  probeKeys(): string[];
  /** Human-readable target, for error messages. */
  readonly target: string;
  /**
   * A single Redis at a plain `redis://` URL: the connection reads are sent on as plain
   * commands (`plain-reads.ts`); otherwise absent or null, and reads go through the script.
   */
  readonly plainReads?: PlainReadConnection | null;
}
