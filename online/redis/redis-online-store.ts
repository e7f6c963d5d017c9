/**
 * Redis / Redis Cluster online store (ioredis): one hash per (namespace, view, entity), fields
 * per tile and per lifetime feature, JSON values (docs/online-store-format.md).
 *
 * - Reads: the HMGET of the fields a request needs, or the HGETALL of whole hashes, answered
 *   as one string per key, so `readMany` is one round trip whatever the number of entities and
 *   views. On a single Redis at a plain `redis://` URL: plain commands in one `MULTI` … `EXEC`
 *   on a connection of their own, parsed from the socket's bytes (`plain-reads.ts`: redis-server
 *   spends ≈ 40 % of the script's time on them); while that connection is not ready, and on
 *   any other Redis, the read-only script `lua/read-entities.lua`: on Redis one call per 512
 *   keys across all of its views, one pipeline; on a cluster one call per key, one pipeline per
 *   master, in parallel.
 * - Overwrites: one Lua script call per up to 500 keys (on a cluster: per slot), each key
 *   HSET, its stale tiles pruned, its expiry raised; all calls pipelined.
 * - Merges: optimistic, atomic per key: HMGET the fields (one round trip; on Redis inside a
 *   read script, one call per 512 keys), merge in JS with the shared aggregation library, then
 *   a compare-and-set Lua script, many keys per call as overwrites (each key set only if its
 *   fields are unchanged); keys that changed in between are re-read and retried. After a
 *   merge that found most fields absent, the next one first tries blind (no HMGET: every field
 *   expected absent); the keys whose fields exist conflict and are read and merged as above.
 * - Materialization (`writeTilesMergeLifetime`): a key's tile overwrites and lifetime merge in
 *   one compare-and-set call of `lua/load-fields.lua` (the overwrites set unconditionally),
 *   so each key is visited once; a conflicting key is retried whole, as merges are.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { crashPoint } from '../../config/test-crash.ts';
import type { FeatureViewSpec } from '../../definitions/spec.ts';
import { LarderError } from '../../core/errors.ts';
import type { LifetimeWrite, TileWrite } from '../../aggregation/tiles.ts';
import type {
  EntityDescription,
  FeatureValue,
  IdempotentOutcome,
  IdempotentWrite,
  OnlineStore,
  OnlineStoreCapabilities,
  OnlineStoreOptions,
  ReadRequest,
  ReadResult,
  StoredCheckpoint,
  StreamBatch,
  StreamBatchOutcome,
  StreamCheckpoint,
} from '../online-store.ts';
import { readPlan, type ReadPlan } from '../read-plan.ts';
import {
  checkNamespace,
  lifetimeExpiry,
  maxLiveFields,
  tileExpiry,
  ViewCatalog,
  viewWritePlan,
  type ViewWritePlan,
} from '../view-catalog.ts';
import { lifetimeField, tileField } from '../field-names.ts';
import { lastAggregator, type LastState } from '../../aggregation/index.ts';
import {
  encodeTile,
  mergeField,
  mergeOps,
  overwriteOps,
  type EntityOps,
  type FieldDelta,
  type FieldSet,
} from '../write-batch.ts';
import type {
  RedisPipelineLike,
  RedisTopology,
  ScriptCommands,
  ScriptPipeline,
} from './redis-client.ts';
import {
  type PlainFieldGroup,
  type PlainReadConnection,
  type PlainReadReply,
} from './plain-reads.ts';
import { callScript, keepScriptArgs, queueEncoded, queueScript } from './keep-script-args.ts';
import { isPermanentReply } from './redis-errors.ts';
import {
  checkpointKey,
  idempotencyKey,
  namespacePattern,
  redisKey,
  sampleKey,
} from './redis-keys.ts';
import {
  CAS_FIELDS_LUA,
  IDEMPOTENT_BATCH_LUA,
  IDEMPOTENT_CLAIM_LUA,
  LOAD_FIELDS_LUA,
  READ_ENTITIES_LUA,
  READ_MERGE_FIELDS_LUA,
  SET_FIELDS_LUA,
  STREAM_BATCH_LUA,
} from './redis-scripts.ts';
import { keySlot } from '../redis-cluster/key-slot.ts';
import { slotTag } from '../redis-cluster/slot-tags.ts';

/** Fields per script call: keeps `unpack` far below Lua's C stack limit. */
const MAX_FIELDS_PER_CALL = 1000;

/**
 * Keys and arguments per overwrite script call (`lua/set-fields.lua`): bound how long one call
 * holds the Redis event loop (a call is at most one segment of {@link MAX_FIELDS_PER_CALL}
 * fields over the argument bound).
 */
const MAX_KEYS_PER_WRITE = 500;
const MAX_ARGS_PER_WRITE = 5000;

/** One many-key script call: its keys, its arguments after `numKeys, ...keys`, and per key the caller's item. */
interface KeyedCall {
  keys: string[];
  args: (string | number)[];
  items: number[];
}

/**
 * Many-key script calls being built, each at most {@link MAX_KEYS_PER_WRITE} keys and
 * {@link MAX_ARGS_PER_WRITE} arguments, each starting with `now`; `cut()` between slot groups.
 */
class KeyedCalls {
  readonly calls: KeyedCall[] = [];
  #call: KeyedCall | null = null;
  constructor(private readonly now: number) {}

