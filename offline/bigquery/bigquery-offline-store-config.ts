import { z } from 'zod';
import { BigQueryOfflineStoreOptions, TraceConfig } from '../../config/config.ts';

/**
 * Configuration of the BigQuery offline store: the options of `offlineStore: { type:
 * 'bigquery', project, dataset, … }` (defined, documented and defaulted once, in
 * `config/config.ts`) plus the local scratch space and diagnostics, which
 * `createOfflineStore` adds from the `LarderConfig`.
 */
export const BigQueryOfflineStoreConfig = BigQueryOfflineStoreOptions.extend({
  /** `$LARDER_HOME`: local scratch space (entity uploads, output staging). */
  home: z.string().min(1),
  /** `config.trace`, for the local DuckDB (default: off). */
  trace: TraceConfig.default({}),
}).strict();

export type BigQueryOfflineStoreConfigInput = z.input<typeof BigQueryOfflineStoreConfig>;
export type BigQueryOfflineStoreConfig = z.infer<typeof BigQueryOfflineStoreConfig>;
