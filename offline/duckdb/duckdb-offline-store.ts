/**
 * The embedded offline store: DuckDB over the JSON Lines / Parquet files under
 * `$LARDER_DATA_DIR/<source.path>/`. Everything heavy is SQL that DuckDB runs out of core
 * (`memory_limit`, spilling to `<home>/duckdb-tmp`), or the sweep over indexes DuckDB builds.
 * Exports run the shared pipeline (`export/export-pipeline.ts`) with the engine the config
 * names: the sweep (`sweep/sweep-engine.ts`, default) or DuckDB SQL (`sql/sql-engine.ts`).
 */
import { join } from 'node:path';
import { LarderError } from '../../core/errors.ts';
import { STATISTICS_QUANTILES } from '../offline-store.ts';
import type { Scalar } from '../../core/types.ts';
import type { FeatureViewSpec } from '../../definitions/spec.ts';
import type { ExportEngine } from '../export/export-engine.ts';
import { exportPointInTime } from '../export/export-pipeline.ts';
import { readSnapshot } from '../export/batch-views.ts';
import { snapshotColumns } from '../batch/output-columns.ts';
import { checkOnEmptyInput } from './batch-snapshots.ts';
import type { Repository } from '../../definitions/repository.ts';
import { viewPaths, viewSource } from '../export/export-plan.ts';
import { viewPass } from '../export/pass.ts';
import { LocalDatabase } from '../local/local-database.ts';
import type {
  BatchSnapshot,
  BatchSnapshotRequest,
  ComputeTilesRequest,
  ComputeTilesResult,
  ExportRequest,
  ExportSummary,
  LifetimeRecord,
  OfflineStore,
  OfflineStoreCapabilities,
  RejectReport,
  SourceStatistics,
  SourceStatisticsRequest,
  TileBatch,
  TileRecord,
} from '../offline-store.ts';
import { sourceStatisticsSql } from '../statistics/source-statistics.ts';
import { ident, sqlString } from '../local/duckdb-client.ts';
import {
  DuckDBOfflineStoreConfig,
  type DuckDBOfflineStoreConfigInput,
} from './duckdb-offline-store-config.ts';
import { DuckDBSources } from './duckdb-sources.ts';
import { DuckDBSqlEngine } from './sql/sql-engine.ts';
import { tilesSql } from './sql/tiles-sql.ts';
import { hopIndexSql } from './sql/hops-sql.ts';
import {
  foldSequenceEvents,
  sequenceEventsSql,
  sequenceEventsFilter,
  sequenceHops,
  tileRecordId,
  type TileRecords,
} from './sequence-tile-records.ts';
import { isSequenceKind } from '../../core/sequence.ts';
import { SweepEngine } from './sweep/sweep-engine.ts';
import { JsonlAppender } from '../append/jsonl-append.ts';
import type { AppendOrigin, AppendRequest, AppendResult } from '../offline-store.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';

export class DuckDBOfflineStore implements OfflineStore {
  readonly type: string = 'duckdb';
  readonly capabilities: OfflineStoreCapabilities;
  readonly #config: DuckDBOfflineStoreConfig;
  readonly #db: LocalDatabase;
  readonly #sources: DuckDBSources;
  readonly #engine: ExportEngine;
  readonly #appender: JsonlAppender;

