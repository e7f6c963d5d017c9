import { z } from 'zod';

/**
 * Configuration of the BigQuery offline store: `offlineStore: { type: 'bigquery', project,
 * dataset }` in `larder.config.ts`, or `LARDER_OFFLINE_STORE=bigquery://PROJECT/DATASET`.
 * Sources are the tables `<project>.<dataset>.<source.bigqueryTable>`; entity rows are
 * uploaded to a temporary table `_larder_entities_<uuid>` in the same dataset (dropped after).
 */
export const BigQueryOfflineStoreConfig = z
  .object({
    type: z.literal('bigquery'),
    project: z.string().min(1),
    dataset: z.string().min(1),
    /** Job location, e.g. `EU` (default: the dataset's). */
    location: z.string().optional(),
    /** Another endpoint, e.g. an emulator at `http://localhost:9050` (no auth then). */
    apiEndpoint: z.string().optional(),
    /**
     * How entity rows go up: a load job from a local file (`load`, default) or streaming
     * inserts (`insert`: for emulators without the upload API; holds the rows in memory, so
     * meant for small row sets).
     */
    entityUpload: z.enum(['load', 'insert']).default('load'),
    /** Result rows fetched per page (default 50 000). */
    pageSize: z.number().int().positive().default(50_000),
    /** `$LARDER_HOME`: local scratch space (entity uploads, output staging). */
    home: z.string().min(1),
    /** Local DuckDB memory limit for entity rows and output (default 2GB). */
    memoryLimit: z.string().default('2GB'),
  })
  .strict();

export type BigQueryOfflineStoreConfigInput = z.input<typeof BigQueryOfflineStoreConfig>;
export type BigQueryOfflineStoreConfig = z.infer<typeof BigQueryOfflineStoreConfig>;
