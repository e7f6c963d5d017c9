/**
 * The online store: the latest feature state per entity, read at serving time. This interface
 * deliberately exposes no client, connection or transaction type: a store owns its clients
 * (created in `init`, released in `close`), so the server, the stream worker and the
 * materializer can swap SQLite, Redis and Redis Cluster without knowing which one they talk to.
 *
 * What is stored are the aggregation library's partial states (see `aggregation/tiles.ts`): per
 * (view, entity), one tile per (hopMs, hop) and one `last` state per lifetime feature. Values
 * are computed at read time, at the request's `t`, so windows keep sliding after the last write.
 *
 * @example
 * const store = createOnlineStore(config.onlineStore, { namespace: 'larder', views });
 * await store.init();
 * await store.writeTiles(tiles);
 * const [res] = await store.readMany([{ view: userActivity.spec, entityKeys: ['u1'], t: Date.now() }]);
 * res.rows[0][0]; // { value: 3, status: 'PRESENT', eventTs: 1_700_000_040_000 }
 * await store.close();
 */
import type { FeatureViewSpec } from '../definitions/spec.ts';
import type { LifetimeWrite, TileWrite } from '../aggregation/tiles.ts';
import type { FeatureValue as Value } from '../core/types.ts';

/**
 * - `PRESENT`: a value computed at `t` (a windowed count with an empty window is `0 PRESENT`).
 * - `NOT_FOUND`: the entity has no data at all in this view (windowed count and sum still read
 *   0, the spec's value for an empty window, so online and offline values agree).
 * - `NULL_VALUE`: the entity exists but the feature has no value at `t` (avg of an empty window,
 *   a lifetime feature never set or only set after `t`).
 * - `OUTSIDE_MAX_AGE`: a lifetime value older than the view's TTL (`t - ts > ttl`).
 */
export type FeatureStatus = 'PRESENT' | 'NOT_FOUND' | 'NULL_VALUE' | 'OUTSIDE_MAX_AGE';

export interface FeatureValue {
  value: Value | null;
  status: FeatureStatus;
  /**
   * Lifetime features: the event time of the value. Windowed features: the start of the newest
   * hop with data inside the window. Null when there is none.
   */
  eventTs: number | null;
}

/** One view, some of its features, N entities, evaluated at `t`. */
export interface ReadRequest {
  view: FeatureViewSpec;
  /** Feature names of the view, in the order wanted; default: every feature of the view. */
  features?: readonly string[];
  /** Encoded entity keys (`encodeEntityKey`). Duplicates are allowed. */
  entityKeys: readonly string[];
  /** Evaluation time, epoch ms. */
  t: number;
}

export interface ReadResult {
  view: string;
  features: readonly string[];
  /**
   * `rows[i][j]`: entity `entityKeys[i]`, feature `features[j]`. Read-only: a store may give
   * the same arrays and objects again to later reads of an entity whose answer is the same.
   */
  rows: FeatureValue[][];
}

/** What a store can do, so callers branch on facts instead of catching "not implemented". */
export interface OnlineStoreCapabilities {
  readonly kind: 'sqlite' | 'redis' | 'redis-cluster';
  /** `mergeTiles` / `mergeLifetime` are atomic per entity key, across processes. */
  readonly atomicMerge: boolean;
  /** Each tile carries its own expiry (otherwise the expiry is per key, stale tiles pruned on write). */
  readonly perTileExpiry: boolean;
  /** `readMany` costs one network round trip (per cluster node), whatever the number of entities. */
  readonly singleRoundTripReads: boolean;
  /** Several processes may read and write the same store concurrently. */
  readonly multiProcess: boolean;
  /** Data survives a restart of the process. */
  readonly persistent: boolean;
  /**
   * How `applyStreamBatch` commits: `atomic` = the merges and the checkpoint in one transaction
   * (SQLite, Redis); `per-slot` = one atomic script per Redis Cluster slot, each guarded by its
   * own checkpoint, then the partition's checkpoint (see {@link StoredCheckpoint.pending}).
   */
  readonly streamCheckpoints: 'atomic' | 'per-slot';
}