  /** The call that takes `key` and its `n` arguments (a new one when the current one is full). */
  take(key: string, n: number, item = -1): KeyedCall {
    let c = this.#call;
    if (!c || c.keys.length >= MAX_KEYS_PER_WRITE || c.args.length + n > MAX_ARGS_PER_WRITE)
      this.calls.push((c = this.#call = { keys: [], args: [this.now], items: [] }));
    c.keys.push(key);
    c.items.push(item);
    return c;
  }

  /** The next key starts a new call (its keys may be in another slot). */
  cut(): void {
    this.#call = null;
  }
}

/**
 * One merge's unit of work on one key, at most {@link MAX_FIELDS_PER_CALL} fields: fields to
 * merge (`deltas`) and, for `writeTilesMergeLifetime`, fields to overwrite (`pairs`: field,
 * value, field, value…); `g` gives the view's plan and the key's expiry.
 */
interface MergeSegment {
  key: string;
  g: Pick<EntityOps<unknown>, 'plan' | 'expiresAt'>;
  deltas: FieldDelta[];
  pairs: string[];
}

/**
 * One entity key's writes of a batch, as the scripts take them: its overwrites as field, value
 * pairs (`pairs`), its lifetime merge deltas, one per field (`deltas`), and the latest expiry
 * of them all (`g.expiresAt`).
 */
interface KeyLoad extends MergeSegment {
  view: string;
  entityKey: string;
  g: { plan: ViewWritePlan; expiresAt: number };
}

/** `items` grouped by the Redis Cluster hash slot of their keys, in first-seen order. */
function bySlot<T>(items: readonly T[], keyOf: (t: T) => string): [number, T[]][] {
  const groups = new Map<number, T[]>();
  for (const t of items) {
    const slot = keySlot(keyOf(t));
    let list = groups.get(slot);
    if (!list) groups.set(slot, (list = []));
    list.push(t);
  }
  return [...groups];
}

/** Keys per read script call: bounds how long one call holds the Redis event loop. */
const MAX_KEYS_PER_READ = 512;

/** Field names per merge-read script call (`lua/read-merge-fields.lua`), for the same reason. */
const MAX_FIELDS_PER_READ = 8192;

/** Members kept in a view's key sample (`sampleKey`: the most recently written entity keys). */
const SAMPLE_SIZE = 64;

/** Entity keys of a view one write adds to the view's sample. */
const SAMPLE_PER_WRITE = 8;

/**
 * Once a store has added {@link SAMPLE_SIZE} keys of a view to its sample, it adds more at most
 * once per this many ms (a stream worker's batches do not each pay the extra round trip).
 */
const SAMPLE_EVERY_MS = 10_000;

/**
 * A field group key's `lua/read-entities.lua` reply: 0 (no key) or 1 (none of the fields),
 * else the values joined by `"\n"`, empty where absent.
 */
type FieldsReply = number | string;

export interface RedisStoreTuning {
  maxMergeAttempts?: number;
  /** Replicas of each master every write waits for (`WAIT`); 0 (default): none. */
  waitReplicas?: number;
  /** How long a write waits for them (default 1000 ms). */
  waitTimeoutMs?: number;
  /**
   * How reads fetch an entity: `fields` (default), the HMGET of the fields the request needs
   * (`ReadPlan.fieldNames`), or `hashes`, the HGETALL of the whole hash. `fields` falls back
   * to `hashes` for a request needing more than {@link MAX_READ_FIELDS} fields. (A knob for the
   * benchmark that compares them; see the README's benchmark section.)
   */
  reads?: 'fields' | 'hashes';
  /**
   * Single Redis at a plain `redis://` URL: send reads as plain commands inside `MULTI` on a
   * connection of their own (default true; `plain-reads.ts`), false: always through
   * `lua/read-entities.lua` (the path used while that connection is not ready).
   */
  plainReads?: boolean;
  /**
   * SCAN pages (of 1,000 keys, per master) `sampleEntityKeys` reads when the view's key sample
   * holds fewer live keys than asked (default 100; 0: the sample only, for tests).
   */
  sampleScanPages?: number;
}

/**
 * Above this many needed fields a read fetches the whole hash: measured on a quiet machine
 * (`npm run bench:online-read`, README), HGETALL beats an HMGET of every hop of the windows for
 * whole rows (one `recommendation_v1` row needs ~300 names), HMGET wins for small subsets.
 */
const MAX_READ_FIELDS = 64;

/** Per view: the most live fields one of its hashes holds (`maxLiveFields`). */
const liveFieldBounds = new WeakMap<FeatureViewSpec, number>();

function liveFieldBound(view: FeatureViewSpec): number {
  let n = liveFieldBounds.get(view);
  if (n === undefined) liveFieldBounds.set(view, (n = maxLiveFields(viewWritePlan(view))));
  return n;
}

export class RedisOnlineStore implements OnlineStore {
  readonly capabilities: OnlineStoreCapabilities;
  readonly namespace: string;
  readonly #topology: RedisTopology;
  readonly #catalog: ViewCatalog;
  readonly #clock: () => number;
  readonly #onRoundTrip: OnlineStoreOptions['onRoundTrip'];
  readonly #maxMergeAttempts: number;
  readonly #readFields: boolean;
  readonly #plain: PlainReadConnection | null;
  readonly #wait: { replicas: number; timeoutMs: number };
  readonly #sampleScanPages: number;
  /** Per view: keys this store added to its sample, and when it last added (monotonic ms). */
  readonly #sampled = new Map<string, { added: number; at: number }>();
  /**
   * Whether the next merge first tries its compare-and-set blind (every field expected
   * absent, no read): set by the last merge, from the share of its segments found absent.
   */
  #blindMerge = true;
  #initPromise: Promise<void> | null = null;
  /** The plain read connection's first attempt, made by the first read (see `#readScripts`). */
  #plainFirst: Promise<void> | null = null;
  #closed = false;

  constructor(topology: RedisTopology, options: OnlineStoreOptions, tuning: RedisStoreTuning = {}) {
    this.#topology = topology;
    this.namespace = checkNamespace(options.namespace);
    this.#catalog = new ViewCatalog(options.views);
    this.#clock = options.clock ?? Date.now;
    this.#onRoundTrip = options.onRoundTrip;
    this.#maxMergeAttempts = tuning.maxMergeAttempts ?? 50;
    this.#readFields = (tuning.reads ?? 'fields') === 'fields';
    this.#plain = tuning.plainReads === false ? null : (topology.plainReads ?? null);
    this.#wait = { replicas: tuning.waitReplicas ?? 0, timeoutMs: tuning.waitTimeoutMs ?? 1000 };
    this.#sampleScanPages = tuning.sampleScanPages ?? 100;
    this.capabilities = {
      kind: topology.kind,
      atomicMerge: true,
      perTileExpiry: false,
      singleRoundTripReads: true,
      multiProcess: true,
      persistent: true,
      streamCheckpoints: topology.kind === 'redis' ? 'atomic' : 'per-slot',
    };
    topology.client.defineCommand('larderSetFields', { lua: SET_FIELDS_LUA });
    topology.client.defineCommand('larderCasFields', { lua: CAS_FIELDS_LUA });
    topology.client.defineCommand('larderLoadFields', { lua: LOAD_FIELDS_LUA });
    topology.client.defineCommand('larderStreamBatch', { lua: STREAM_BATCH_LUA });
    topology.client.defineCommand('larderReadEntities', { lua: READ_ENTITIES_LUA });
    topology.client.defineCommand('larderReadMergeFields', { lua: READ_MERGE_FIELDS_LUA });
    topology.client.defineCommand('larderIdempotent', { lua: IDEMPOTENT_BATCH_LUA });
    topology.client.defineCommand('larderIdemClaim', {
      numberOfKeys: 1,
      lua: IDEMPOTENT_CLAIM_LUA,
    });
    // The scripts that take a batch's thousands of arguments, and the read (sent with
    // `callScript`: its tens of arguments are copied once instead of three times).
    keepScriptArgs(topology.client, [
      'larderStreamBatch',
      'larderReadMergeFields',
      'larderSetFields',
      'larderCasFields',
      'larderLoadFields',
      'larderReadEntities',
    ]);
  }

  init(): Promise<void> {
    if (this.#closed)
      return Promise.reject(
        new LarderError('LARDER_STORE_UNAVAILABLE', 'the Redis online store is closed', {
          detail: { store: this.#topology.kind, op: 'init' },
        }),
      );
    // Lazy and reset on failure: a later init() tries again. The plain read connection is
    // opened by the first read: writers (stream workers, materialize) never open it.
    this.#initPromise ??= this.#topology.connect().catch((e: unknown) => {
      this.#initPromise = null;
      throw this.#unavailable('connect', e);
    });
    return this.#initPromise;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#plain?.close();
    try {
      await this.#topology.client.quit();
    } catch {
      this.#topology.client.disconnect();
    }
  }

  /** Redis: PING. Redis Cluster: PING, and a keyed command that reaches every master. */
  async ping(): Promise<void> {
    await this.#connected();
    try {
      await this.#topology.client.ping();
    } catch (e) {
      throw this.#unavailable('ping', e);
    }
    const keys = this.#topology.probeKeys();
    await this.#batch('ping', keys, (p, i) => p.exists(keys[i]!));
  }

  /** `op` names the failed operation in the error's detail (as in `onRoundTrip`). */
  #unavailable(op: string, e: unknown): LarderError {
    if (e instanceof LarderError) return e;
    const detail = { store: this.#topology.kind, op };
    if (isPermanentReply(e))
      return new LarderError(
        'LARDER_STORE_REJECTED',
        `Redis online store at ${this.#topology.target} refused a command: ${(e as Error).message}`,
        { cause: e, hint: 'retrying cannot help; report it with this message', detail },
      );
    return new LarderError(
      'LARDER_STORE_UNAVAILABLE',
      `Redis online store at ${this.#topology.target}: ${(e as Error).message}`,
      {
        cause: e,
        hint: 'is Redis running? (bash scripts/services.sh up)',
        detail,
      },
    );
  }

  /** Initialized and connected now; while the client reconnects, fails at once. */
  async #connected(): Promise<void> {
    if (!this.#initPromise) await this.init();
    else await this.#initPromise;
    if (!this.#topology.ready())
      throw this.#unavailable('connect', new Error('not connected (reconnecting)'));
  }

  #key(view: string, entityKey: string): string {
    return redisKey(this.namespace, view, entityKey);
  }

  /**
   * Sends one command per key, grouped in one pipeline per node, and returns the replies in key
   * order. Each pipeline is one round trip.
   */
  async #batch(
    op: string,
    keys: readonly string[],
    build: (p: ScriptPipeline, i: number) => void,
  ): Promise<unknown[]> {
    if (keys.length === 0) return [];
    await this.#connected();
    const out: unknown[] = new Array(keys.length);
    const groups = this.#topology.groupByNode(keys);
    await Promise.all(
      groups.map(async (group) => {
        const p = this.#topology.client.pipeline() as ScriptPipeline;
        for (const i of group) build(p, i);
        let res;
        try {
          res = await p.exec();
        } catch (e) {
          throw this.#unavailable(op, e);
        }
        this.#onRoundTrip?.({ op, commands: group.length });
        if (!res) throw this.#unavailable(op, new Error('pipeline aborted'));
        group.forEach((i, j) => {
          const [err, value] = res[j] as [Error | null, unknown];
          if (err) throw this.#unavailable(op, err);
          out[i] = value;
        });
      }),
    );
    return out;
  }

  async writeTiles(tiles: readonly TileWrite[]): Promise<void> {
    await this.#overwrite(overwriteOps(this.#catalog, tiles, [], this.#clock()));
  }

  async writeLifetime(states: readonly LifetimeWrite[]): Promise<void> {
    await this.#overwrite(overwriteOps(this.#catalog, [], states, this.#clock()));
  }

  /**
   * Many keys per `lua/set-fields.lua` call: on Redis up to {@link MAX_KEYS_PER_WRITE} keys or
   * {@link MAX_ARGS_PER_WRITE} arguments per call, on a cluster the keys of one slot per call
   * (the views of one entity share its slot), all calls pipelined (one round trip per node). A
   * hash with more than {@link MAX_FIELDS_PER_CALL} fields is sent in segments of that many, in
   * order, each its own entry in KEYS.
   */
  async #overwrite(ops: EntityOps<FieldSet>[]): Promise<void> {
    const loads = ops.map((g) => {
      const pairs: string[] = [];
      for (const f of g.fields.values()) pairs.push(f.field, f.value);
      return { key: this.#key(g.view, g.entityKey), g, pairs };
    });
    await this.#setFields(loads, this.#clock());
    await this.#noteSample(ops);
  }

  /** {@link #overwrite}'s calls: each key's `pairs`, in segments of at most {@link MAX_FIELDS_PER_CALL} fields. */
  async #setFields(
    loads: readonly Pick<MergeSegment, 'key' | 'g' | 'pairs'>[],
    now: number,
  ): Promise<void> {
    const calls = new KeyedCalls(now);
    for (const list of this.#slotGroups(loads, (l) => l.key)) {
      calls.cut();
      for (const { key, g, pairs } of list) {
        for (let i = 0; i < pairs.length; i += 2 * MAX_FIELDS_PER_CALL) {
          const n = Math.min(pairs.length - i, 2 * MAX_FIELDS_PER_CALL);
          const args = calls.take(key, 3 + n).args;
          args.push(g.expiresAt, g.plan.pruneSpec, n / 2);
          for (let j = i; j < i + n; j++) args.push(pairs[j]!);
        }
      }
    }
    await this.#sendKeyed('write', 'larderSetFields', calls.calls);
    if (calls.calls.length > 0) await this.#replicated('write');
  }

