import { describe, expect, it } from 'vitest';
import { LarderError } from '../../core/errors.ts';
import { loadConfig, resolveConfig } from '../../config/config.ts';

describe('configuration', () => {
  it('has embedded defaults: SQLite under LARDER_HOME, DuckDB, local Kafka', () => {
    const c = resolveConfig({}, '/proj', {});
    expect(c).toMatchObject({
      repo: '/proj/features',
      home: '/proj/.larder',
      dataDir: '/proj/data',
      namespace: 'larder',
      onlineStore: { type: 'sqlite', path: '/proj/.larder/online.sqlite' },
      offlineStore: { type: 'duckdb' },
      kafka: { brokers: ['127.0.0.1:9092'] },
      serve: { host: '127.0.0.1', port: 8566, grpcPort: 6570 },
    });
    expect(Object.isFrozen(c.onlineStore)).toBe(true);
  });

  it('takes env overrides for every store and location', () => {
    const env = {
      LARDER_HOME: '/var/larder',
      LARDER_DATA_DIR: 'lake',
      LARDER_NAMESPACE: 'prod-eu',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      LARDER_OFFLINE_STORE: 'bigquery://my-proj/features',
    };
    const c = resolveConfig({}, '/proj', {
      ...env,
      LARDER_ONLINE_STORE: 'redis://127.0.0.1:6379/2',
    });
    expect(c.home).toBe('/var/larder');
    expect(c.dataDir).toBe('/proj/lake');
    expect(c.namespace).toBe('prod-eu');
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.offlineStore).toEqual({
      type: 'bigquery',
      project: 'my-proj',
      dataset: 'features',
      entityUpload: 'load',
      pageSize: 50_000,
      memoryLimit: '2GB',
    });
    expect(c.onlineStore).toEqual({ type: 'redis', url: 'redis://127.0.0.1:6379/2' });
    const cluster = resolveConfig({}, '/proj', {
      LARDER_ONLINE_STORE: 'redis-cluster://10.0.0.1:7000,10.0.0.2:7001',
    });
    expect(cluster.onlineStore).toEqual({
      type: 'redis-cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
      ],
    });
    expect(
      resolveConfig({}, '/proj', { LARDER_ONLINE_STORE: 'sqlite:rel/online.db' }).onlineStore,
    ).toEqual({ type: 'sqlite', path: '/proj/rel/online.db' });
  });

  it('fails at start with one clear line per problem', () => {
    let err: unknown;
    try {
      resolveConfig({ namespace: 'a b', serve: { port: 99999 }, colour: 'blue' }, '/proj', {
        LARDER_ONLINE_STORE: 'memcached://x',
        LARDER_OFFLINE_STORE: 'snowflake',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LarderError);
    const msg = (err as LarderError).message;
    expect((err as LarderError).code).toBe('LARDER_CONFIG_INVALID');
    expect(msg).toContain(
      'LARDER_ONLINE_STORE="memcached://x": expected sqlite:PATH, redis://host:port/db or redis-cluster://h1:p1,h2:p2',
    );
    expect(msg).toContain(
      'LARDER_OFFLINE_STORE="snowflake": expected duckdb or bigquery://PROJECT/DATASET',
    );
    expect(msg).toContain('namespace: letters, digits, "_" and "-" only');
    expect(msg).toContain('serve.port:');
    expect(msg).toContain("Unrecognized key(s) in object: 'colour'");
  });

  it('has ingest limits shared by push, stream and batch: 5m skew, 1024-byte keys', () => {
    expect(resolveConfig({}, '/proj', {}).ingest).toEqual({
      maxFutureSkewMs: 5 * 60_000,
      maxKeyBytes: 1024,
    });
    const c = resolveConfig({ ingest: { maxFutureSkew: '1h', maxKeyBytes: 64 } }, '/proj', {});
    expect(c.ingest).toEqual({ maxFutureSkewMs: 3_600_000, maxKeyBytes: 64 });
    expect(() => resolveConfig({ ingest: { maxFutureSkew: '5 min' } }, '/proj', {})).toThrow(
      /ingest\.maxFutureSkew: "5 min" is not a duration/,
    );
  });

  it('loads larder.config.ts from the project root', async () => {
    const c = await loadConfig(process.cwd(), {});
    expect(c.repo).toBe(`${process.cwd()}/examples/ecommerce/features`);
    expect(c.commands).toEqual([`${process.cwd()}/examples/ecommerce/cli/commands.ts`]);
    expect(c.offlineStore.type).toBe('duckdb');
  });
});