  constructor(
    config: DuckDBOfflineStoreConfigInput,
    /**
     * The ingest rules raw records are checked with besides their schema: records stamped
     * later than `clock()` + `maxFutureSkewMs` (`ingest.maxFutureSkew`, default 5 minutes) or
     * outside JavaScript's date range are counted rejects.
     */
    ingest: { clock?: () => number; maxFutureSkewMs?: number } = {},
  ) {
    const c = DuckDBOfflineStoreConfig.parse(config);
    this.#config = c;
    this.capabilities = Object.freeze({
      exportPointInTime: true,
      computeTiles: true,
      outputFormats: Object.freeze(['parquet', 'arrow', 'csv', 'jsonl'] as const),
      outOfCore: true,
      entityGrid: true,
      sourceStatistics: true,
      appendRecords: true,
    });
    this.#appender = new JsonlAppender(c.dataDir, ingest.clock ?? Date.now);
    this.#db = new LocalDatabase({
      home: c.home,
      memoryLimit: c.memoryLimit,
      threads: c.threads,
      trace: c.trace.sql,
    });
    const cacheDir = join(c.home, 'offline-cache');
    this.#sources = new DuckDBSources(
      {
        dataDir: c.dataDir,
        cacheDir,
        cacheJsonl: c.cacheJsonl,
        nativeValidation: c.nativeValidation,
        rejectExamples: c.rejectExamples,
        ingest: {
          clock: ingest.clock ?? Date.now,
          maxFutureSkewMs: ingest.maxFutureSkewMs ?? 5 * 60_000,
        },
      },
      this.#db,
    );
    this.#engine =
      c.engine === 'sweep'
        ? new SweepEngine(this.#sources, {
            partitionEvents: c.partitionEvents,
            sweepThreads: c.sweepThreads,
            indexCache: c.indexCache,
            cacheDir,
            trace: c.trace.sweep,
          })
        : new DuckDBSqlEngine(this.#sources);
  }

  async init(): Promise<void> {
    await this.#db.connect();
  }

  async close(): Promise<void> {
    await this.#engine.close?.();
    this.#db.close();
  }

  exportPointInTime(req: ExportRequest): Promise<ExportSummary> {
    return exportPointInTime(this.#db, this.#engine, req, {
      compactParquet: this.#config.compactParquet,
    });
  }

  async checkBatchView(repo: Repository, name: string): Promise<void> {
    const view = repo.batchViews.get(name)!;
    await checkOnEmptyInput(await this.#db.connect(), {
      view,
      cols: snapshotColumns(repo, view.spec),
      source: view.batch.spec,
      name: (p) => this.#db.name(p),
    });
  }

  batchSnapshot(req: BatchSnapshotRequest): Promise<BatchSnapshot> {
    return readSnapshot(this.#db, this.#engine, req);
  }

  /** Over the records as exports read them (validated cache, raw Parquet), rejects included. */
  async sourceStatistics(req: SourceStatisticsRequest): Promise<SourceStatistics> {
    const def = req.repo.batchSources.get(req.source);
    if (!def) throw new LarderError('LARDER_NOT_FOUND', `unknown batch source "${req.source}"`);
    const client = await this.#db.connect();
    try {
      const { table } = await this.#sources.load(
        client,
        def.spec,
        req.fields.map((f) => f.name),
        [],
      );
      return await sourceStatisticsSql(
        {
          ident,
          string: sqlString,
          double: 'DOUBLE',
          bigint: 'BIGINT',
          text: 'VARCHAR',
          quantiles: (x) => `quantile_disc(${x}, [${STATISTICS_QUANTILES.join(', ')}])`,
          readQuantiles: (v) => (Array.isArray(v) ? v.map(Number) : []),
          good: '__reason IS NULL',
          rejected: '__reason IS NOT NULL',
          reason: '__reason',
          all: (sql) => client.all(sql),
        },
        table,
        def.spec,
        req,
      );
    } finally {
      await this.#db.dropTemps(client);
    }
  }

  async computeTiles(view: FeatureViewSpec, req: ComputeTilesRequest): Promise<ComputeTilesResult> {
    const client = await this.#db.connect();
    const def = req.repo.featureViews.get(view.name);
    if (!def) throw new LarderError('LARDER_NOT_FOUND', `unknown feature view "${view.name}"`);
    const src = viewSource(req.repo, view.name);
    const rejects: RejectReport[] = [];
    const loaded = await this.#sources.load(client, src, viewPaths(view), rejects, req.onValidate);
    const keys = def.entityDefs.map((e) => e.spec.joinKey);
    const sequences = view.features.filter((f) => isSequenceKind(f.aggregation));
    const plain = sequences.length
      ? { ...view, features: view.features.filter((f) => !isSequenceKind(f.aggregation)) }
      : view;
    const pass = viewPass(plain, keys, src, loaded.table);
    const batchSize = req.batchSize ?? 10_000;
    const queries = plain.features.length ? tilesSql(pass, req.start, req.end) : [];
    const drop = (): Promise<void> => this.#db.dropTemps(client);
    // Each query's result is computed into a temp table first, so the total is known up front
    // (progress and ETA for the caller) and streaming it out is a plain scan.
    const results: string[] = [];
    const counts: number[] = [];
    // Sequence states share tile fields with the view's other states of the same hop, and a
    // field is written whole: with sequence features, the hopped queries' tiles and the
    // sequence states are combined in memory — one bucket of entities (by a hash of the keys)
    // at a time, so memory is bounded by a bucket's tiles (`bucketTiles`), not by the entities.
    const combined = { events: this.#db.name('seq'), count: 0, buckets: 1 };
    const keyCols = keys.map((_, i) => `__k${i}`).join(', ');
    const fromFirst = (h: number, hop: string, and = false): string => {
      const first = req.firstHops?.get(h);
      return first === undefined ? '' : ` ${and ? 'AND' : 'WHERE'} ${hop} >= ${first}`;
    };
    try {
      for (const q of queries) {
        const t = this.#db.name('tiles');
        await client.run(`CREATE TEMP TABLE ${t} AS ${q.sql}`);
        counts.push(Number((await client.all(`SELECT count(*) AS n FROM ${t}`))[0]!.n));
        results.push(t);
      }
      if (sequences.length) {
        await client.run(
          `CREATE TEMP TABLE ${combined.events} AS SELECT *, hash(${keyCols}) AS __hash FROM (${sequenceEventsSql(pass, sequences, req.start, req.end)})${sequenceEventsFilter(sequences, view.ttlMs, keys.length, req.firstHops)}`,
        );
        // The combined tiles: every (key, hop size, hop) of a sequence event or an SQL tile,
        // from the hop size's first hop on.
        const hop = (h: number): string => hopIndexSql('__ts', h);
        const ids = [
          ...sequenceHops(sequences, view.ttlMs).map(
            (h) =>
              `SELECT ${keyCols}, ${h} AS __h, ${hop(h)} AS __hop FROM ${combined.events}${fromFirst(h, hop(h))}`,
          ),
          ...queries.flatMap((q, qi) =>
            q.hopMs === null
              ? []
              : [
                  `SELECT ${keyCols}, ${q.hopMs} AS __h, __hop FROM ${results[qi]}${fromFirst(q.hopMs, '__hop')}`,
                ],
          ),
        ];
        combined.count = Number(
          (await client.all(`SELECT count(*) AS n FROM (${ids.join(' UNION ')})`))[0]!.n,
        );
        combined.buckets = Math.max(1, Math.ceil(combined.count / (req.bucketTiles ?? 200_000)));
      }
    } catch (e) {
      await drop();
      throw e;
    }
    /** The decoded rows of query `qi` (`where`: a filter): a tile (hop) or a lifetime state (hop null). */
    async function* rowsOf(
      qi: number,
      where = '',
    ): AsyncGenerator<{ key: Scalar[]; hop: number | null; states: Record<string, unknown> }> {
      const q = queries[qi]!;
      for await (const chunk of client.stream(`SELECT * FROM ${results[qi]}${where}`)) {
        for (let r = 0; r < chunk.size; r++) {
          const key = keys.map((_, i) => chunk.columns[i]![r]) as Scalar[];
          const states: Record<string, unknown> = {};
          q.features.forEach(
            (f, j) =>
              (states[f.name] = q.decode(
                f,
                chunk.columns[keys.length + (q.hopMs === null ? 0 : 1) + j]![r],
              )),
          );
          yield {
            key,
            hop: q.hopMs === null ? null : Number(chunk.columns[keys.length]![r]),
            states,
          };
        }
      }
    }
    /**
     * The combined tiles of bucket `b`: its sequence states (events in key order, so most find
     * the previous event's tile) with the SQL tiles folded in.
     */
    async function combinedBucket(b: number): Promise<TileRecord[]> {
      const n = combined.buckets;
      const into: TileRecords = new Map();
      await foldSequenceEvents(
        client,
        `SELECT * FROM ${combined.events}${n > 1 ? ` WHERE __hash % ${n} = ${b}` : ''} ORDER BY ${keyCols}, __ts`,
        keys.length,
        sequences,
        view.ttlMs,
        into,
        req.firstHops,
      );
      for (const [qi, q] of queries.entries()) {
        if (q.hopMs === null) continue;
        const where =
          n > 1
            ? ` WHERE hash(${keyCols}) % ${n} = ${b}${fromFirst(q.hopMs, '__hop', true)}`
            : fromFirst(q.hopMs, '__hop');
        for await (const row of rowsOf(qi, where)) {
          const id = tileRecordId(row.key, q.hopMs, row.hop!);
          const rec = into.get(id);
          if (rec) Object.assign(rec.states, row.states);
          else into.set(id, { key: row.key, hopMs: q.hopMs, hop: row.hop!, states: row.states });
        }
      }
      return [...into.values()];
    }
    // With sequence features, the hopped queries' rows are yielded within the combined tiles,
    // so the total (and each tile field, written whole) is exact: lifetime rows plus those.
    const pending = queries
      .map((_, qi) => qi)
      .filter((qi) => !sequences.length || queries[qi]!.hopMs === null);
    const total = pending.reduce((n, qi) => n + counts[qi]!, 0) + combined.count;
    /**
     * The rows of every pending query in one result ordered by a hash of the entity key
     * (`UNION ALL BY NAME`: each query's state columns its own), so an entity's tiles of every
     * hop size and its lifetime states come out together; batches end only between hashes, so
     * each key's records are in one batch (and the online store visits each key once). With
     * sequence features only the lifetime query is pending (its tiles come in buckets after).
     */
    async function* byKey(): AsyncGenerator<TileBatch> {
      const parts = pending.map((qi) => {
        const q = queries[qi]!;
        const cols = [
          ...keys.map((_, i) => `__k${i}`),
          ...(q.hopMs === null ? [] : ['__hop']),
          ...q.features.map((_, j) => `s${j} AS __q${qi}_s${j}`),
        ];
        return `SELECT hash(${keyCols}) >> 11 AS __hash, ${qi} AS __q, ${cols.join(', ')} FROM ${results[qi]}`;
      });
      const sql = `SELECT * FROM (${parts.join(' UNION ALL BY NAME ')}) ORDER BY __hash`;
      let tiles: TileRecord[] = [];
      let lifetime: LifetimeRecord[] = [];
      let last = -1;
      let at: { key: number[]; hop: number; states: number[][] } | null = null;
      let prevKey: Scalar[] | null = null;
      for await (const chunk of client.stream(sql)) {
        at ??= {
          key: keys.map((_, i) => chunk.names.indexOf(`__k${i}`)),
          hop: chunk.names.indexOf('__hop'),
          states: queries.map((q, qi) =>
            q.features.map((_, j) => chunk.names.indexOf(`__q${qi}_s${j}`)),
          ),
        };
        const hashes = chunk.columns[0]!;
        const qis = chunk.columns[1]!;
        for (let r = 0; r < chunk.size; r++) {
          const hash = hashes[r] as number;
          if (hash !== last && tiles.length + lifetime.length >= batchSize) {
            yield { tiles, lifetime };
            tiles = [];
            lifetime = [];
          }
          last = hash;
          const qi = qis[r] as number;
          const q = queries[qi]!;
          // The previous record's key array when the key is the same (an entity's records
          // are adjacent), so the key is encoded once per entity (`toTileWrites`).
          let same = prevKey !== null;
          for (let i = 0; same && i < at.key.length; i++)
            same = chunk.columns[at.key[i]!]![r] === prevKey![i];
          const key = same
            ? prevKey!
            : (prevKey = at.key.map((c) => chunk.columns[c]![r]) as Scalar[]);
          const states: Record<string, unknown> = {};
          const cols = at.states[qi]!;
          q.features.forEach((f, j) => (states[f.name] = q.decode(f, chunk.columns[cols[j]!]![r])));
          if (q.hopMs === null) lifetime.push({ key, states: states as never });
          else tiles.push({ key, hopMs: q.hopMs, hop: Number(chunk.columns[at.hop]![r]), states });
        }
      }
      if (tiles.length + lifetime.length > 0) yield { tiles, lifetime };
    }
    async function* batches(): AsyncGenerator<TileBatch> {
      try {
        if (pending.length > 0) yield* byKey();
        for (let b = 0; sequences.length && b < combined.buckets; b++) {
          const all = await combinedBucket(b);
          for (let i = 0; i < all.length; i += batchSize)
            yield { tiles: all.slice(i, i + batchSize), lifetime: [] };
        }
      } finally {
        await drop();
      }
    }
    return { batches: batches(), rejects: () => rejects, total };
  }

  /** Appends to JSON Lines files beside the source's (`append/jsonl-append.ts`). */
  appendRecords(req: AppendRequest): Promise<AppendResult> {
    return Promise.resolve(this.#appender.append(req));
  }

  appendLocation(source: BatchSourceSpec, origin: AppendOrigin, ingestedAt: number): string {
    return this.#appender.location(source, origin, ingestedAt);
  }

  earliestAppendedSince(source: BatchSourceSpec, since: number): Promise<number | null> {
    return Promise.resolve(this.#appender.earliestSince(source, since));
  }
}