  async mergeTiles(tiles: readonly TileWrite[]): Promise<void> {
    await this.#merge(mergeOps(this.#catalog, tiles, [], this.#clock()));
  }

  async mergeLifetime(states: readonly LifetimeWrite[]): Promise<void> {
    await this.#merge(mergeOps(this.#catalog, [], states, this.#clock()));
  }

  /**
   * One visit per entity key: each key's tile overwrites and lifetime merge in one
   * `lua/load-fields.lua` call (its segments, past {@link MAX_FIELDS_PER_CALL} fields: the
   * tiles first), merged as {@link #merge} merges, a conflicting key retried whole. A batch
   * without lifetime states is written as {@link #overwrite} writes.
   */
  async writeTilesMergeLifetime(
    tiles: readonly TileWrite[],
    states: readonly LifetimeWrite[],
  ): Promise<void> {
    const now = this.#clock();
    const loads = this.#keyLoads(tiles, states, now);
    if (!loads.some((l) => l.deltas.length > 0)) {
      await this.#setFields(loads, this.#clock());
      await this.#noteSample(loads);
      return;
    }
    const pending: MergeSegment[] = [];
    for (const l of loads) {
      if (l.pairs.length / 2 + l.deltas.length <= MAX_FIELDS_PER_CALL) {
        pending.push(l);
        continue;
      }
      for (let i = 0; i < l.pairs.length; i += 2 * MAX_FIELDS_PER_CALL)
        pending.push({ ...l, deltas: [], pairs: l.pairs.slice(i, i + 2 * MAX_FIELDS_PER_CALL) });
      for (let i = 0; i < l.deltas.length; i += MAX_FIELDS_PER_CALL)
        pending.push({ ...l, deltas: l.deltas.slice(i, i + MAX_FIELDS_PER_CALL), pairs: [] });
    }
    // Every attempt prunes at `now`, the time the tiles were checked to serve at: a key the
    // script creates holds no stale tile, so it skips the prune (lua/load-fields.lua).
    await this.#mergeSegments(pending, 'larderLoadFields', now);
    if (pending.length > 0) await this.#replicated('merge');
    await this.#noteSample(loads);
  }

