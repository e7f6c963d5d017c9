/**
 * Larder's configuration: `larder.config.ts` at the project root (typed, validated once at
 * start, then frozen), overridden by environment variables. One schema per component with a
 * literal `type` and no unknown keys.
 *
 * | env                 | meaning                                                     |
 * |---------------------|-------------------------------------------------------------|
 * | LARDER_HOME         | registry, SQLite store, API keys (default `./.larder`)      |
 * | LARDER_DATA_DIR     | raw data (default `./data`)                                 |
 * | LARDER_REPO         | feature repository folder (default `./features`)            |
 * | LARDER_ONLINE_STORE | `sqlite:PATH` · `redis://host:port/db` · `redis-cluster://h1:p1,h2:p2` |
 * | LARDER_OFFLINE_STORE| `duckdb` · `bigquery://PROJECT/DATASET`                     |
 * | KAFKA_BROKERS       | `host:port,host:port` (default `127.0.0.1:9092`)            |
 * | LARDER_NAMESPACE    | prefixes Redis keys and consumer groups (default `larder`)  |
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';
import { LarderError } from '../core/errors.ts';
import { parseCrashAt, type CrashAt } from './test-crash.ts';

const SqliteConfig = z.object({ type: z.literal('sqlite'), path: z.string().min(1) }).strict();
const RedisConfig = z
  .object({
    type: z.literal('redis'),
    url: z.string().regex(/^rediss?:\/\//, 'must start with redis://'),
  })
  .strict();
const RedisClusterConfig = z
  .object({
    type: z.literal('redis-cluster'),
    nodes: z
      .array(z.object({ host: z.string().min(1), port: z.number().int().positive() }).strict())
      .min(1),
  })
  .strict();
export const OnlineStoreConfig = z.discriminatedUnion('type', [
  SqliteConfig,
  RedisConfig,
  RedisClusterConfig,
]);
export type OnlineStoreConfig = z.infer<typeof OnlineStoreConfig>;

const DuckdbConfig = z
  .object({
    type: z.literal('duckdb'),
    memoryLimit: z.string().optional(),
    threads: z.number().int().positive().optional(),
    engine: z.enum(['sweep', 'sql']).optional(),
    partitionEvents: z.number().int().positive().optional(),
    indexCache: z.boolean().optional(),
    sweepThreads: z.number().int().positive().optional(),
    compactParquet: z.boolean().optional(),
  })
  .strict();
const BigQueryConfig = z
  .object({
    type: z.literal('bigquery'),
    project: z.string().min(1),
    dataset: z.string().min(1),
    location: z.string().optional(),
    apiEndpoint: z.string().optional(),
  })
  .strict();
export const OfflineStoreConfig = z.discriminatedUnion('type', [DuckdbConfig, BigQueryConfig]);
export type OfflineStoreConfig = z.infer<typeof OfflineStoreConfig>;

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
        brokers: z.array(z.string().regex(/^[^:]+:\d+$/, 'write host:port')).min(1),
        clientId: z.string().default('larder'),
      })
      .strict()
      .default({ brokers: ['127.0.0.1:9092'] }),
    serve: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(6566),
        grpcPort: z.number().int().min(0).max(65535).default(6570),
        maxEntityRows: z.number().int().positive().default(1000),
        maxPushRows: z.number().int().positive().default(1000),
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
  readonly kafka: { readonly brokers: readonly string[]; readonly clientId: string };
  readonly serve: {
    readonly host: string;
    readonly port: number;
    readonly grpcPort: number;
    readonly maxEntityRows: number;
    readonly maxPushRows: number;
  };
  /** Rules every ingest path (push, stream, batch files) applies to a schema-valid record. */
  readonly ingest: IngestLimitsConfig;
  /** Tests only: `LARDER_TEST_CRASH_AT=<point>:<n>` (config/test-crash.ts); null otherwise. */
  readonly testCrashAt: CrashAt | null;
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
export function parseOfflineStoreUrl(text: string): OfflineStoreConfig | { error: string } {
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
): Promise<LarderConfig> {
  return resolveConfig(await loadConfigFile(root), root, env);
}

/** The default export of `root/larder.config.ts`, unvalidated; `{}` when there is no file. */
export async function loadConfigFile(root: string): Promise<unknown> {
  const file = join(root, 'larder.config.ts');
  if (!existsSync(file)) return {};
  const { tsImport } = await import('tsx/esm/api');
  return moduleDefault(await tsImport(pathToFileURL(file).href, import.meta.url)) ?? {};
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
      `invalid configuration (larder.config.ts and LARDER_* env):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
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
