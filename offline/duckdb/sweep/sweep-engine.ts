/**
 * The sweep export engine (`engine: 'sweep'`, the default; see `sweep-passes.ts`) plus
 * on-demand features, computed in TypeScript over whole columns, written as one Parquet file
 * with every output column in entity-row order: DuckDB writes the entity rows' own columns (in
 * their insertion order) first, while the workers read their indexes; each pass's output
 * columns are encoded for that file's row groups as soon as the pass is swept (the main thread
 * is idle during the sweeps), the on-demand ones after the transforms, and all are appended to
 * the file from their typed arrays (`parquet/append-columns.ts`) — no join, no sort, no second
 * pass over the rows. The engine owns the worker pool: started as the first export begins,
 * kept until `close`.
 */
import type { ExportJob, ParquetExportEngine } from '../../export/export-engine.ts';
import { ident, sqlString } from '../../local/duckdb-client.ts';
import {
  appendEncoded,
  encodeColumn,
  rowGroupSizes,
  type AppendColumn,
} from '../../parquet/append-columns.ts';
import { SweepPool } from '../../sweep/sweep-pool.ts';
import { DuckDBSourcesEngine, type DuckDBSources } from '../duckdb-sources.ts';
import { SweepIndexCache } from './index-cache.ts';
import { sweepOnDemand } from './sweep-on-demand.ts';
import { appendColumnOf, sweepPasses } from './sweep-passes.ts';

export interface SweepEngineConfig {
  /** Most events one partition's index holds (`partitionEvents`). */
  partitionEvents: number;
  /** Worker threads (default: one per core; 1 = inline). */
  sweepThreads?: number;
  /** Keep event indexes under `<cacheDir>/sweep-v3/` (`indexCache`). */
  indexCache: boolean;
  /** `<home>/offline-cache`: the index cache and the bundled worker live here. */
  cacheDir: string;
  /** Per-job timings on stderr (`config.trace.sweep`). */
  trace?: boolean;
}

export class SweepEngine extends DuckDBSourcesEngine implements ParquetExportEngine {
  readonly name = 'sweep';
  readonly output = 'parquet';
  readonly #config: SweepEngineConfig;
  #pool: SweepPool | null = null;

  constructor(sources: DuckDBSources, config: SweepEngineConfig) {
    super(sources);
    this.#config = config;
  }

  /** Starts the worker pool (if not yet running) while the export plans and loads. */
  begin(): void {
    this.#sweepPool();
  }

  /** The worker pool, started on first use and kept until `close`. */
  #sweepPool(): SweepPool {
    this.#pool ??= SweepPool.create(this.#config.sweepThreads, this.#config.cacheDir);
    return this.#pool;
  }

  async close(): Promise<void> {
    await this.#pool?.close();
    this.#pool = null;
  }

  async writeParquet(
    job: ExportJob,
    output: { path: string; columns: { col: string; name: string }[] },
  ): Promise<void> {
    const { client, total, plan } = job;
    const { path } = output;
    const swept = await sweepPasses({
      client,
      passes: job.passes,
      entTable: job.entTable,
      rows: total,
      name: job.name,
      partitionEvents: this.#config.partitionEvents,
      trace: this.#config.trace,
      cache: this.#config.indexCache ? new SweepIndexCache(this.#config.cacheDir) : null,
      pool: this.#sweepPool(),
      onProgress: (d) => job.progress('aggregating', Math.min(d, total), total),
      // DuckDB writes the entity columns first (while the workers read their indexes), so the
      // swept output columns can be encoded for its row groups while other passes are swept.
      output: {
        write: async () => {
          await client.run(
            `COPY (SELECT ${job.entityCols.map(ident).join(', ')} FROM ${job.entTable}) TO ${sqlString(path)} (FORMAT parquet, ${ENTITY_PARQUET})`,
          );
          return rowGroupSizes(path);
        },
        columns: new Map(output.columns.map((o) => [o.col, o.name])),
      },
    });
    const request: Record<string, unknown[]> = {};
    if (plan.odfvs.length > 0 && plan.requestFields.length > 0) {
      for (const f of plan.requestFields) request[f] = [];
      for await (const chunk of client.stream(
        `SELECT ${plan.requestFields.map(ident).join(', ')} FROM ${job.entTable} ORDER BY __rid`,
      ))
        plan.requestFields.forEach((f, i) => request[f]!.push(...chunk.columns[i]!));
    }
    const computed = new Map<string, AppendColumn>();
    if (plan.odfvs.length > 0)
      for (const c of sweepOnDemand(
        {
          repo: plan.repo,
          odfvs: plan.odfvs,
          requestFields: plan.requestFields,
          total,
          columnOf: plan.columnOf,
          progress: job.progress,
        },
        swept,
        request,
      ))
        computed.set(c.name, c);
    // What was not encoded during the sweeps: on-demand features, partitioned passes' columns.
    const groups = swept.groups!;
    appendEncoded(
      path,
      output.columns.map((o) => {
        const done = swept.encoded.get(o.col);
        if (done) return done;
        const c = computed.get(o.col) ?? appendColumnOf(o.col, swept.columns.get(o.col)!);
        return encodeColumn({ ...c, name: o.name }, groups);
      }),
    );
  }
}

/**
 * How DuckDB writes the entity columns of a sweep export's Parquet file (the feature columns are
 * dictionary / RLE encoded, uncompressed: see `parquet/append-columns.ts`): snappy, no
 * dictionaries — building them for 1M high-cardinality keys cost 85 ms of CPU more than
 * compressing the plain strings, for a file 10% smaller.
 */
const ENTITY_PARQUET = 'COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1';
