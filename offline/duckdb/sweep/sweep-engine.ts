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
import { appendColumnOf, sweepPasses, type SweepPassesRequest } from './sweep-passes.ts';

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
    const onDemand = (odfvs: string[], progress: typeof job.progress) => ({
      repo: plan.repo,
      odfvs,
      requestFields: plan.requestFields,
      total,
      columnOf: plan.columnOf,
      progress,
    });
    const computed = new Map<string, AppendColumn>();
    // An on-demand view reading only features (no request field: those come from DuckDB after
    // the sweeps) runs as soon as they are swept, while the workers sweep the other passes
    // (this thread is idle then); the rest run after the sweeps.
    const waiting = new Map(
      plan.odfvs.flatMap((v) => {
        const inputs = Object.values(plan.repo.onDemandViews.get(v)!.spec.inputs);
        return inputs.every((i) => i.from === 'feature')
          ? [[v, inputs.map((i) => plan.columnOf(i.view, i.feature))] as const]
          : [];
      }),
    );
    const sweptCols = new Set<string>();
    const ran = new Set<string>();
    let early: Promise<void> = Promise.resolve();
    const onSwept: SweepPassesRequest['onSwept'] = (cols, swept) => {
      for (const c of cols) sweptCols.add(c);
      if (swept.last) return;
      const ready = [...waiting].flatMap(([v, ins]) =>
        ins.every((c) => sweptCols.has(c)) ? [v] : [],
      );
      if (ready.length === 0) return;
      for (const v of ready) {
        waiting.delete(v);
        ran.add(v);
      }
      // After the lane has posted its next sweep (a macrotask later).
      early = early
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          for (const c of sweepOnDemand(
            { ...onDemand(ready, () => undefined), requestFields: [] },
            swept,
            {},
          ))
            computed.set(c.name, c);
        });
      early.catch(() => undefined); // awaited below
    };
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
      ...(plan.odfvs.length > 0 ? { onSwept } : {}),
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
    await early;
    const later = plan.odfvs.filter((v) => !ran.has(v));
    const request: Record<string, unknown[]> = {};
    if (later.length > 0 && plan.requestFields.length > 0) {
      for (const f of plan.requestFields) request[f] = [];
      for await (const chunk of client.stream(
        `SELECT ${plan.requestFields.map(ident).join(', ')} FROM ${job.entTable} ORDER BY __rid`,
      ))
        plan.requestFields.forEach((f, i) => request[f]!.push(...chunk.columns[i]!));
    }
    if (later.length > 0)
      for (const c of sweepOnDemand(onDemand(later, job.progress), swept, request))
        computed.set(c.name, c);
    // What was not encoded during the sweeps: on-demand features (in shared memory: on the
    // workers, both at once, while this thread encodes the rest), partitioned passes' columns.
    const groups = swept.groups!;
    const pool = this.#sweepPool();
    const pending = output.columns.map((o) => {
      const done = swept.encoded.get(o.col);
      if (done) return done;
      const c = computed.get(o.col);
      if (c && pool.mode === 'workers' && !('strings' in c)) {
        const e = pool.encode([{ ...c, name: o.name }], groups).then((r) => r[0]!);
        e.catch(() => undefined); // awaited below
        return e;
      }
      return null;
    });
    const encoded = output.columns.map(
      (o, i) =>
        pending[i] ??
        encodeColumn(
          {
            ...(computed.get(o.col) ?? appendColumnOf(o.col, swept.columns.get(o.col)!)),
            name: o.name,
          },
          groups,
        ),
    );
    appendEncoded(path, await Promise.all(encoded));
  }
}

/**
 * How DuckDB writes the entity columns of a sweep export's Parquet file (the feature columns are
 * dictionary / RLE encoded, uncompressed: see `parquet/append-columns.ts`): snappy, no
 * dictionaries — building them for 1M high-cardinality keys cost 85 ms of CPU more than
 * compressing the plain strings, for a file 10% smaller.
 */
const ENTITY_PARQUET = 'COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 1';
