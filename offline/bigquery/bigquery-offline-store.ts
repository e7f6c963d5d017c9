/**
 * The BigQuery offline store: the point-in-time plan rendered as BigQuery Standard SQL and run
 * as a query job where the events live (`<project>.<dataset>.<source.bigqueryTable>`), results
 * read page by page (`bigquery-engine.ts`). Entity rows, on-demand features and output files
 * are handled locally, in an embedded DuckDB, by the export pipeline every store shares
 * (`export/export-pipeline.ts`), so every output format and entity file format works the same;
 * raw events are never pulled into Node.
 *
 * Time grids and `computeTiles` (materialization) run their aggregations in BigQuery too.
 * Tables are typed; the batch ingest rules leave out the rows stamped later than now +
 * `ingest.maxFutureSkew` or outside JavaScript's date range, as the DuckDB store does, and
 * count them as rejects of the table (`sql/ingest-rules-sql.ts`).
 *
 * @example
 * const store = new BigQueryOfflineStore({ type: 'bigquery', project: 'p', dataset: 'shop', home: '.larder' });
 * await store.init();
 * await store.exportPointInTime({ repo, features, entities: { type: 'file', path: 'rows.csv' }, out: { type: 'file', path: 'train.parquet' } });
 */
import { LarderError } from '../../core/errors.ts';
import type { FeatureViewSpec } from '../../definitions/spec.ts';
import { exportPointInTime } from '../export/export-pipeline.ts';
import { readSnapshot } from '../export/batch-views.ts';
import { snapshotColumns } from '../batch/output-columns.ts';
import type { Repository } from '../../definitions/repository.ts';
import { viewSource } from '../export/export-plan.ts';
import { viewPass } from '../export/pass.ts';
import { LocalDatabase } from '../local/local-database.ts';
import type {
  BatchSnapshot,
  BatchSnapshotRequest,
  ComputeTilesRequest,
  ComputeTilesResult,
  ExportRequest,
  ExportSummary,
  OfflineStore,
  OfflineStoreCapabilities,
  RejectReport,
  TileBatch,
  SourceStatistics,
  SourceStatisticsRequest,
} from '../offline-store.ts';
import { createBigQueryClient, type BigQueryClientLike } from './bigquery-client.ts';
import { BigQueryEngine } from './bigquery-engine.ts';
import {
  BigQueryOfflineStoreConfig,
  type BigQueryOfflineStoreConfigInput,
} from './bigquery-offline-store-config.ts';
import { isSequenceKind } from '../../core/sequence.ts';
import { tileRecordId, type TileRecords } from '../sequence-tile-fold.ts';
import { BigQueryAppender } from '../append/bigquery-append.ts';
import type { AppendRequest, AppendResult } from '../offline-store.ts';
import type { BatchSourceSpec } from '../../definitions/spec.ts';

export class BigQueryOfflineStore implements OfflineStore {
  readonly type = 'bigquery';
  readonly capabilities: OfflineStoreCapabilities;
  readonly #engine: BigQueryEngine;
  /** Entity rows, on-demand features and outputs. */
  readonly #db: LocalDatabase;
  readonly #appender: BigQueryAppender;

