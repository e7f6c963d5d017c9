import { z } from 'zod';
import { DuckDBOfflineStoreOptions, TraceConfig } from '../../config/config.ts';

/**
 * Configuration of the embedded DuckDB offline store: the options of `offlineStore: { type:
 * 'duckdb', … }` (defined, documented and defaulted once, in `config/config.ts`) plus the
 * project's folders and diagnostics, which `createOfflineStore` adds from the `LarderConfig`.
 */
export const DuckDBOfflineStoreConfig = DuckDBOfflineStoreOptions.extend({
  /** `$LARDER_DATA_DIR`: batch sources live under `<dataDir>/<source.path>/`. */
  dataDir: z.string().min(1),
  /** `$LARDER_HOME`: spill files go to `<home>/duckdb-tmp`, caches to `<home>/offline-cache`. */
  home: z.string().min(1),
  /** `config.trace` (default: off). */
  trace: TraceConfig.default({}),
}).strict();

export type DuckDBOfflineStoreConfigInput = z.input<typeof DuckDBOfflineStoreConfig>;
export type DuckDBOfflineStoreConfig = z.infer<typeof DuckDBOfflineStoreConfig>;
