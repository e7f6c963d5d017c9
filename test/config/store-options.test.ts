/**
 * One schema (config/config.ts) holds every option of every store: each is settable in
 * `larder.config.ts`, defaulted and validated there, and reaches the store's own config
 * unchanged (the stores' `*-config.ts` derive from it instead of defining fields again).
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import { LarderError } from '../../core/errors.ts';
import { BigQueryOfflineStoreConfig } from '../../offline/bigquery/bigquery-offline-store-config.ts';
import { DuckDBOfflineStoreConfig } from '../../offline/duckdb/duckdb-offline-store-config.ts';

/** The LARDER_CONFIG_INVALID message for `file`, or the error if something else was thrown. */
function problems(file: unknown): string {
  try {
    resolveConfig(file, '/proj', {});
  } catch (e) {
    expect(e).toBeInstanceOf(LarderError);
    expect((e as LarderError).code).toBe('LARDER_CONFIG_INVALID');
    return (e as LarderError).message;
  }
  throw new Error('the config was accepted');
}

describe('store options in larder.config.ts', () => {
  it('DuckDB: every option, with its defaults', () => {
    expect(resolveConfig({}, '/proj', {}).offlineStore).toEqual({
      type: 'duckdb',
      memoryLimit: '2GB',
      cacheJsonl: true,
      nativeValidation: true,
      engine: 'sweep',
      partitionEvents: 20_000_000,
      indexCache: true,
      compactParquet: false,
      rejectExamples: 5,
    });
    const set = {
      type: 'duckdb',
      memoryLimit: '512MB',
      threads: 2,
      cacheJsonl: false,
      nativeValidation: false,
      engine: 'sql',
      partitionEvents: 1000,
      sweepThreads: 1,
      indexCache: false,
      compactParquet: true,
      rejectExamples: 0,
    } as const;
    const c = resolveConfig({ offlineStore: set }, '/proj', {});
    expect(c.offlineStore).toEqual(set);
    // The store's config is the section plus the folders and diagnostics, nothing redefined.
    const store = DuckDBOfflineStoreConfig.parse({
      ...c.offlineStore,
      dataDir: c.dataDir,
      home: c.home,
      trace: c.trace,
    });
    expect(store).toEqual({
      ...set,
      dataDir: '/proj/data',
      home: '/proj/.larder',
      trace: { sql: 'off', sweep: false },
    });
  });

  it('BigQuery: entityUpload, pageSize, memoryLimit, location, apiEndpoint', () => {
    const base = { type: 'bigquery', project: 'p', dataset: 'd' } as const;
    expect(resolveConfig({ offlineStore: base }, '/proj', {}).offlineStore).toEqual({
      ...base,
      entityUpload: 'load',
      pageSize: 50_000,
      memoryLimit: '2GB',
    });
    const set = {
      ...base,
      location: 'EU',
      apiEndpoint: 'http://127.0.0.1:9050',
      entityUpload: 'insert',
      pageSize: 500,
      memoryLimit: '1GB',
    } as const;
    const c = resolveConfig({ offlineStore: set }, '/proj', {});
    expect(c.offlineStore).toEqual(set);
    expect(BigQueryOfflineStoreConfig.parse({ ...c.offlineStore, home: c.home })).toEqual({
      ...set,
      home: '/proj/.larder',
      trace: { sql: 'off', sweep: false },
    });
  });

  it('online stores: the SQLite and Redis knobs', () => {
    const sqlite = { type: 'sqlite', path: 'on.db', busyTimeoutMs: 100, purgeIntervalMs: 0 };
    expect(resolveConfig({ onlineStore: sqlite }, '/proj', {}).onlineStore).toEqual({
      ...sqlite,
      path: '/proj/on.db',
    });
    const knobs = { connectTimeoutMs: 200, maxRetriesPerRequest: 0, maxMergeAttempts: 3 };
    const redis = { type: 'redis', url: 'redis://127.0.0.1:6379/1', ...knobs };
    expect(resolveConfig({ onlineStore: redis }, '/proj', {}).onlineStore).toEqual(redis);
    const cluster = { type: 'redis-cluster', nodes: [{ host: 'h', port: 7000 }], ...knobs };
    expect(resolveConfig({ onlineStore: cluster }, '/proj', {}).onlineStore).toEqual(cluster);
  });

  it('a bad option is one clear line naming it', () => {
    const msg = problems({
      offlineStore: {
        type: 'bigquery',
        project: 'p',
        dataset: 'd',
        entityUpload: 'ftp',
        pageSize: 0,
      },
    });
    expect(msg).toContain(
      "offlineStore.entityUpload: Invalid enum value. Expected 'load' | 'insert', received 'ftp'",
    );
    expect(msg).toContain('offlineStore.pageSize: Number must be greater than 0');
    expect(problems({ offlineStore: { type: 'duckdb', cacheJsonl: 'yes' } })).toContain(
      'offlineStore.cacheJsonl: Expected boolean, received string',
    );
    expect(problems({ offlineStore: { type: 'duckdb', pageSize: 10 } })).toContain(
      "offlineStore: Unrecognized key(s) in object: 'pageSize'",
    );
    expect(problems({ onlineStore: { type: 'sqlite', path: 'x', busyTimeoutMs: -1 } })).toContain(
      'onlineStore.busyTimeoutMs: Number must be greater than or equal to 0',
    );
    expect(
      problems({ onlineStore: { type: 'redis', url: 'redis://h', maxMergeAttempts: 1.5 } }),
    ).toContain('onlineStore.maxMergeAttempts: Expected integer, received float');
  });

  it('LARDER_OFFLINE_STORE / LARDER_ONLINE_STORE replace the section, as before', () => {
    const c = resolveConfig(
      {
        offlineStore: { type: 'duckdb', memoryLimit: '8GB' },
        onlineStore: { type: 'redis', url: 'redis://a:1', connectTimeoutMs: 9 },
      },
      '/proj',
      { LARDER_OFFLINE_STORE: 'duckdb', LARDER_ONLINE_STORE: 'redis://b:2' },
    );
    expect(c.offlineStore).toMatchObject({ type: 'duckdb', memoryLimit: '2GB' });
    expect(c.onlineStore).toEqual({ type: 'redis', url: 'redis://b:2' });
  });
});