  /**
   * @param client a BigQuery client (default: `@google-cloud/bigquery` with the config).
   * @param ingest the batch ingest rules: rows stamped later than `clock()` + `maxFutureSkewMs`
   *   (`ingest.maxFutureSkew`, default 5 minutes) or outside JavaScript's date range are
   *   rejects, left out of every read and counted.
   */
  constructor(
    config: BigQueryOfflineStoreConfigInput,
    client?: BigQueryClientLike,
    ingest: { clock?: () => number; maxFutureSkewMs?: number } = {},
  ) {
    const c = BigQueryOfflineStoreConfig.parse(config);
    let bq: BigQueryClientLike | undefined = client;
    this.#engine = new BigQueryEngine({
      client: () => (bq ??= createBigQueryClient(c)),
      project: c.project,
      dataset: c.dataset,
      pageSize: c.pageSize,
      upload: c.entityUpload,
      ingest: {
        clock: ingest.clock ?? Date.now,
        maxFutureSkewMs: ingest.maxFutureSkewMs ?? 5 * 60_000,
      },
    });
    this.#appender = new BigQueryAppender({
      client: () => (bq ??= createBigQueryClient(c)),
      project: c.project,
      dataset: c.dataset,
    });
    this.#db = new LocalDatabase({ home: c.home, memoryLimit: c.memoryLimit, trace: c.trace.sql });
    this.capabilities = Object.freeze({
      exportPointInTime: true,
      computeTiles: true,
      outputFormats: Object.freeze(['parquet', 'arrow', 'csv', 'jsonl'] as const),
      outOfCore: true,
      entityGrid: true,
      sourceStatistics: true,
      appendRecords: true,
    });
  }

  async init(): Promise<void> {
    await this.#db.connect();
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }

  checkBatchView(repo: Repository, name: string): Promise<void> {
    const view = repo.batchViews.get(name)!;
    return this.#engine.checkBatchView({
      view,
      cols: snapshotColumns(repo, view.spec),
      source: view.batch.spec,
    });
  }

  batchSnapshot(req: BatchSnapshotRequest): Promise<BatchSnapshot> {
    return readSnapshot(this.#db, this.#engine, req);
  }

  /** Aggregate query jobs over the source table; rows the ingest rules reject, by reason. */
  sourceStatistics(req: SourceStatisticsRequest): Promise<SourceStatistics> {
    const def = req.repo.batchSources.get(req.source);
    if (!def)
      return Promise.reject(
        new LarderError('LARDER_NOT_FOUND', `unknown batch source "${req.source}"`),
      );
    return this.#engine.sourceStatistics(def.spec, req);
  }

  exportPointInTime(request: ExportRequest): Promise<ExportSummary> {
    return exportPointInTime(this.#db, this.#engine, request);
  }

  /** Tiles and lifetime states of a view, computed in BigQuery (`bqTilesSql`), read page by page. */
  async computeTiles(
    view: FeatureViewSpec,
    request: ComputeTilesRequest,
  ): Promise<ComputeTilesResult> {
    const client = await this.#db.connect();
    const def = request.repo.featureViews.get(view.name);
    if (!def) throw new LarderError('LARDER_NOT_FOUND', `unknown feature view "${view.name}"`);
    const src = viewSource(request.repo, view.name);
    const keys = def.entityDefs.map((e) => e.spec.joinKey);
    const rejects: RejectReport[] = [];
    const { table } = await this.#engine.source(client, src, new Set(), rejects);
    const sequences = view.features.filter((f) => isSequenceKind(f.aggregation));
    const plain = sequences.length
      ? { ...view, features: view.features.filter((f) => !isSequenceKind(f.aggregation)) }
      : view;
    const pass = viewPass(plain, keys, src, table);
    const batchSize = request.batchSize ?? 10_000;
    const { start, end } = request;
    const tiles = plain.features.length
      ? this.#engine.tiles({ pass, start, end, batchSize })
      : emptyBatches();
    if (sequences.length === 0) return { batches: tiles, rejects: () => rejects };
    // Sequence states share tile fields with the view's other states of the same hop, and a
    // field is written whole: with sequence features, every tile is combined in memory first.
    const engine = this.#engine;
    async function* combined(): AsyncGenerator<TileBatch> {
      const into: TileRecords = new Map();
      await engine.sequenceTiles(
        { pass, features: sequences, ttlMs: view.ttlMs, start, end, firstHops: request.firstHops },
        into,
      );
      for await (const b of tiles) {
        for (const t of b.tiles) {
          const rec = into.get(tileRecordId(t.key, t.hopMs, t.hop));
          if (rec) Object.assign(rec.states, t.states);
          else into.set(tileRecordId(t.key, t.hopMs, t.hop), t);
        }
        if (b.lifetime.length > 0) yield { tiles: [], lifetime: b.lifetime };
      }
      const all = [...into.values()];
      for (let i = 0; i < all.length; i += batchSize)
        yield { tiles: all.slice(i, i + batchSize), lifetime: [] };
    }
    return { batches: combined(), rejects: () => rejects };
  }

  /** DML inserts into the source's table (`append/bigquery-append.ts`). */
  appendRecords(req: AppendRequest): Promise<AppendResult> {
    return this.#appender.append(req);
  }

  appendLocation(source: BatchSourceSpec): string {
    return this.#appender.location(source);
  }

  earliestAppendedSince(source: BatchSourceSpec, since: number): Promise<number | null> {
    return this.#appender.earliestSince(source, since);
  }
}

/** A view with sequence features only has no SQL tiles. */
async function* emptyBatches(): AsyncGenerator<TileBatch> {}
