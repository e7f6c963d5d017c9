/**
 * SQLite online store (better-sqlite3): one row per stored field, keyed
 * (namespace, view, entity, field), each with its own expiry. Reads are primary-key range scans
 * over the fields the request needs (`ReadPlan.fieldSpan`: one query per view for N entities)
 * and never return an expired tile; writes are synchronous batched transactions;
 * merges run in `BEGIN IMMEDIATE` transactions, so they are atomic across processes. Expired
 * rows are deleted in the background, a bounded chunk at a time. See
 * docs/online-store-format.md.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
} from '../online-store.ts';
import { readPlan, type ReadPlan } from '../read-plan.ts';
import { checkNamespace, ViewCatalog } from '../view-catalog.ts';
import {
  mergeField,
  mergeOps,
  overwriteOps,
  type EntityOps,
  type FieldDelta,
  type FieldSet,
} from '../write-batch.ts';
import type { SqliteOnlineStoreConfig } from './sqlite-online-store-config.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS online_fields (
  ns         TEXT    NOT NULL,
  view       TEXT    NOT NULL,
  entity     TEXT    NOT NULL,
  field      TEXT    NOT NULL,
  value      TEXT    NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (ns, view, entity, field)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS online_fields_expiry ON online_fields (expires_at);
CREATE TABLE IF NOT EXISTS stream_checkpoints (
  ns        TEXT    NOT NULL,
  grp       TEXT    NOT NULL,
  topic     TEXT    NOT NULL,
  part        INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  PRIMARY KEY (ns, grp, topic, part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys (
  ns          TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  fingerprint TEXT    NOT NULL,
  response    TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
`;

type Statement = Database.Statement<unknown[], unknown>;

/** SQLite result codes (and extended codes) that mean the database cannot be used right now. */
const STORE_FAULT =
  /^SQLITE_(READONLY|IOERR|CANTOPEN|FULL|BUSY|LOCKED|PERM|CORRUPT|NOTADB|NOMEM|PROTOCOL)(_|$)/;

interface Statements {
  readOne: Statement;
  readMany: Statement;
  exists: Statement;
  get: Statement;
  upsert: Statement;
  describe: Statement;
  sample: Statement;
  purge: Statement;
  teardown: Statement;
  getCheckpoint: Statement;
  setCheckpoint: Statement;
  checkpoints: Statement;
  teardownCheckpoints: Statement;
  getIdem: Statement;
  setIdem: Statement;
  purgeIdem: Statement;
  teardownIdem: Statement;
}

interface Fields {
  fields: string[];
  values: string[];
}

const EMPTY: Fields = { fields: [], values: [] };

/**
 * The reads' row filter, its one parameter the clock's now: a field (tile or lifetime state)
 * until it expires (`expires_at > now`), whatever the read's `t` and whether the background
 * purge has deleted it yet — as Redis, which drops a key at its latest field's expiry
 * (docs/online-store-format.md, "Expiry is by the store's clock").
 */
const LIVE = '(expires_at > ?)';

/** Rows deleted per step of the background purge: a step holds the write lock ~1 ms. */
const PURGE_CHUNK = 500;

export class SqliteOnlineStore implements OnlineStore {
  readonly capabilities: OnlineStoreCapabilities = {
    kind: 'sqlite',
    atomicMerge: true,
    perTileExpiry: true,
    singleRoundTripReads: true,
    multiProcess: true,
    persistent: true,
    streamCheckpoints: 'atomic',
  };
  readonly namespace: string;
  readonly #config: SqliteOnlineStoreConfig;
  readonly #catalog: ViewCatalog;
  readonly #clock: () => number;
  #db: Database.Database | null = null;
  #stmts: Statements | null = null;
  /** `readMany`'s reads in one read transaction (see there). */
  #readAll: ((requests: readonly ReadRequest[]) => ReadResult[]) | null = null;
  /** Device and inode of the file opened by `init`, to notice it being deleted or replaced. */
  #file: { dev: number; ino: number } | null = null;
  #lastPurge = 0;
  /** The next step of a running background purge, if one is running. */
  #purgeTimer: NodeJS.Immediate | null = null;

  constructor(config: SqliteOnlineStoreConfig, options: OnlineStoreOptions) {
    this.#config = config;
    this.namespace = checkNamespace(options.namespace);
    this.#catalog = new ViewCatalog(options.views);
    this.#clock = options.clock ?? Date.now;
  }