/** Where a stream batch came from: records `from`..`offset` (inclusive) of one partition. */
export interface StreamCheckpoint {
  /** Consumer group (`<namespace>-stream`). */
  group: string;
  topic: string;
  partition: number;
  /** Offset of the batch's first record. */
  from: number;
  /** Offset of the batch's last record: the checkpoint stored with the batch. */
  offset: number;
}

/** Folded deltas of a stream batch and the checkpoint that covers them. */
export interface StreamBatch {
  tiles: readonly TileWrite[];
  lifetime: readonly LifetimeWrite[];
  checkpoint: StreamCheckpoint;
}

/**
 * - `applied`: merged, and the checkpoint moved to `checkpoint.offset`.
 * - `duplicate`: the stored checkpoint already covers the batch; nothing was written.
 * - `overlap`: the stored checkpoint lies inside the batch (another consumer applied part of
 *   it); nothing was written: re-read the checkpoint and seek past it.
 */
export type StreamBatchOutcome = 'applied' | 'duplicate' | 'overlap';

/**
 * A push's folded writes, applied at most once per idempotency key (`POST /push` with an
 * `Idempotency-Key`). The key is stored with the request's fingerprint and its answer, and
 * expires `ttlMs` after it was stored (store clock).
 */
export interface IdempotentWrite {
  /** The client's key, any string; stored per namespace. */
  key: string;
  /** What the request meant (a hash), to tell a retry from a different request under the same key. */
  fingerprint: string;
  /** The answer to return to retries (JSON text). */
  response: string;
  ttlMs: number;
  tiles: readonly TileWrite[];
  lifetime: readonly LifetimeWrite[];
}

/**
 * - `applied`: the merges were written and the key stored.
 * - `duplicate`: the key was stored already (by an earlier or a concurrent write); nothing was
 *   written; `fingerprint` and `response` are the stored ones.
 */
export type IdempotentOutcome =
  { status: 'applied' } | { status: 'duplicate'; fingerprint: string; response: string };

/** The stored checkpoint of one partition. */
export interface StoredCheckpoint {
  partition: number;
  /** The last applied offset (resume at offset + 1). */
  offset: number;
  /**
   * Per-slot stores only: a batch ending at this offset was being written when the writer
   * stopped, and may be applied in some slots only. The next batch must end exactly here.
   */
  pending: number | null;
}

/** Storage details of one entity of one view (for `larder` debugging commands and tests). */
export interface EntityDescription {
  /**
   * Stored field names (`<hopMs>:<hop>` tiles, `l:<feature>` lifetime states), sorted. SQLite
   * lists live fields only; Redis the hash's fields (expired tiles until the next prune).
   */
  fields: string[];
  /** Per-field expiry (epoch ms) where the store has one, else null. */
  fieldExpiresAt: (number | null)[];
  /** When the whole entity's data expires (the latest field expiry), or null for never. */
  expiresAt: number | null;
}

export interface OnlineStore {
  readonly capabilities: OnlineStoreCapabilities;
  readonly namespace: string;
  /** Opens connections, creates tables / loads scripts. Idempotent; a failed init can be retried. */
  init(): Promise<void>;
  /** Releases every connection. Idempotent. */
  close(): Promise<void>;
  /** Readiness: resolves when the store answers, rejects with LARDER_STORE_UNAVAILABLE. */
  ping(): Promise<void>;

