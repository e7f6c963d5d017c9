/**
 * Larder's configuration: `larder.config.ts` at the project root (typed, validated once at
 * start, then frozen), overridden by environment variables. One schema per component with a
 * literal `type` and no unknown keys; every option of every store is settable here.
 *
 * This module is the only one that reads `process.env`: everything else receives the values
 * (`LarderConfig`), and the CLI entry asks {@link debugFromEnv} before any config loads.
 * An env var that is set but empty counts as unset.
 *
 * | env                 | meaning                                                     |
 * |---------------------|-------------------------------------------------------------|
 * | LARDER_HOME         | registry, SQLite store, API keys (default `./.larder`)      |
 * | LARDER_DATA_DIR     | raw data (default `./data`)                                 |
 * | LARDER_REPO         | feature repository folder (default `./features`; `--repo` wins) |
 * | LARDER_ONLINE_STORE | `sqlite:PATH` · `redis://host:port/db` · `redis-cluster://h1:p1,h2:p2` (replaces `onlineStore`) |
 * | LARDER_OFFLINE_STORE| `duckdb` · `bigquery://PROJECT/DATASET` (replaces `offlineStore`) |
 * | KAFKA_BROKERS       | `host:port,host:port` (default `127.0.0.1:9092`)            |
 * | LARDER_KAFKA_RETRIES | the Kafka client's retries of a request (`kafka.retries`, default 5) |
 * | LARDER_NAMESPACE    | prefixes Redis keys and consumer groups (default `larder`)  |
 * | LARDER_TOPIC_<NAME> | the topic of stream source `<name>` (`stream.topics`)       |
 * | LARDER_TOPIC_PARTITIONS | partitions of topics `larder stream` creates (`stream.topicPartitions`, default 6) |
 * | LARDER_SERVE_WORKERS | processes of `larder serve` (`serve.workers`, default: the number of cores) |
 * | LARDER_SCHEMA_REGISTRY_URL | Confluent schema registry of Avro sources (`stream.schemaRegistryUrl`) |
 * | LARDER_TRACE_SQL=1  | DuckDB statement timings on stderr (`trace.sql`); `LARDER_TRACE_SQL_FULL=1`: whole SQL |
 * | SWEEP_TRACE         | the sweep's per-job timings on stderr (`trace.sweep`)       |
 * | LARDER_TEST_CRASH_AT| tests only: `<point>:<n>` (config/test-crash.ts)            |
 * | LARDER_DEBUG        | CLI errors print their stack trace ({@link debugFromEnv})   |
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';
import { LarderError } from '../core/errors.ts';
import { AlertsConfigSchema, resolveAlerts, type AlertsConfig } from './alerts-config.ts';
import { parseCrashAt, type CrashAt } from './test-crash.ts';

/**
 * The SQLite online store: one database file in WAL mode (default `$LARDER_HOME/online.sqlite`),
 * so several processes read while one writes. The tuning knobs are for tests and benchmarks.
 */
export const SqliteOnlineStoreConfig = z
  .object({
    type: z.literal('sqlite'),
    path: z.string().min(1),
    /** How long a writer waits for another process's write lock (default 5000 ms). */
    busyTimeoutMs: z.number().int().nonnegative().optional(),
    /** Expired rows are deleted after a write at most this often (default 60 000 ms; 0: every write). */
    purgeIntervalMs: z.number().int().nonnegative().optional(),
  })
  .strict();
export type SqliteOnlineStoreConfig = z.infer<typeof SqliteOnlineStoreConfig>;

