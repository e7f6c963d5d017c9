/**
 * The BigQuery offline store: the point-in-time plan rendered as BigQuery Standard SQL and run
 * as a query job where the events live (`<project>.<dataset>.<source.bigqueryTable>`), results
 * read page by page. Entity rows, on-demand features and output files are handled locally by
 * an embedded DuckDB (the same code as the DuckDB store), so every output format and entity
 * file format works the same; raw events are never pulled into Node.
 *
 * Time grids and `computeTiles` (materialization) run their aggregations in BigQuery too.
 * Tables are typed, so there are no raw-record rejects to report.
 *
 * @example
 * const store = new BigQueryOfflineStore({ type: 'bigquery', project: 'p', dataset: 'shop', home: '.larder' });
 * await store.init();
 * await store.exportPointInTime({ repo, features, entities: { type: 'file', path: 'rows.csv' }, out: { type: 'file', path: 'train.parquet' } });
 */
import { join } from 'node:path';
import type { FeatureViewSpec } from '../../definitions/spec.ts';
import { DuckDBOfflineStore } from '../duckdb/duckdb-offline-store.ts';
import type {
  ComputeTilesRequest,
  ComputeTilesResult,
  ExportRequest,
  ExportSummary,
  OfflineStore,
  OfflineStoreCapabilities,
} from '../offline-store.ts';
import { BigQueryAggregator } from './bigquery-aggregator.ts';
import { createBigQueryClient, type BigQueryClientLike } from './bigquery-client.ts';
import {
  BigQueryOfflineStoreConfig,
  type BigQueryOfflineStoreConfigInput,
} from './bigquery-offline-store-config.ts';

export class BigQueryOfflineStore implements OfflineStore {
  readonly type = 'bigquery';
  readonly capabilities: OfflineStoreCapabilities;
  readonly #local: DuckDBOfflineStore;

  /** @param client a BigQuery client (default: `@google-cloud/bigquery` with the config). */
  constructor(config: BigQueryOfflineStoreConfigInput, client?: BigQueryClientLike) {
    const c = BigQueryOfflineStoreConfig.parse(config);
    let bq: BigQueryClientLike | undefined = client;
    const aggregator = new BigQueryAggregator({
      client: () => (bq ??= createBigQueryClient(c)),
      project: c.project,
      dataset: c.dataset,
      pageSize: c.pageSize,
      upload: c.entityUpload,
    });
    this.#local = new DuckDBOfflineStore(
      {
        type: 'duckdb',
        dataDir: join(c.home, 'bigquery-unused'),
        home: c.home,
        memoryLimit: c.memoryLimit,
        cacheJsonl: false,
        trace: c.trace,
      },
      aggregator,
    );
    this.capabilities = this.#local.capabilities;
  }

  init(): Promise<void> {
    return this.#local.init();
  }

  close(): Promise<void> {
    return this.#local.close();
  }

  exportPointInTime(request: ExportRequest): Promise<ExportSummary> {
    return this.#local.exportPointInTime(request);
  }

  /** Tiles and lifetime states of a view, computed in BigQuery (`bqTilesSql`), read page by page. */
  computeTiles(view: FeatureViewSpec, request: ComputeTilesRequest): Promise<ComputeTilesResult> {
    return this.#local.computeTiles(view, request);
  }
}