  /** Batch load: OVERWRITES each (view, entity, hopMs, hop) tile. Writing twice = writing once. */
  writeTiles(tiles: readonly TileWrite[]): Promise<void>;
  /** Batch load: overwrites lifetime states (null stores "no value"). */
  writeLifetime(states: readonly LifetimeWrite[]): Promise<void>;
  /**
   * Materialization: `writeTiles(tiles)` then `mergeLifetime(states)` in effect (the same stored
   * fields and expiries), in one visit per entity key where the store can: Redis and Redis
   * Cluster write a key's tiles and merge its lifetime states in one script call (atomic per
   * key); SQLite runs the two operations. A caller that keeps an entity's tiles and lifetime
   * states in one call writes each key once.
   */
  writeTilesMergeLifetime(
    tiles: readonly TileWrite[],
    states: readonly LifetimeWrite[],
  ): Promise<void>;
  /** Stream/push path: merges partial states into the stored tiles, atomically per entity key. */
  mergeTiles(tiles: readonly TileWrite[]): Promise<void>;
  /** Stream/push path: keeps the newer `last` state per feature (greater ts, then id). */
  mergeLifetime(states: readonly LifetimeWrite[]): Promise<void>;

  /**
   * Stream path, exactly once in effect: merges the batch and stores its checkpoint for
   * (group, topic, partition) atomically, only if the stored checkpoint is before
   * `checkpoint.from` (see {@link StreamBatchOutcome}).
   *
   * @example
   * const outcome = await store.applyStreamBatch({ tiles, lifetime, checkpoint: { group: 'larder-stream', topic: 'user-events', partition: 0, from: 100, offset: 199 } });
   */
  applyStreamBatch(batch: StreamBatch): Promise<StreamBatchOutcome>;
  /**
   * Push path, at most once per key: merges `write.tiles` / `write.lifetime` and stores the key
   * unless the key is stored already (then writes nothing and returns the stored fingerprint
   * and answer). SQLite and Redis: one transaction / script. Redis Cluster: one guarded script
   * per slot (each slot applies a key at most once), then the key; a retry after a crash in
   * between completes the slots that missed it. Of concurrent writes with one key, one applies.
   *
   * @example
   * const r = await store.applyIdempotent({ key: 'k1', fingerprint, response: '{"rows":1}', ttlMs: 86_400_000, tiles, lifetime });
   */
  applyIdempotent(write: IdempotentWrite): Promise<IdempotentOutcome>;
  /** Stored checkpoints of every partition of `topic` consumed by `group`. */
  readCheckpoints(group: string, topic: string): Promise<StoredCheckpoint[]>;

  /** Reads one view for N entities at `t`. */
  readFeatures(request: ReadRequest): Promise<ReadResult>;
  /** Reads several views × N entities in one round trip; results in request order. */
  readMany(requests: readonly ReadRequest[]): Promise<ReadResult[]>;

  /** What is stored for one entity of one view, or null when nothing is. */
  describeEntity(view: string, entityKey: string): Promise<EntityDescription | null>;
  /**
   * Up to `limit` entity keys that have unexpired state in `view` (any order; for the
   * dashboard's example ids). Bounded work: SQLite reads the first keys of the view's index
   * range; Redis reads the view's key sample kept by the writers (at most 64 recent keys,
   * docs/online-store-format.md), then, only when that yields fewer than `limit`, scans at most
   * 100 SCAN pages of 1,000 keys per master.
   */
  sampleEntityKeys(view: string, limit: number): Promise<string[]>;
  /** Deletes every key of `namespace` (default: this store's), and nothing else. */
  teardown(namespace?: string): Promise<void>;
}

/** Options every store takes, besides its own config. */
export interface OnlineStoreOptions {
  /** Prefixes every key (`LARDER_NAMESPACE`): `[a-zA-Z0-9_-]+`. */
  namespace: string;
  /** Views this store writes: writes need their windows, hops, TTLs and aggregations. */
  views: Iterable<FeatureViewSpec>;
  /** Wall clock used for expiry and pruning (tests pin it); default `Date.now`. */
  clock?: () => number;
  /** Called once per network round trip with the number of commands sent (instrumentation). */
  onRoundTrip?: (event: { op: string; commands: number }) => void;
}