/** Connection knobs shared by Redis and Redis Cluster; the defaults are the store's. */
const redisKnobs = {
  /** Connect timeout (default 5000 ms). */
  connectTimeoutMs: z.number().int().positive().optional(),
  /** Retries of a command after a connection loss (default 2; tests use 0 or 1). */
  maxRetriesPerRequest: z.number().int().nonnegative().optional(),
  /** Optimistic merge attempts before giving up with a retriable error (default 50). */
  maxMergeAttempts: z.number().int().positive().optional(),
  /**
   * Durable writes (default 0: off): every write, stream batch and push is acknowledged only
   * once this many replicas of each master have it (Redis `WAIT`), so a failover that promotes
   * a replica loses no acknowledged write; fewer acknowledgements within `waitTimeoutMs` fail
   * the write as `LARDER_STORE_UNAVAILABLE` (retried; re-applying is exact).
   */
  waitReplicas: z.number().int().nonnegative().optional(),
  /** How long a write waits for `waitReplicas` acknowledgements (default 1000 ms). */
  waitTimeoutMs: z.number().int().positive().optional(),
};

/** Redis online store: `redis://host:port/db` (or `rediss://`). */
export const RedisOnlineStoreConfig = z
  .object({
    type: z.literal('redis'),
    url: z.string().regex(/^rediss?:\/\//, 'must start with redis://'),
    ...redisKnobs,
  })
  .strict();
export type RedisOnlineStoreConfig = z.infer<typeof RedisOnlineStoreConfig>;

/** Redis Cluster online store: any subset of the nodes is enough to discover the others. */
export const RedisClusterOnlineStoreConfig = z
  .object({
    type: z.literal('redis-cluster'),
    nodes: z
      .array(z.object({ host: z.string().min(1), port: z.number().int().positive() }).strict())
      .min(1),
    ...redisKnobs,
  })
  .strict();
export type RedisClusterOnlineStoreConfig = z.infer<typeof RedisClusterOnlineStoreConfig>;

export const OnlineStoreConfig = z.discriminatedUnion('type', [
  SqliteOnlineStoreConfig,
  RedisOnlineStoreConfig,
  RedisClusterOnlineStoreConfig,
]);
export type OnlineStoreConfig = z.infer<typeof OnlineStoreConfig>;

/**
 * The embedded DuckDB offline store's options (`offlineStore: { type: 'duckdb', … }`); it also
 * gets the project's folders (`offline/duckdb/duckdb-offline-store-config.ts`). DuckDB spills
 * to `<home>/duckdb-tmp` once it reaches `memoryLimit`, so sources larger than memory work.
 */
export const DuckDBOfflineStoreOptions = z
  .object({
    type: z.literal('duckdb'),
    /** DuckDB memory limit, e.g. `'2GB'` (default 2GB). */
    memoryLimit: z.string().min(1).default('2GB'),
    /** DuckDB threads (default: DuckDB's, one per core). */
    threads: z.number().int().positive().optional(),
    /**
     * Validate each JSON Lines file once into a Parquet cache under `<home>/offline-cache/`
     * (keyed by path, size, mtime and schema) and read that afterwards (default true).
     */
    cacheJsonl: z.boolean().default(true),
    /**
     * Validate new JSON Lines files into that cache with the native validator when it is built
     * (`npm run build:native`, needs cargo; `offline/duckdb/native-validate.ts`): the same entries
     * in less than half the CPU; DuckDB validates the files it leaves (default true).
     */
    nativeValidation: z.boolean().default(true),
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
     * Keep the sweep's event indexes under `<home>/offline-cache/sweep-v3/` (keyed by the
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
    /** How many example rejects to keep per file (default 5). */
    rejectExamples: z.number().int().nonnegative().default(5),
  })
  .strict();

/**
 * The BigQuery offline store's options (`offlineStore: { type: 'bigquery', project, dataset }`
 * or `LARDER_OFFLINE_STORE=bigquery://PROJECT/DATASET`). Sources are the tables
 * `<project>.<dataset>.<source.bigqueryTable>`; entity rows are uploaded to a temporary table
 * `_larder_entities_<uuid>` in the same dataset (dropped after).
 */
export const BigQueryOfflineStoreOptions = z
  .object({
    type: z.literal('bigquery'),
    project: z.string().min(1),
    dataset: z.string().min(1),
    /** Job location, e.g. `EU` (default: the dataset's). */
    location: z.string().min(1).optional(),
    /** Another endpoint, e.g. an emulator at `http://localhost:9050` (no auth then). */
    apiEndpoint: z.string().url().optional(),
    /**
     * How entity rows go up: a load job from a local file (`load`, default) or streaming
     * inserts (`insert`: for emulators without the upload API; holds the rows in memory, so
     * meant for small row sets).
     */
    entityUpload: z.enum(['load', 'insert']).default('load'),
    /** Result rows fetched per page (default 50 000). */
    pageSize: z.number().int().positive().default(50_000),
    /** Local DuckDB memory limit for entity rows and output (default 2GB). */
    memoryLimit: z.string().min(1).default('2GB'),
    /**
     * The table `logging` destination `'bigquery'` writes to: `table` in `dataset`, or
     * `dataset.table` (absent: `larder_feature_log`; docs/monitoring.md "Feature logging").
     */
    featureLogTable: z
      .string()
      .regex(/^([A-Za-z0-9_]+\.)?[A-Za-z_][A-Za-z0-9_]*$/, 'write "table" or "dataset.table"')
      .optional(),
  })
  .strict();

export const OfflineStoreConfig = z.discriminatedUnion('type', [
  DuckDBOfflineStoreOptions,
  BigQueryOfflineStoreOptions,
]);
export type OfflineStoreConfig = z.infer<typeof OfflineStoreConfig>;
export type OfflineStoreConfigInput = z.input<typeof OfflineStoreConfig>;

/** Diagnostics on stderr, for profiling. */
export const TraceConfig = z
  .object({
    /**
     * Every DuckDB statement's duration: `statements` prints the first 160 characters of each,
     * `full` the whole SQL (env `LARDER_TRACE_SQL=1`, with `LARDER_TRACE_SQL_FULL=1` for `full`).
     */
    sql: z.enum(['off', 'statements', 'full']).default('off'),
    /** The sweep's per-job timings when an index is opened (env `SWEEP_TRACE`). */
    sweep: z.boolean().default(false),
  })
  .strict();
export type TraceConfig = z.infer<typeof TraceConfig>;

export const LarderConfigSchema = z
  .object({
    repo: z.string().default('features'),
    /**
     * Extra `larder` commands this project adds: modules (paths from the project root) whose
     * default export is a `CommandPlugin` (cli/plugin.ts). The e-commerce example adds
     * `gen-data` and `label` this way; Larder itself imports no example code.
     */
    commands: z.array(z.string().min(1)).default([]),
    home: z.string().default('.larder'),
    dataDir: z.string().default('data'),
    namespace: z
      .string()
      .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, "_" and "-" only')
      .default('larder'),
    onlineStore: OnlineStoreConfig.optional(),
    offlineStore: OfflineStoreConfig.default({ type: 'duckdb' }),
    kafka: z
      .object({
        brokers: z
          .array(z.string().regex(/^[^:]+:\d+$/, 'write host:port'))
          .min(1)
          .default(['127.0.0.1:9092']),
        clientId: z.string().default('larder'),
        /**
         * The Kafka client's retries of a failed request (a broker that does not answer), from
         * 0.3 s doubling, for the commands that talk to Kafka: `stream`, `topics`, `dlq`.
         */
        retries: z.number().int().min(0).max(20).default(5),
      })
      .strict()
      .default({}),
    serve: z
      .object({
        host: z.string().default('127.0.0.1'),
        // Not Feast's 6566: browsers refuse that port (cli/serve-banner.ts), and the dashboard
        // must open in one.
        port: z.number().int().min(0).max(65535).default(8566),
        grpcPort: z.number().int().min(0).max(65535).default(6570),
        maxEntityRows: z.number().int().positive().default(1000),
        maxPushRows: z.number().int().positive().default(1000),
        /** Processes sharing the port (`serve --workers`); default: the machine's cores. */
        workers: z.number().int().min(1).max(256).default(availableParallelism()),
      })
      .strict()
      .default({}),
    stream: z
      .object({
        /** Partitions of the source topics `larder stream` creates when missing (default 6). */
        topicPartitions: z.number().int().positive().default(6),
        /** A Confluent schema registry for Avro sources (default: the `.avsc` files only). */
        schemaRegistryUrl: z.string().url().optional(),
      })
      .strict()
      .default({}),
    trace: TraceConfig.default({}),
    scheduler: z
      .object({
        /** POSTed a JSON notice when a scheduled run fails its last attempt. */
        webhookUrl: z.string().url().optional(),
        /** Further POSTs after a failed one (1 s, 2 s, 4 s … apart). */
        webhookRetries: z.number().int().min(0).max(10).default(3),
      })
      .strict()
      .default({}),
    ingest: z
      .object({
        maxFutureSkew: z
          .string()
          .default('5m')
          .superRefine((v, c) => {
            const d = parseDuration(v);
            if (typeof d !== 'number') c.addIssue({ code: 'custom', message: d.error });
          }),
        maxKeyBytes: z.number().int().positive().default(1024),
      })
      .strict()
      .default({}),
    /** Alert rules and destinations (`larder monitor`; config/alerts-config.ts). */
    alerts: AlertsConfigSchema.optional(),
  })
  .strict();

export type LarderConfigInput = z.input<typeof LarderConfigSchema>;

export interface LarderConfig {
  /** Project root: where larder.config.ts lives (or the working directory). */
  readonly root: string;
  readonly repo: string;
  /** Absolute paths of the modules that add commands to `larder` (`commands`). */
  readonly commands: readonly string[];
  readonly home: string;
  readonly dataDir: string;
  readonly namespace: string;
  readonly onlineStore: OnlineStoreConfig;
  readonly offlineStore: OfflineStoreConfig;
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly clientId: string;
    /** `kafka.retries` (always set by the schema; absent in configs built by hand: kafkajs's 5). */
    readonly retries?: number;
  };
  readonly serve: {
    readonly host: string;
    readonly port: number;
    readonly grpcPort: number;
    readonly maxEntityRows: number;
    readonly maxPushRows: number;
    readonly workers: number;
  };
  /** Rules every ingest path (push, stream, batch files) applies to a schema-valid record. */
  readonly ingest: IngestLimitsConfig;
  readonly stream: StreamConfig;
  readonly trace: TraceConfig;
  /** `larder scheduler`: where failures are posted (docs/operations.md "Scheduler"). */
  readonly scheduler: { readonly webhookUrl: string | null; readonly webhookRetries: number };
  /** Alert rules and destinations (docs/monitoring.md "Alerts"); null: none declared. */
  readonly alerts: AlertsConfig | null;
  /** Tests only: `LARDER_TEST_CRASH_AT=<point>:<n>` (config/test-crash.ts); null otherwise. */
  readonly testCrashAt: CrashAt | null;
}