  async init(): Promise<void> {
    if (this.#db) return;
    try {
      mkdirSync(dirname(this.#config.path), { recursive: true });
      const db = new Database(this.#config.path);
      try {
        db.pragma(`busy_timeout = ${this.#config.busyTimeoutMs ?? 5000}`);
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec(SCHEMA);
        this.#stmts = {
          // One range scan per view and request (`ReadPlan.fieldSpan`): live tiles and every
          // lifetime state (read until purged; past their TTL they read OUTSIDE_MAX_AGE), their
          // `field, value, …` joined by newlines (names and values never hold one): one string
          // per entity, not 2 per field. One entity: no GROUP BY (one row, NULL when none).
          readOne: db
            .prepare(
              `SELECT group_concat(field || char(10) || value, char(10)) FROM online_fields WHERE ns = ? AND view = ? AND entity = ? AND field >= ? AND field <= ? AND ${LIVE}`,
            )
            .pluck(true),
          readMany: db
            .prepare(
              `SELECT entity, group_concat(field || char(10) || value, char(10)) FROM online_fields WHERE ns = ? AND view = ? AND entity IN (SELECT value FROM json_each(?)) AND field >= ? AND field <= ? AND ${LIVE} GROUP BY entity`,
            )
            .raw(true),
          exists: db
            .prepare(
              'SELECT 1 FROM online_fields WHERE ns = ? AND view = ? AND entity = ? AND expires_at > ? LIMIT 1',
            )
            .pluck(true),
          get: db
            .prepare(
              'SELECT value FROM online_fields WHERE ns = ? AND view = ? AND entity = ? AND field = ?',
            )
            .pluck(true),
          upsert: db.prepare(
            'INSERT INTO online_fields (ns, view, entity, field, value, expires_at) VALUES (?, ?, ?, ?, ?, ?) ' +
              'ON CONFLICT (ns, view, entity, field) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
          ),
          describe: db
            .prepare(
              'SELECT field, expires_at FROM online_fields WHERE ns = ? AND view = ? AND entity = ? AND expires_at > ? ORDER BY field',
            )
            .raw(true),
          sample: db
            .prepare(
              'SELECT DISTINCT entity FROM online_fields WHERE ns = ? AND view = ? AND expires_at > ? LIMIT ?',
            )
            .raw(),
          purge: db.prepare(
            'DELETE FROM online_fields WHERE (ns, view, entity, field) IN ' +
              '(SELECT ns, view, entity, field FROM online_fields WHERE expires_at <= ? LIMIT ?)',
          ),
          teardown: db.prepare('DELETE FROM online_fields WHERE ns = ?'),
          getCheckpoint: db
            .prepare(
              'SELECT last_offset FROM stream_checkpoints WHERE ns = ? AND grp = ? AND topic = ? AND part = ?',
            )
            .pluck(true),
          setCheckpoint: db.prepare(
            'INSERT INTO stream_checkpoints (ns, grp, topic, part, last_offset) VALUES (?, ?, ?, ?, ?) ' +
              'ON CONFLICT (ns, grp, topic, part) DO UPDATE SET last_offset = excluded.last_offset',
          ),
          checkpoints: db
            .prepare(
              'SELECT part, last_offset FROM stream_checkpoints WHERE ns = ? AND grp = ? AND topic = ? ORDER BY part',
            )
            .raw(true),
          teardownCheckpoints: db.prepare('DELETE FROM stream_checkpoints WHERE ns = ?'),
          getIdem: db
            .prepare(
              'SELECT fingerprint, response FROM idempotency_keys WHERE ns = ? AND key = ? AND expires_at > ?',
            )
            .raw(true),
          setIdem: db.prepare(
            'INSERT INTO idempotency_keys (ns, key, fingerprint, response, expires_at) VALUES (?, ?, ?, ?, ?) ' +
              'ON CONFLICT (ns, key) DO UPDATE SET fingerprint = excluded.fingerprint, response = excluded.response, expires_at = excluded.expires_at',
          ),
          purgeIdem: db.prepare(
            'DELETE FROM idempotency_keys WHERE (ns, key) IN ' +
              '(SELECT ns, key FROM idempotency_keys WHERE expires_at <= ? LIMIT ?)',
          ),
          teardownIdem: db.prepare('DELETE FROM idempotency_keys WHERE ns = ?'),
        };
      } catch (e) {
        db.close();
        throw e;
      }
      const st = statSync(this.#config.path);
      this.#file = { dev: st.dev, ino: st.ino };
      this.#db = db;
      this.#readAll = db.transaction((requests: readonly ReadRequest[]) =>
        requests.map((r) => this.#read(r)),
      );
    } catch (e) {
      throw new LarderError(
        'LARDER_STORE_UNAVAILABLE',
        `cannot open the SQLite online store at ${this.#config.path}: ${(e as Error).message}`,
        { cause: e, detail: { store: 'sqlite', op: 'open' } },
      );
    }
  }

  async close(): Promise<void> {
    if (this.#purgeTimer) clearImmediate(this.#purgeTimer);
    this.#purgeTimer = null;
    this.#db?.close();
    this.#db = null;
    this.#stmts = null;
    this.#readAll = null;
  }

  /** Resolves while the open file is still the one the path names and answers a query. */
  async ping(): Promise<void> {
    const { db } = this.#open();
    this.#checkFile();
    this.#sqlite('ping', () => db.prepare('SELECT 1').get());
  }

  #open(): { db: Database.Database; s: Statements } {
    if (!this.#db || !this.#stmts) {
      throw new LarderError('LARDER_STORE_UNAVAILABLE', 'the SQLite online store is not open', {
        hint: 'call init() first',
        detail: { store: 'sqlite', op: 'open' },
      });
    }
    return { db: this.#db, s: this.#stmts };
  }

  /**
   * Fails unless the path still names the file `init` opened (same device and inode): writes
   * into a deleted or replaced file would be acknowledged and then lost on restart.
   */
  #checkFile(): void {
    const path = this.#config.path;
    let st;
    try {
      st = statSync(path);
    } catch {
      st = null;
    }
    if (this.#file && st && st.dev === this.#file.dev && st.ino === this.#file.ino) return;
    throw new LarderError(
      'LARDER_STORE_UNAVAILABLE',
      `the SQLite online store file ${path} was ${st ? 'replaced' : 'deleted'} while open; writes are refused so none is lost`,
      {
        hint: 'restore the file, or restart the process to open the file now at that path',
        detail: { store: 'sqlite', op: 'check-file' },
      },
    );
  }

  /**
   * Runs SQLite work; failures of the database itself (read-only, I/O, disk full, locked,
   * corrupt) are store-unavailable. Other SQLite errors (constraint, SQL) are bugs and stay so.
   */
  #sqlite<T>(op: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof Database.SqliteError) || !STORE_FAULT.test(e.code)) throw e;
      throw new LarderError(
        'LARDER_STORE_UNAVAILABLE',
        `SQLite online store at ${this.#config.path}: ${op} failed: ${e.message} (${e.code})`,
        {
          cause: e,
          hint: /READONLY/.test(e.code)
            ? 'make the database file and its folder writable by this process'
            : 'check the disk and the file, then retry',
          detail: { store: 'sqlite', op },
        },
      );
    }
  }

  async writeTiles(tiles: readonly TileWrite[]): Promise<void> {
    this.#overwrite(overwriteOps(this.#catalog, tiles, [], this.#clock()));
  }

  async writeLifetime(states: readonly LifetimeWrite[]): Promise<void> {
    this.#overwrite(overwriteOps(this.#catalog, [], states, this.#clock()));
  }

  #overwrite(ops: EntityOps<FieldSet>[]): void {
    const { db, s } = this.#open();
    const ns = this.namespace;
    this.#checkFile();
    this.#sqlite('write', () =>
      db
        .transaction(() => {
          for (const g of ops)
            for (const f of g.fields.values())
              s.upsert.run(ns, g.view, g.entityKey, f.field, f.value, f.expiresAt);
        })
        .immediate(),
    );
    this.#maybePurge();
  }

  async mergeTiles(tiles: readonly TileWrite[]): Promise<void> {
    this.#merge(tiles, []);
  }

  async mergeLifetime(states: readonly LifetimeWrite[]): Promise<void> {
    this.#merge([], states);
  }

  /** The two operations in turn, each its own transaction: exactly what the interface promises. */
  async writeTilesMergeLifetime(
    tiles: readonly TileWrite[],
    states: readonly LifetimeWrite[],
  ): Promise<void> {
    if (tiles.length > 0) await this.writeTiles(tiles);
    if (states.length > 0) await this.mergeLifetime(states);
  }

  #merge(tiles: readonly TileWrite[], states: readonly LifetimeWrite[]): void {
    const ops = mergeOps(this.#catalog, tiles, states, this.#clock());
    const { db } = this.#open();
    this.#checkFile();
    this.#sqlite('merge', () => db.transaction(() => this.#mergeOps(ops)).immediate());
    this.#maybePurge();
  }

  #mergeOps(ops: EntityOps<FieldDelta>[]): void {
    const { s } = this.#open();
    const ns = this.namespace;
    for (const g of ops) {
      for (const delta of g.fields.values()) {
        const current =
          (s.get.get(ns, g.view, g.entityKey, delta.field) as string | undefined) ?? null;
        const next = mergeField(g.plan, current, delta);
        if (next.value !== current)
          s.upsert.run(ns, g.view, g.entityKey, delta.field, next.value, next.expiresAt);
      }
    }
  }

