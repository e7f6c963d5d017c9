import { z } from 'zod';

/**
 * Configuration of the embedded DuckDB offline store: `offlineStore: { type: 'duckdb' }` in
 * `larder.config.ts` plus the project's folders. DuckDB spills to `<home>/duckdb-tmp` once it
 * reaches `memoryLimit`, so sources larger than memory work.
 */
export const DuckDBOfflineStoreConfig = z
  .object({
    type: z.literal('duckdb'),
    /** `$LARDER_DATA_DIR`: batch sources live under `<dataDir>/<source.path>/`. */
    dataDir: z.string().min(1),
    /** `$LARDER_HOME`: spill files go to `<home>/duckdb-tmp`. */
    home: z.string().min(1),
    /** DuckDB memory limit, e.g. `'2GB'` (default 2GB). */
    memoryLimit: z.string().default('2GB'),
    threads: z.number().int().positive().optional(),
    /**
     * Validate each JSON Lines file once into a Parquet cache under `<home>/offline-cache/`
     * (keyed by path, size, mtime and schema) and read that afterwards (default true).
     */
    cacheJsonl: z.boolean().default(true),
    /**
     * How point-in-time exports aggregate: `sweep` (default) builds a sorted columnar index of
     * each pass's events with DuckDB and sweeps it in TypeScript (linear, no window functions);
     * `sql` runs everything as DuckDB window functions (slower, kept as an independent check).
     */
    engine: z.enum(['sweep', 'sql']).default('sweep'),
    /**
     * Most events the sweep holds in memory at once: a pass with more is split into partitions
     * of entity keys, each indexed and swept in turn (default 20M, ~0.5 GB).
     */
    partitionEvents: z.number().int().positive().default(20_000_000),
    /** Worker threads sweeping passes in parallel (default: one per core; 1 = inline). */
    sweepThreads: z.number().int().positive().optional(),
    /**
     * Keep the sweep's event indexes under `<home>/offline-cache/sweep-v2/` (keyed by the
     * source files and the definitions), so later exports over the same data skip scanning
     * and sorting it (default true).
     */
    indexCache: z.boolean().default(true),
    /**
     * Parquet exports of the sweep engine: the feature columns are written by Larder,
     * dictionary / RLE encoded but uncompressed (fast). `true` rewrites the file through
     * DuckDB with zstd instead: 35 instead of 84 MB for 1M rows × 29 columns, 0.6 s more.
     */
    compactParquet: z.boolean().default(false),
    /** How many example rejects to keep per file. */
    rejectExamples: z.number().int().nonnegative().default(5),
  })
  .strict();

export type DuckDBOfflineStoreConfigInput = z.input<typeof DuckDBOfflineStoreConfig>;
export type DuckDBOfflineStoreConfig = z.infer<typeof DuckDBOfflineStoreConfig>;