export interface StreamConfig {
  readonly topicPartitions: number;
  readonly schemaRegistryUrl: string | null;
  /**
   * Topic overrides from the environment, keyed by variable name (a stream source's
   * `topicEnv`, `LARDER_TOPIC_<NAME>`): every non-empty `LARDER_TOPIC_*` (an empty one is
   * unset). Read them with `resolveTopic(spec, config.stream.topics)`.
   */
  readonly topics: Readonly<Record<string, string>>;
}

export interface IngestLimitsConfig {
  /** Records stamped later than now + this (ms) are rejected. */
  readonly maxFutureSkewMs: number;
  /** Join-key values longer than this many UTF-8 bytes are rejected. */
  readonly maxKeyBytes: number;
}

/** Typed helper for `larder.config.ts`: `export default defineConfig({ ... })`. */
export const defineConfig = (c: LarderConfigInput): LarderConfigInput => c;

/** Parses `LARDER_ONLINE_STORE`. */
export function parseOnlineStoreUrl(text: string): OnlineStoreConfig | { error: string } {
  if (text.startsWith('sqlite:')) return { type: 'sqlite', path: text.slice('sqlite:'.length) };
  if (/^rediss?:\/\//.test(text)) return { type: 'redis', url: text };
  if (text.startsWith('redis-cluster://')) {
    const nodes = text
      .slice('redis-cluster://'.length)
      .split(',')
      .map((hp) => {
        const [host, port] = hp.split(':');
        return { host: host ?? '', port: Number(port) };
      });
    if (nodes.some((n) => !n.host || !Number.isInteger(n.port) || n.port <= 0)) {
      return {
        error: `LARDER_ONLINE_STORE="${text}": write redis-cluster://host1:port1,host2:port2`,
      };
    }
    return { type: 'redis-cluster', nodes };
  }
  return {
    error: `LARDER_ONLINE_STORE="${text}": expected sqlite:PATH, redis://host:port/db or redis-cluster://h1:p1,h2:p2`,
  };
}

/** Parses `LARDER_OFFLINE_STORE`. */
export function parseOfflineStoreUrl(text: string): OfflineStoreConfigInput | { error: string } {
  if (text === 'duckdb') return { type: 'duckdb' };
  const m = /^bigquery:\/\/([^/]+)\/([^/]+)$/.exec(text);
  if (m) return { type: 'bigquery', project: m[1] as string, dataset: m[2] as string };
  return { error: `LARDER_OFFLINE_STORE="${text}": expected duckdb or bigquery://PROJECT/DATASET` };
}

/**
 * Loads `larder.config.ts` (if present) from `root`, applies env overrides, validates and
 * freezes. Invalid config throws LARDER_CONFIG_INVALID with one line per problem.
 */
export async function loadConfig(
  root = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
  /** Command-line flags, which win over the environment (`--repo`). */
  flags: { repo?: string } = {},
): Promise<LarderConfig> {
  return resolveConfig(
    await loadConfigFile(root),
    root,
    flags.repo ? { ...env, LARDER_REPO: flags.repo } : env,
  );
}

/** `LARDER_DEBUG`: the CLI prints an error's stack trace (read before any config loads). */
export function debugFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.LARDER_DEBUG);
}