  /** One `BEGIN IMMEDIATE` transaction: guard on the checkpoint, merge, move the checkpoint. */
  async applyStreamBatch(batch: StreamBatch): Promise<StreamBatchOutcome> {
    const ops = mergeOps(this.#catalog, batch.tiles, batch.lifetime, this.#clock());
    const { db, s } = this.#open();
    const c = batch.checkpoint;
    this.#checkFile();
    const outcome = this.#sqlite('stream batch', () =>
      db
        .transaction((): StreamBatchOutcome => {
          const stored =
            (s.getCheckpoint.get(this.namespace, c.group, c.topic, c.partition) as
              number | undefined) ?? -1;
          if (stored >= c.offset) return 'duplicate';
          if (stored >= c.from) return 'overlap';
          this.#mergeOps(ops);
          s.setCheckpoint.run(this.namespace, c.group, c.topic, c.partition, c.offset);
          return 'applied';
        })
        .immediate(),
    );
    this.#maybePurge();
    return outcome;
  }

  /** One `BEGIN IMMEDIATE` transaction: look the key up, merge, store the key. */
  async applyIdempotent(write: IdempotentWrite): Promise<IdempotentOutcome> {
    const ops = mergeOps(this.#catalog, write.tiles, write.lifetime, this.#clock());
    const { db, s } = this.#open();
    const now = this.#clock();
    this.#checkFile();
    const outcome = this.#sqlite('push', () =>
      db
        .transaction((): IdempotentOutcome => {
          const row = s.getIdem.get(this.namespace, write.key, now) as [string, string] | undefined;
          if (row) return { status: 'duplicate', fingerprint: row[0], response: row[1] };
          this.#mergeOps(ops);
          s.setIdem.run(
            this.namespace,
            write.key,
            write.fingerprint,
            write.response,
            now + write.ttlMs,
          );
          return { status: 'applied' };
        })
        .immediate(),
    );
    this.#maybePurge();
    return outcome;
  }