  /**
   * A batch's writes per entity key, in one pass, with `overwriteOps`'s and `mergeOps`'s checks
   * and expiries (`online/write-batch.ts`) but none of their per-field objects: a tile that
   * serves at `now` becomes a field, value pair of its key (a field written twice in a batch
   * keeps both pairs, in order: HSET sets them in turn, so the last wins, as in
   * `overwriteOps`), a non-null lifetime state a delta merged with the batch's earlier state
   * of its field. Keys in first-write order (tiles, then lifetime states); keys left without a
   * field are not in the result.
   */
  #keyLoads(tiles: readonly TileWrite[], states: readonly LifetimeWrite[], now: number): KeyLoad[] {
    const byKey = new Map<string, KeyLoad>();
    let view = '';
    let plan: ViewWritePlan | null = null;
    let last: KeyLoad | null = null; // a batch comes by entity: most writes hit the last key
    const load = (entityKey: string): KeyLoad => {
      if (last !== null && last.entityKey === entityKey && last.view === view) return last;
      const key = this.#key(view, entityKey);
      let l = byKey.get(key);
      if (l === undefined) {
        l = {
          key,
          view,
          entityKey,
          g: { plan: plan!, expiresAt: -Infinity },
          pairs: [],
          deltas: [],
        };
        byKey.set(key, l);
      }
      return (last = l);
    };
    for (const t of tiles) {
      if (plan === null || t.view !== view) plan = this.#catalog.get((view = t.view));
      this.#catalog.checkTile(plan, t.hopMs, t.states);
      const expiresAt = tileExpiry(plan, t.hopMs, t.hop);
      if (expiresAt <= now) continue; // `tileServes`
      const l = load(t.entityKey);
      l.pairs.push(tileField(t.hopMs, t.hop), encodeTile(plan, t.states));
      if (expiresAt > l.g.expiresAt) l.g.expiresAt = expiresAt;
    }
    for (const s of states) {
      if (plan === null || s.view !== view) plan = this.#catalog.get((view = s.view));
      this.#catalog.checkLifetime(plan, s.states);
      for (const name of Object.keys(s.states)) {
        const state = s.states[name]!;
        if (state === null) continue;
        const l = load(s.entityKey);
        const field = lifetimeField(name);
        let d: FieldDelta | undefined;
        for (const x of l.deltas) if (x.field === field) d = x;
        const merged =
          d?.kind === 'lifetime' ? (lastAggregator.merge(d.state, state) as LastState) : state;
        const expiresAt = lifetimeExpiry(plan, merged.ts, 0);
        if (d?.kind === 'lifetime') {
          d.state = merged;
          d.expiresAt = expiresAt;
        } else l.deltas.push({ kind: 'lifetime', field, state: merged, expiresAt });
        if (expiresAt > l.g.expiresAt) l.g.expiresAt = expiresAt;
      }
    }
    return [...byKey.values()];
  }

  async #merge(ops: EntityOps<FieldDelta>[]): Promise<void> {
    // Split big entities so each call stays small; each call is atomic on its own.
    const pending: MergeSegment[] = [];
    for (const g of ops) {
      const deltas = [...g.fields.values()];
      for (let i = 0; i < deltas.length; i += MAX_FIELDS_PER_CALL) {
        pending.push({
          key: this.#key(g.view, g.entityKey),
          g,
          deltas: deltas.slice(i, i + MAX_FIELDS_PER_CALL),
          pairs: [],
        });
      }
    }
    await this.#mergeSegments(pending, 'larderCasFields');
    if (ops.length > 0) await this.#replicated('merge');
    await this.#noteSample(ops);
  }

  /**
   * The optimistic merge of `segments` (read, merge, compare-and-set; conflicting keys re-read
   * and retried). `larderCasFields` takes segments without overwrites; `larderLoadFields` both.
   * `now`: the time every attempt prunes at (default: the clock at each attempt).
   */
  async #mergeSegments(
    segments: MergeSegment[],
    script: 'larderCasFields' | 'larderLoadFields',
    now?: number,
  ): Promise<void> {
    let pending = segments;
    const merging = (list: readonly MergeSegment[]): number =>
      list.reduce((n, c) => n + (c.deltas.length > 0 ? 1 : 0), 0);
    // A blind first try (each field expected absent, nothing read) when the last merge found
    // most of its segments' fields absent (a first materialization's lifetime states): a key
    // whose fields exist conflicts and is merged as usual. A guess, not an attempt: it does
    // not count against `maxMergeAttempts` and is not followed by a back-off.
    let blind = this.#blindMerge && pending.length > 0;
    const guessed = blind;
    for (let attempt = 1; pending.length > 0;) {
      if (attempt > this.#maxMergeAttempts) {
        throw new LarderError(
          'LARDER_STORE_UNAVAILABLE',
          `merge into ${pending.length} Redis key(s) kept conflicting with concurrent writers after ${this.#maxMergeAttempts} attempts`,
          {
            hint: 'partition writers by entity key, or retry',
            detail: { store: this.#topology.kind, op: 'merge' },
          },
        );
      }
      // Blind: no current values (every field expected absent).
      const current = blind ? null : await this.#currentFields(pending);
      const calls = this.#casCalls(pending, current, script === 'larderLoadFields', now);
      const conflicts = (await this.#sendKeyed('merge-cas', script, calls)) as number[][];
      const retry: MergeSegment[] = [];
      calls.forEach((c, i) => {
        for (const k of conflicts[i]!) retry.push(pending[c.items[k - 1]!]!);
      });
      if (blind) {
        this.#blindMerge = retry.length * 2 < merging(pending);
        blind = false;
        pending = retry;
        continue;
      }
      if (attempt === 1 && !guessed)
        this.#blindMerge =
          current!.filter((cur, i) => pending[i]!.deltas.length > 0 && cur.every((v) => v === null))
            .length *
            2 >
          merging(pending);
      pending = retry;
      if (pending.length > 0) await sleep(Math.random() * Math.min(20, attempt * 2));
      attempt++;
    }
  }

  /** The stored values of each segment's merged fields (none read for a segment without any). */
  async #currentFields(pending: readonly MergeSegment[]): Promise<(string | null)[][]> {
    const reading = pending.filter((c) => c.deltas.length > 0);
    const read = await this.#readMergeFields(
      'merge-read',
      reading.map((c) => ({ key: c.key, fields: c.deltas.map((d) => d.field) })),
    );
    if (reading.length === pending.length) return read;
    let r = 0;
    return pending.map((c) => (c.deltas.length > 0 ? read[r++]! : []));
  }

  /**
   * The compare-and-set calls of one merge attempt (`lua/cas-fields.lua`; with `load`,
   * `lua/load-fields.lua`, each segment's overwrite pairs first): each pending segment
   * with its (field, expected, merged) triples, many keys per call as {@link #overwrite} groups
   * them: on Redis up to {@link MAX_KEYS_PER_WRITE} keys or {@link MAX_ARGS_PER_WRITE}
   * arguments per call, on a cluster the keys of one slot per call. `items[k]` is the pending
   * index of the call's key `k` (the script answers the 1-based positions that conflicted).
   */
  #casCalls(
    pending: readonly MergeSegment[],
    current: readonly (string | null)[][] | null,
    load: boolean,
    now = this.#clock(),
  ): KeyedCall[] {
    const calls = new KeyedCalls(now);
    const indices = pending.map((_, i) => i);
    for (const list of this.#slotGroups(indices, (i) => pending[i]!.key)) {
      calls.cut();
      for (const i of list) {
        const c = pending[i]!;
        const n = 3 * c.deltas.length;
        const pairs = c.pairs;
        const args = calls.take(c.key, load ? 4 + pairs.length + n : 3 + n, i).args;
        args.push(c.g.expiresAt, c.g.plan.pruneSpec);
        if (load) {
          args.push(pairs.length / 2, c.deltas.length);
          for (let j = 0; j < pairs.length; j++) args.push(pairs[j]!);
        } else args.push(c.deltas.length);
        const cur = current?.[i];
        for (let j = 0; j < c.deltas.length; j++) {
          const d = c.deltas[j]!;
          const was = cur?.[j] ?? null;
          args.push(d.field, was ?? '', mergeField(c.g.plan, was, d).value);
        }
      }
    }
    return calls.calls;
  }

  /**
   * Sends many-key script calls (`lua/set-fields.lua`, `lua/cas-fields.lua`: `numKeys, ...keys,
   * ...args`), all pipelined (one round trip per node); the replies in `calls` order.
   */
  #sendKeyed(
    op: string,
    script: 'larderSetFields' | 'larderCasFields' | 'larderLoadFields',
    calls: readonly KeyedCall[],
  ): Promise<unknown[]> {
    return this.#batch(
      op,
      calls.map((c) => c.keys[0]!),
      (p, i) => {
        const { keys, args } = calls[i]!;
        if (!queueEncoded(p, script, keys, args))
          queueScript(
            p,
            script,
            [keys.length, ...keys].concat(args) as [number, ...(string | number)[]],
          );
      },
    );
  }

  /**
   * Adds up to {@link SAMPLE_PER_WRITE} of the written entity keys of each view to the view's
   * key sample (`ZADD` with the write time, then the oldest beyond {@link SAMPLE_SIZE} removed):
   * on every write until this store has added {@link SAMPLE_SIZE} keys of the view, then at
   * most once per {@link SAMPLE_EVERY_MS}. Advisory: after the data is written, so a failure
   * here is ignored (the write is not retried for it; the next write tries again).
   */
  async #noteSample(ops: readonly { view: string; entityKey: string }[]): Promise<void> {
    const t = performance.now();
    const byView = new Map<string, string[]>();
    for (const g of ops) {
      let keys = byView.get(g.view);
      if (!keys) {
        const s = this.#sampled.get(g.view);
        if (s && s.added >= SAMPLE_SIZE && t - s.at < SAMPLE_EVERY_MS) continue;
        byView.set(g.view, (keys = []));
      }
      if (keys.length < SAMPLE_PER_WRITE && !keys.includes(g.entityKey)) keys.push(g.entityKey);
    }
    if (byView.size === 0) return;
    const views = [...byView.keys()];
    const keys = views.map((v) => sampleKey(this.namespace, v));
    const score = this.#clock();
    try {
      await this.#batch('sample', keys, (p, i) => {
        const args: (string | number)[] = [];
        for (const e of byView.get(views[i]!)!) args.push(score, e);
        p.zadd(keys[i]!, ...args);
      });
      await this.#batch('sample', keys, (p, i) =>
        p.zremrangebyrank(keys[i]!, 0, -(SAMPLE_SIZE + 1)),
      );
    } catch {
      return;
    }
    for (const v of views) {
      const s = this.#sampled.get(v);
      this.#sampled.set(v, { added: (s?.added ?? 0) + byView.get(v)!.length, at: t });
    }
  }

  /**
   * With `waitReplicas`, waits until that many replicas of every master have every write sent
   * so far (`WAIT` on each master's connection, the one the writes went through), so that a
   * write is acknowledged only once a failover cannot lose it. Too few acknowledgements in time
   * is a retriable failure: the caller re-applies, which is exact (guards and checkpoints).
   */
  async #replicated(op: string): Promise<void> {
    const { replicas, timeoutMs } = this.#wait;
    if (replicas === 0) return;
    let acks: number[];
    try {
      acks = await Promise.all(this.#topology.masters().map((m) => m.wait(replicas, timeoutMs)));
    } catch (e) {
      throw this.#unavailable(`${op}-wait`, e);
    }
    const fewest = Math.min(...acks);
    if (acks.length === 0 || fewest < replicas)
      throw this.#unavailable(
        `${op}-wait`,
        new Error(
          `only ${acks.length === 0 ? 0 : fewest} of ${replicas} replica(s) acknowledged the write within ${timeoutMs} ms`,
        ),
      );
  }

  /**
   * The current values of each key's fields (the read half of a merge), in `reads` order. Redis:
   * `lua/read-merge-fields.lua`, one call per {@link MAX_KEYS_PER_READ} keys (or
   * {@link MAX_FIELDS_PER_READ} fields), one pipeline. Cluster: one HMGET per key, one pipeline
   * per master.
   */
  async #readMergeFields(
    op: string,
    reads: readonly { key: string; fields: readonly string[] }[],
  ): Promise<(string | null)[][]> {
    if (this.#topology.kind !== 'redis')
      return (await this.#batch(
        op,
        reads.map((r) => r.key),
        (pl, k) => pl.hmget(reads[k]!.key, ...reads[k]!.fields),
      )) as (string | null)[][];
    if (reads.length === 0) return [];
    await this.#connected();
    const p = this.#topology.client.pipeline() as ScriptPipeline;
    let calls = 0;
    for (let i = 0; i < reads.length;) {
      const keys: string[] = [];
      const args: (string | number)[] = [];
      while (
        i < reads.length &&
        keys.length < MAX_KEYS_PER_READ &&
        args.length < MAX_FIELDS_PER_READ
      ) {
        const r = reads[i++]!;
        keys.push(r.key);
        args.push(r.fields.length);
        for (const f of r.fields) args.push(f);
      }
      queueScript(p, 'larderReadMergeFields', [keys.length, ...keys, ...args]);
      calls++;
    }
    let res;
    try {
      res = await p.exec();
    } catch (e) {
      throw this.#unavailable(op, e);
    }
    this.#onRoundTrip?.({ op, commands: calls });
    if (!res) throw this.#unavailable(op, new Error('pipeline aborted'));
    const out: (string | null)[][] = [];
    for (const [err, value] of res) {
      if (err) throw this.#unavailable(op, err);
      for (const v of value as (string | null)[][]) out.push(v);
    }
    return out;
  }

  /**
   * Redis: one guarded script for the whole batch (merges + checkpoint). Redis Cluster: the
   * partition's checkpoint hash records the batch as `pending`, then one guarded script per
   * slot (each with its own checkpoint in that slot, so a slot applies a batch at most once),
   * then the partition's checkpoint moves and `pending` is cleared. After a crash in between,
   * `readCheckpoints` reports `pending` and the next batch is cut to end exactly there, so
   * slots that already have it skip it and the others apply it.
   */
  async applyStreamBatch(batch: StreamBatch): Promise<StreamBatchOutcome> {
    const ops = mergeOps(this.#catalog, batch.tiles, batch.lifetime, this.#clock());
    const c = batch.checkpoint;
    const main = checkpointKey(this.namespace, c.group, c.topic);
    if (this.#topology.kind === 'redis')
      return (await this.#applyGuarded([{ guard: main, ops }], c))[0]!;
    const p = String(c.partition);
    const [cur] = (await this.#batch('stream-checkpoint', [main], (pl) =>
      pl.hmget(main, p, `${p}:pending`),
    )) as (string | null)[][];
    const stored = cur![0] == null ? -1 : Number(cur![0]);
    const pending = cur![1] == null ? null : Number(cur![1]);
    if (stored >= c.from) return stored >= c.offset ? 'duplicate' : 'overlap';
    // A pending batch (partly applied, or refused part-way) may be applied again whole or in
    // consecutive parts ending at or before it (the worker bisects a refused batch); the
    // slot checkpoints skip what a slot already has. A batch reaching past it must wait.
    const within = pending !== null && pending > stored && c.offset < pending;
    if (pending !== null && pending > stored && c.offset > pending) return 'overlap';
    if (!within)
      await this.#batch('stream-checkpoint', [main], (pl) =>
        pl.hset(main, `${p}:pending`, c.offset),
      );
    crashPoint('after-pending-mark');
    const groups = this.#bySlot(ops).map(([slot, list]) => ({
      guard: checkpointKey(this.namespace, c.group, c.topic, slotTag(slot)),
      ops: list,
    }));
    const outcomes = await this.#applyGuarded(groups, c);
    if (outcomes.includes('overlap')) return 'overlap';
    crashPoint('after-slot-scripts');
    await this.#batch('stream-checkpoint', [main], (pl) => {
      pl.hset(main, p, c.offset);
      if (!within) pl.hdel(main, `${p}:pending`);
    });
    return outcomes.length > 0 && outcomes.every((o) => o === 'duplicate')
      ? 'duplicate'
      : 'applied';
  }

  /** Runs the guarded stream-batch script once per group (one slot each), retrying conflicts. */
  #applyGuarded(
    groups: { guard: string; ops: EntityOps<FieldDelta>[] }[],
    c: StreamCheckpoint,
  ): Promise<StreamBatchOutcome[]> {
    return this.#guardedMerge(
      { op: 'stream', hint: 'retry' },
      groups,
      (now) => [c.partition, c.from, c.offset, now],
      (pl, keys, args) => queueScript(pl, 'larderStreamBatch', [keys.length, ...keys, ...args]),
      ([status]) => (status === 1 ? 'applied' : status === -1 ? 'duplicate' : 'overlap'),
    );
  }

  /** `ops` grouped by Redis Cluster hash slot (a script's keys must share one slot). */
  #bySlot<F>(ops: EntityOps<F>[]): [number, EntityOps<F>[]][] {
    return bySlot(ops, (g) => this.#key(g.view, g.entityKey));
  }

  /** The groups of `items` one script call may take: all of them on Redis, one slot's on a cluster. */
  #slotGroups<T>(items: readonly T[], keyOf: (t: T) => string): (readonly T[])[] {
    return this.#topology.kind === 'redis' ? [items] : bySlot(items, keyOf).map(([, l]) => l);
  }

  /**
   * The optimistic merge both guarded write paths share (stream batches, idempotent pushes):
   * read each group's current fields (HMGET), merge the deltas in TypeScript with the
   * aggregation library, then run the group's script with its guard key first, `head(now)`
   * and the (field, expected, merged) triples. The script answers `[status, ...]`: 0 is a
   * conflict (a field changed since the read), so that group is read and merged again, up to
   * `#maxMergeAttempts` times; anything else is mapped by `outcome`.
   */
  async #guardedMerge<T>(
    what: { op: 'stream' | 'push'; hint: string },
    groups: { guard: string; ops: EntityOps<FieldDelta>[] }[],
    head: (now: number) => (string | number)[],
    run: (pl: ScriptPipeline, keys: string[], args: (string | number)[]) => void,
    outcome: (res: (number | string)[]) => T,
  ): Promise<T[]> {
    const outcomes: T[] = new Array(groups.length);
    let pending = groups.map((_, i) => i);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > this.#maxMergeAttempts) {
        throw new LarderError(
          'LARDER_STORE_UNAVAILABLE',
          `${what.op === 'stream' ? 'stream batch' : 'push'} kept conflicting with concurrent writers after ${this.#maxMergeAttempts} attempts`,
          { hint: what.hint, detail: { store: this.#topology.kind, op: what.op } },
        );
      }
      const reads: { key: string; fields: string[] }[] = [];
      for (const i of pending)
        for (const g of groups[i]!.ops)
          reads.push({ key: this.#key(g.view, g.entityKey), fields: [...g.fields.keys()] });
      const current = await this.#readMergeFields(`${what.op}-read`, reads);
      const now = this.#clock();
      let r = 0;
      const calls = pending.map((i) => {
        const keys = [groups[i]!.guard];
        const args = head(now);
        for (const g of groups[i]!.ops) {
          const cur = current[r++]!;
          keys.push(this.#key(g.view, g.entityKey));
          args.push(g.expiresAt, g.plan.pruneSpec, g.fields.size);
          let j = 0;
          for (const d of g.fields.values()) {
            const was = cur[j++] ?? null;
            args.push(d.field, was ?? '', mergeField(g.plan, was, d).value);
          }
        }
        return { keys, args };
      });
      const res = (await this.#batch(
        `${what.op}-apply`,
        calls.map((x) => x.keys[0]!),
        (pl, k) => run(pl, calls[k]!.keys, calls[k]!.args),
      )) as (number | string)[][];
      const retry: number[] = [];
      pending.forEach((i, k) => {
        if (res[k]![0] === 0) retry.push(i);
        else outcomes[i] = outcome(res[k]!);
      });
      pending = retry;
      if (pending.length > 0) await sleep(Math.random() * Math.min(20, attempt * 2));
    }
    if (groups.length > 0) await this.#replicated(what.op);
    // Not awaited: the stream's and idempotent pushes' writes (and the checkpoint that covers
    // them) return without the advisory sample's round trips; its commands still go out after
    // the write's on each connection, and it handles its own failures.
    void this.#noteSample(groups.flatMap((g) => g.ops));
    return outcomes;
  }

  /**
   * Redis: one guarded script (key lookup, merges, key). Redis Cluster: the key's hash is
   * claimed with the fingerprint (a different fingerprint or a stored answer ends here), then
   * one guarded script per slot, each with the key's marker in that slot (so a slot applies a
   * key at most once, also after a crash and a retry), then the answer is stored.
   */
  async applyIdempotent(write: IdempotentWrite): Promise<IdempotentOutcome> {
    const ops = mergeOps(this.#catalog, write.tiles, write.lifetime, this.#clock());
    const hash = createHash('sha256').update(write.key).digest('hex');
    const main = idempotencyKey(this.namespace, hash);
    if (this.#topology.kind === 'redis') {
      const [r] = await this.#applyIdem([{ guard: main, ops }], write);
      return r!;
    }
    const [claim] = (await this.#batch('idempotency', [main], (pl) =>
      pl.larderIdemClaim(main, write.fingerprint, write.ttlMs),
    )) as (number | string)[][];
    if (claim![0] === -1)
      return {
        status: 'duplicate',
        fingerprint: String(claim![1]),
        response: String(claim![2]),
      };
    const groups = this.#bySlot(ops).map(([slot, list]) => ({
      guard: idempotencyKey(this.namespace, hash, slotTag(slot)),
      ops: list,
    }));
    const outcomes = await this.#applyIdem(groups, write);
    await this.#batch('idempotency', [main], (pl) => {
      pl.hset(main, 'fp', write.fingerprint, 'resp', write.response);
      pl.pexpire(main, write.ttlMs);
    });
    return outcomes.length > 0 && outcomes.every((o) => o.status === 'duplicate')
      ? { status: 'duplicate', fingerprint: write.fingerprint, response: write.response }
      : { status: 'applied' };
  }

  /** Runs the idempotent script once per group (one slot each), retrying conflicts. */
  #applyIdem(
    groups: { guard: string; ops: EntityOps<FieldDelta>[] }[],
    write: IdempotentWrite,
  ): Promise<IdempotentOutcome[]> {
    return this.#guardedMerge(
      { op: 'push', hint: 'retry with the same Idempotency-Key' },
      groups,
      (now) => [write.fingerprint, write.response, write.ttlMs, now],
      (pl, keys, args) => pl.larderIdempotent(keys.length, ...keys, ...args),
      (x): IdempotentOutcome =>
        x[0] === 1
          ? { status: 'applied' }
          : { status: 'duplicate', fingerprint: String(x[1]), response: String(x[2]) },
    );
  }

  async readCheckpoints(group: string, topic: string): Promise<StoredCheckpoint[]> {
    const main = checkpointKey(this.namespace, group, topic);
    const [h] = (await this.#batch('stream-checkpoint', [main], (pl) =>
      pl.hgetall(main),
    )) as Record<string, string>[];
    const out: StoredCheckpoint[] = [];
    for (const [field, value] of Object.entries(h ?? {})) {
      if (!/^\d+$/.test(field)) continue;
      const pending = h![`${field}:pending`] === undefined ? null : Number(h![`${field}:pending`]);
      out.push({
        partition: Number(field),
        offset: Number(value),
        pending: pending !== null && pending > Number(value) ? pending : null,
      });
    }
    // A crash before the first checkpoint of a partition leaves only `pending`.
    for (const [field, value] of Object.entries(h ?? {})) {
      const m = /^(\d+):pending$/.exec(field);
      if (m && h![m[1]!] === undefined)
        out.push({ partition: Number(m[1]), offset: -1, pending: Number(value) });
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  async readFeatures(request: ReadRequest): Promise<ReadResult> {
    return (await this.readMany([request]))[0] as ReadResult;
  }

  /**
   * All requests in one round trip (per node). A request whose plan needs at most
   * {@link MAX_READ_FIELDS} fields at its `t` reads just those (HMGET, EXISTS when none is
   * found); the others read whole hashes (HGETALL, deduplicated across requests). Single Redis:
   * plain commands in one `MULTI` (`plain-reads.ts`), or, while its connection is not ready,
   * one `lua/read-entities.lua` call per {@link MAX_KEYS_PER_READ} keys across all requests,
   * one pipeline. Cluster: one script call per key, one pipeline per master, in parallel.
   */
  async readMany(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    const plans: ReadPlan[] = requests.map((r) => readPlan(r));
    const byFields = requests.map((r, ri) => {
      const n = plans[ri]!.fieldNames(r.t).length;
      // HMGET needs a field; sequence features are read from the whole hash (readsByName). A
      // hash that holds no more live fields than the read needs (a view of lifetime features
      // only, all of them read) is read whole: one HGETALL instead of an HMGET and an EXISTS.
      return (
        this.#readFields &&
        plans[ri]!.readsByName &&
        n > 0 &&
        n <= MAX_READ_FIELDS &&
        liveFieldBound(r.view) > n
      );
    });
    // Whole hashes: unique keys across the requests that read them, through a map only when a
    // view is read whole by two requests (a key repeated within one request is read twice, in
    // the same MULTI or script call: the same answer).
    let repeats = false;
    for (let ri = 0; ri < requests.length && !repeats; ri++)
      for (let rj = 0; rj < ri; rj++)
        if (!byFields[ri] && !byFields[rj] && requests[ri]!.view.name === requests[rj]!.view.name) {
          repeats = true;
          break;
        }
    const hashIndex = repeats ? new Map<string, number>() : null;
    const hashKeys: string[] = [];
    const hashSlots: (number[] | null)[] = requests.map((r, ri) => {
      if (byFields[ri]) return null;
      const entities = r.entityKeys;
      const slots = new Array<number>(entities.length);
      for (let j = 0; j < entities.length; j++) {
        const key = this.#key(r.view.name, entities[j]!);
        let i = hashIndex === null ? undefined : hashIndex.get(key);
        if (i === undefined) {
          i = hashKeys.push(key) - 1;
          hashIndex?.set(key, i);
        }
        slots[j] = i;
      }
      return slots;
    });
    const fieldKeys: string[][] = requests.map((r, ri) =>
      byFields[ri] ? r.entityKeys.map((e) => this.#key(r.view.name, e)) : [],
    );
    const { hashes, fields } =
      this.#topology.kind === 'redis'
        ? await this.#readScripts(hashKeys, fieldKeys, requests, plans)
        : await this.#readPerKey(hashKeys, fieldKeys, requests, plans);
    // Each key's text goes through the plan's cache of joined rows per entity
    // (`ReadPlan.evaluateJoined`): an entity answered with the same text as its last read reuses
    // that read's split and parses; any other text is read afresh.
    // Fields expired at the store clock's now are left out, as SQLite's reads do: Redis drops a
    // key at its latest field's expiry and a tile only when a write prunes it, so a read at a
    // past `t` could otherwise still find them (docs/online-store-format.md).
    const now = this.#clock();
    return requests.map((r, ri) => {
      const plan = plans[ri]!;
      const slots = hashSlots[ri];
      const keys = r.entityKeys;
      const rows: FeatureValue[][] = slots
        ? slots.map((i, j) => plan.evaluateJoined(r.t, keys[j]!, hashes[i]!, now))
        : fields[ri]!.map((reply, j) =>
            typeof reply === 'string'
              ? plan.evaluateSelectedJoined(r.t, keys[j]!, reply, now)
              : plan.evaluateSelected(r.t, [], 0, reply !== 0, now),
          );
      return { view: r.view.name, features: plan.features, rows };
    });
  }

  /**
   * Single Redis: `lua/read-entities.lua`, one call per {@link MAX_KEYS_PER_READ} keys (the
   * HGETALL keys, then each field-reading request's keys with its field names), all in one
   * pipeline; a `readMany` of up to 512 keys (one row of any feature service) is one call, sent
   * as a plain command (a pipeline's objects were ≈ 4 KB of a one-row read's garbage).
   */
  async #readScripts(
    hashKeys: readonly string[],
    fieldKeys: readonly string[][],
    requests: readonly ReadRequest[],
    plans: readonly ReadPlan[],
  ): Promise<{ hashes: string[]; fields: FieldsReply[][] }> {
    const fields: FieldsReply[][] = fieldKeys.map(() => []);
    if (hashKeys.length === 0 && fieldKeys.every((k) => k.length === 0))
      return { hashes: [], fields };
    await this.#connected();
    const plain = this.#plain;
    if (plain) await (this.#plainFirst ??= plain.connect());
    if (plain?.ready) return this.#readPlain(plain, hashKeys, fieldKeys, requests, plans);
    // Until the plain connection is ready (first connect, or after it broke), the script.
    if (plain) void plain.connect();
    // Each call's `numKeys, ...keys, ...args`; keys in reply order: hashKeys, then
    // fieldKeys[0], fieldKeys[1], …, cut into calls.
    const calls: (string | number)[][] = [];
    let keys: string[] = [];
    let args: (string | number)[] = [0];
    const send = (): void => {
      calls.push([keys.length, ...keys, ...args]);
      keys = [];
      args = [0];
    };
    for (const k of hashKeys) {
      keys.push(k);
      args[0] = keys.length;
      if (keys.length === MAX_KEYS_PER_READ) send();
    }
    fieldKeys.forEach((ks, ri) => {
      if (ks.length === 0) return;
      const names = plans[ri]!.fieldNames(requests[ri]!.t);
      for (let i = 0; i < ks.length;) {
        const take = Math.min(ks.length - i, MAX_KEYS_PER_READ - keys.length);
        for (let j = 0; j < take; j++) keys.push(ks[i + j]!);
        args.push(take, names.length, ...names);
        i += take;
        if (keys.length === MAX_KEYS_PER_READ) send();
      }
    });
    if (keys.length > 0) send();
    const values: unknown[] = [];
    try {
      if (calls.length === 1) {
        // One call (any one row): sent as a command, without a pipeline's objects.
        const client = this.#topology.client as unknown as ScriptCommands;
        values.push(await callScript(client, 'larderReadEntities', calls[0] as [number]));
      } else {
        const p = this.#topology.client.pipeline() as ScriptPipeline;
        for (const call of calls) p.larderReadEntities(...(call as [number, ...string[]]));
        const res = await p.exec();
        if (!res) throw new Error('pipeline aborted');
        for (const [err, value] of res) {
          if (err) throw err;
          values.push(value);
        }
      }
    } catch (e) {
      throw this.#unavailable('read', e);
    }
    this.#onRoundTrip?.({ op: 'read', commands: calls.length });
    const hashes: string[] = [];
    let owner = 0; // the field-reading request the next field reply belongs to
    for (const value of values) {
      for (const reply of value as FieldsReply[]) {
        if (hashes.length < hashKeys.length) {
          hashes.push(reply as string);
          continue;
        }
        while (fields[owner]!.length === fieldKeys[owner]!.length) owner++;
        fields[owner]!.push(reply);
      }
    }
    return { hashes, fields };
  }

  /**
   * Single Redis: the same reads as plain commands in one `MULTI` … `EXEC`, one round trip
   * (`plain-reads.ts`); the same answers as the script.
   */
  async #readPlain(
    plain: PlainReadConnection,
    hashKeys: readonly string[],
    fieldKeys: readonly string[][],
    requests: readonly ReadRequest[],
    plans: readonly ReadPlan[],
  ): Promise<{ hashes: string[]; fields: FieldsReply[][] }> {
    const groups: PlainFieldGroup[] = [];
    let commands = hashKeys.length + 2;
    fieldKeys.forEach((keys, ri) => {
      if (keys.length === 0) return;
      groups.push({ keys, names: plans[ri]!.fieldNames(requests[ri]!.t) });
      commands += 2 * keys.length;
    });
    let reply: PlainReadReply;
    try {
      reply = await plain.read(hashKeys, groups);
    } catch (e) {
      throw this.#unavailable('read', e);
    }
    this.#onRoundTrip?.({ op: 'read', commands });
    let g = 0;
    const fields = fieldKeys.map((keys) => (keys.length === 0 ? [] : reply.fields[g++]!));
    return { hashes: reply.hashes, fields };
  }

  /** Cluster: one script call per key (a script's keys must share a slot), one pipeline per node. */
  async #readPerKey(
    hashKeys: readonly string[],
    fieldKeys: readonly string[][],
    requests: readonly ReadRequest[],
    plans: readonly ReadPlan[],
  ): Promise<{ hashes: string[]; fields: FieldsReply[][] }> {
    const keys: string[] = [...hashKeys];
    const owners: number[] = hashKeys.map(() => -1);
    fieldKeys.forEach((ks, ri) => {
      for (const k of ks) {
        keys.push(k);
        owners.push(ri);
      }
    });
    const names = plans.map((plan, ri) =>
      fieldKeys[ri]!.length > 0 ? plan.fieldNames(requests[ri]!.t) : [],
    );
    const replies = await this.#batch('read', keys, (p, i) => {
      const owner = owners[i]!;
      if (owner === -1) p.larderReadEntities(1, keys[i]!, 1);
      else p.larderReadEntities(1, keys[i]!, 0, 1, names[owner]!.length, ...names[owner]!);
    });
    const hashes: string[] = [];
    const fields: FieldsReply[][] = fieldKeys.map(() => []);
    replies.forEach((reply, i) => {
      const owner = owners[i]!;
      if (owner === -1) hashes.push((reply as string[])[0]!);
      else fields[owner]!.push((reply as FieldsReply[])[0]!);
    });
    return { hashes, fields };
  }

  async describeEntity(view: string, entityKey: string): Promise<EntityDescription | null> {
    const key = this.#key(view, entityKey);
    const [fields] = (await this.#batch('describe', [key], (p) => p.hkeys(key))) as string[][];
    if (!fields || fields.length === 0) return null;
    const [at] = (await this.#batch('describe', [key], (p) => p.pexpiretime(key))) as number[];
    return {
      fields: [...fields].sort(),
      fieldExpiresAt: fields.map(() => null),
      expiresAt: at === undefined || at < 0 ? null : at,
    };
  }

  /**
   * First the view's key sample (`sampleKey`, kept by the writers: found whatever else the
   * Redis holds), each key checked to still exist; then, when that gives fewer than `limit`,
   * SCAN pages of 1,000 keys per master (at most `sampleScanPages`, default 100).
   */
  async sampleEntityKeys(view: string, limit: number): Promise<string[]> {
    await this.init();
    const keys = new Set<string>();
    if (limit <= 0) return [];
    const sample = sampleKey(this.namespace, view);
    const [members] = (await this.#batch('sample', [sample], (p) =>
      p.zrevrange(sample, 0, SAMPLE_SIZE - 1),
    )) as string[][];
    const entities = (members ?? []).map((e) => this.#key(view, e));
    const live = await this.#batch('sample', entities, (p, i) => p.exists(entities[i]!));
    members?.forEach((e, i) => {
      if (keys.size < limit && live[i] === 1) keys.add(e);
    });
    if (keys.size >= limit || this.#sampleScanPages <= 0) return [...keys];
    const prefix = redisKey(this.namespace, view, '');
    const head = prefix.slice(0, -1); // `<ns>:<view>:{`
    try {
      for (const node of this.#topology.masters()) {
        let cursor = '0';
        let pages = 0;
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', `${head}*`, 'COUNT', 1000);
          cursor = next;
          pages++;
          for (const k of found) {
            if (keys.size >= limit) break;
            if (k.startsWith(head) && k.endsWith('}')) keys.add(k.slice(head.length, -1));
          }
        } while (cursor !== '0' && pages < this.#sampleScanPages && keys.size < limit);
        if (keys.size >= limit) break;
      }
    } catch (e) {
      throw this.#unavailable('read', e);
    }
    return [...keys];
  }

  async teardown(namespace: string = this.namespace): Promise<void> {
    await this.init();
    const pattern = namespacePattern(checkNamespace(namespace));
    try {
      await Promise.all(
        this.#topology.masters().map(async (node) => {
          let cursor = '0';
          do {
            const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
            cursor = next;
            if (found.length > 0) {
              const p: RedisPipelineLike = node.pipeline();
              for (const k of found) p.unlink(k);
              await p.exec();
            }
          } while (cursor !== '0');
        }),
      );
    } catch (e) {
      throw this.#unavailable('teardown', e);
    }
  }
}