/** The default export of `root/larder.config.ts`, unvalidated; `{}` when there is no file. */
export async function loadConfigFile(root: string): Promise<unknown> {
  const file = join(root, 'larder.config.ts');
  if (!existsSync(file)) return {};
  const { tsImport } = await import('tsx/esm/api');
  let mod: unknown;
  try {
    mod = await tsImport(pathToFileURL(file).href, import.meta.url);
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new LarderError('LARDER_CONFIG_INVALID', `${file} failed to load: ${message}`, {
      hint: /Cannot find (module|package) 'larder/.test(message ?? '')
        ? 'install larder in this project, or run inside the Larder checkout'
        : 'fix the file, or remove it to use the defaults',
    });
  }
  return moduleDefault(mod) ?? {};
}

/**
 * The default export of an imported TypeScript module. Outside a `"type": "module"` package tsx
 * compiles the file to CommonJS, and the default export arrives wrapped once more:
 * `{ default: { __esModule: true, default: value } }`.
 */
export function moduleDefault(mod: unknown): unknown {
  const d = (mod as { default?: unknown }).default as
    { __esModule?: boolean; default?: unknown } | undefined;
  return d && typeof d === 'object' && d.__esModule ? d.default : d;
}

export function resolveConfig(
  fileConfig: unknown,
  root: string,
  env: NodeJS.ProcessEnv,
): LarderConfig {
  const problems: string[] = [];
  const raw = { ...(fileConfig as Record<string, unknown>) };
  if (env.LARDER_REPO) raw.repo = env.LARDER_REPO;
  if (env.LARDER_HOME) raw.home = env.LARDER_HOME;
  if (env.LARDER_DATA_DIR) raw.dataDir = env.LARDER_DATA_DIR;
  if (env.LARDER_NAMESPACE) raw.namespace = env.LARDER_NAMESPACE;
  if (env.LARDER_ONLINE_STORE) {
    const p = parseOnlineStoreUrl(env.LARDER_ONLINE_STORE);
    if ('error' in p) problems.push(p.error);
    else raw.onlineStore = p;
  }
  if (env.LARDER_OFFLINE_STORE) {
    const p = parseOfflineStoreUrl(env.LARDER_OFFLINE_STORE);
    if ('error' in p) problems.push(p.error);
    else raw.offlineStore = p;
  }
  if (env.KAFKA_BROKERS) {
    raw.kafka = {
      ...((raw.kafka as object) ?? {}),
      brokers: env.KAFKA_BROKERS.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
  }
  const int = (name: string, apply: (n: number) => void): void => {
    const text = env[name];
    if (!text) return;
    const n = Number(text);
    if (/^\s*\d+\s*$/.test(text) && Number.isSafeInteger(n)) apply(n);
    else problems.push(`${name}="${text}": write a whole number`);
  };
  /** A copy of the file's section `key` to override fields of (a non-object is left for the schema to report). */
  const section = (key: string): Record<string, unknown> => {
    const v = raw[key];
    if (v !== undefined && (v === null || typeof v !== 'object')) return {};
    return (raw[key] = { ...(v as object | undefined) }) as Record<string, unknown>;
  };
  int('LARDER_KAFKA_RETRIES', (n) => (section('kafka').retries = n));
  int('LARDER_TOPIC_PARTITIONS', (n) => (section('stream').topicPartitions = n));
  int('LARDER_SERVE_WORKERS', (n) => (section('serve').workers = n));
  if (env.LARDER_SCHEMA_REGISTRY_URL)
    section('stream').schemaRegistryUrl = env.LARDER_SCHEMA_REGISTRY_URL;
  if (env.LARDER_TRACE_SQL === '1')
    section('trace').sql = env.LARDER_TRACE_SQL_FULL === '1' ? 'full' : 'statements';
  if (env.SWEEP_TRACE) section('trace').sweep = true;
  if (env.LARDER_SCHEDULER_WEBHOOK_URL)
    section('scheduler').webhookUrl = env.LARDER_SCHEDULER_WEBHOOK_URL;
  const topics: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (name.startsWith('LARDER_TOPIC_') && value) topics[name] = value;
  let testCrashAt: CrashAt | null = null;
  if (env.LARDER_TEST_CRASH_AT) {
    const p = parseCrashAt(env.LARDER_TEST_CRASH_AT);
    if ('error' in p) problems.push(p.error);
    else testCrashAt = p;
  }
  const r = LarderConfigSchema.safeParse(raw);
  if (!r.success) {
    for (const i of r.error.issues)
      problems.push(`${i.path.join('.') || '(config)'}: ${i.message}`);
  }
  if (problems.length > 0 || !r.success) {
    throw new LarderError(
      'LARDER_CONFIG_INVALID',
      // One problem stays on the first line, the one the CLI prints.
      problems.length === 1
        ? `invalid configuration (larder.config.ts and LARDER_* env): ${problems[0]}`
        : `invalid configuration (larder.config.ts and LARDER_* env):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      problems.some((p) => p.startsWith('alerts'))
        ? { hint: 'the alerts section is described in docs/monitoring.md "Alerts"' }
        : {},
    );
  }
  const c = r.data;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(root, p));
  const home = abs(c.home);
  const online = c.onlineStore ?? { type: 'sqlite' as const, path: join(home, 'online.sqlite') };
  const config: LarderConfig = {
    root,
    repo: abs(c.repo),
    commands: c.commands.map(abs),
    home,
    dataDir: abs(c.dataDir),
    namespace: c.namespace,
    onlineStore: online.type === 'sqlite' ? { ...online, path: abs(online.path) } : online,
    offlineStore: c.offlineStore,
    kafka: c.kafka,
    serve: c.serve,
    ingest: {
      maxFutureSkewMs: parseDuration(c.ingest.maxFutureSkew) as number,
      maxKeyBytes: c.ingest.maxKeyBytes,
    },
    stream: {
      topicPartitions: c.stream.topicPartitions,
      schemaRegistryUrl: c.stream.schemaRegistryUrl ?? null,
      topics,
    },
    trace: c.trace,
    scheduler: {
      webhookUrl: c.scheduler.webhookUrl ?? null,
      webhookRetries: c.scheduler.webhookRetries,
    },
    alerts: c.alerts ? resolveAlerts(c.alerts) : null,
    testCrashAt,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