  async readCheckpoints(group: string, topic: string): Promise<StoredCheckpoint[]> {
    const rows = this.#sqlite('read checkpoints', () =>
      this.#open().s.checkpoints.all(this.namespace, group, topic),
    ) as [number, number][];
    return rows.map(([partition, offset]) => ({ partition, offset, pending: null }));
  }

  /**
   * After a write, at most once per `purgeIntervalMs`: starts a background purge, one bounded
   * step ({@link PURGE_CHUNK} rows, its own short transaction) per turn of the event loop, so
   * neither the write nor the reads served meanwhile wait for a large delete.
   */
  #maybePurge(): void {
    const now = this.#clock();
    if (this.#purgeTimer || now - this.#lastPurge < (this.#config.purgeIntervalMs ?? 60_000))
      return;
    this.#lastPurge = now;
    const step = (): void => {
      this.#purgeTimer = null;
      if (!this.#db) return;
      let deleted: number;
      try {
        deleted = this.purgeStep();
      } catch {
        return; // the store is failing: writes and reads report it; the next write retries
      }
      if (deleted === PURGE_CHUNK) this.#purgeTimer = setImmediate(step);
    };
    this.#purgeTimer = setImmediate(step);
  }

  /**
   * Deletes up to `limit` expired rows and up to `limit` expired idempotency keys (of every
   * namespace); returns how many of the larger kind were deleted (`< limit`: nothing is left).
   */
  purgeStep(limit: number = PURGE_CHUNK): number {
    return this.#sqlite('purge', () => {
      const { s } = this.#open();
      const now = this.#clock();
      return Math.max(s.purge.run(now, limit).changes, s.purgeIdem.run(now, limit).changes);
    });
  }

  /** Deletes every expired row and idempotency key, in bounded steps; returns how many rows. */
  purgeExpired(): number {
    let total = 0;
    for (;;) {
      const { s } = this.#open();
      const now = this.#clock();
      const n = this.#sqlite('purge', () => s.purge.run(now, PURGE_CHUNK).changes);
      const k = this.#sqlite('purge', () => s.purgeIdem.run(now, PURGE_CHUNK).changes);
      total += n + k;
      if (n < PURGE_CHUNK && k < PURGE_CHUNK) return total;
    }
  }

  async readFeatures(request: ReadRequest): Promise<ReadResult> {
    return this.#read(request);
  }

  /**
   * Every read of a request in ONE read transaction: its queries (a few per view, one per field
   * range) see one snapshot of the database and take SQLite's read lock once, instead of once
   * per query (each time a dozen file-lock and stat system calls).
   */
  async readMany(requests: readonly ReadRequest[]): Promise<ReadResult[]> {
    this.#open();
    return this.#sqlite('read', () => this.#readAll!(requests));
  }

  /**
   * One primary-key range scan per view, over `plan.fieldSpan(t)` (for N entities, one query
   * answering one joined string per entity), ignoring expired tiles; then, for entities without
   * any row in the span, one point lookup of any live row (an entity with data but none needed
   * reads as empty windows). Fields in the span that the read does not need are skipped by the
   * plan's evaluation.
   */
  #read(request: ReadRequest): ReadResult {
    const { s } = this.#open();
    const plan = readPlan(request);
    const keys = request.entityKeys;
    const ns = this.namespace;
    const view = request.view.name;
    const now = this.#clock();
    const out: FeatureValue[][] = new Array(keys.length);
    if (keys.length === 0) return { view, features: plan.features, rows: out };
    const t = request.t;
    const span = plan.fieldSpan(t);
    this.#sqlite('read', () => {
      if (keys.length === 1) {
        // One key (most requests): its text straight, no map.
        const joined =
          span === null
            ? null
            : (s.readOne.get(ns, view, keys[0], span.lo, span.hi, now) as string | null);
        out[0] =
          joined !== null
            ? plan.evaluateJoined(t, keys[0] as string, joined, now)
            : this.#evaluateAbsent(plan, t, view, keys[0] as string, now);
        return;
      }
      const byEntity = new Map<string, string>();
      if (span !== null) {
        const rows = s.readMany.all(ns, view, JSON.stringify(keys), span.lo, span.hi, now) as [
          string,
          string,
        ][];
        for (const [entity, joined] of rows) byEntity.set(entity, joined);
      }
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const joined = byEntity.get(key);
        out[i] =
          joined !== undefined
            ? plan.evaluateJoined(t, key, joined, now)
            : this.#evaluateAbsent(plan, t, view, key, now);
      }
    });
    return { view, features: plan.features, rows: out };
  }

  /** An entity without any field in the span: empty windows if it has any live row, else NOT_FOUND. */
  #evaluateAbsent(
    plan: ReadPlan,
    t: number,
    view: string,
    entity: string,
    now: number,
  ): FeatureValue[] {
    const exists = this.#open().s.exists.get(this.namespace, view, entity, now) !== undefined;
    return plan.evaluate(t, EMPTY.fields, EMPTY.values, exists, now);
  }

  async describeEntity(view: string, entityKey: string): Promise<EntityDescription | null> {
    const rows = this.#open().s.describe.all(this.namespace, view, entityKey, this.#clock()) as [
      string,
      number,
    ][];
    if (rows.length === 0) return null;
    const fieldExpiresAt = rows.map((r) => r[1]);
    return {
      fields: rows.map((r) => r[0]),
      fieldExpiresAt,
      expiresAt: Math.max(...fieldExpiresAt),
    };
  }

  async sampleEntityKeys(view: string, limit: number): Promise<string[]> {
    const rows = this.#open().s.sample.all(this.namespace, view, this.#clock(), limit) as [
      string,
    ][];
    return rows.map((r) => r[0]);
  }

  async teardown(namespace: string = this.namespace): Promise<void> {
    const { s } = this.#open();
    this.#sqlite('teardown', () => {
      s.teardown.run(checkNamespace(namespace));
      s.teardownCheckpoints.run(namespace);
      s.teardownIdem.run(namespace);
    });
  }
}
