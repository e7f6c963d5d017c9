/**
 * The `'bigquery'` feature-log destination against a fake client: the table created once,
 * insert ids per row, retries of transient failures with backoff, a permanent failure counted as
 * `sink_error` for the rows not written, a dropped table created again, and the sink of a
 * non-BigQuery offline store failing with what to configure. The emulator test
 * (feature-log-bigquery.services.test.ts) covers the real client.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import {
  BigQueryLogSink,
  INSERT_CHUNK_ROWS,
  isTransient,
  logTableOf,
  type InsertRow,
  type LogTableClient,
} from '../../monitoring/bigquery-log-sink.ts';
import { FeatureLog, type ServedRequest } from '../../monitoring/feature-log.ts';
import { openFeatureLog } from '../../monitoring/open-feature-log.ts';

const TABLE = { project: 'p', dataset: 'd', table: 'larder_feature_log' };

const httpError = (code: number, message = `HTTP ${code}`): Error =>
  Object.assign(new Error(message), { code });

/** A fake client: `failures` are thrown by the next inserts, in order. */
class FakeClient implements LogTableClient {
  readonly statements: string[] = [];
  readonly inserted: InsertRow[] = [];
  inserts = 0;
  failures: unknown[] = [];
  async query(sql: string): Promise<Record<string, unknown>[]> {
    this.statements.push(sql);
    return [];
  }
  async insert(dataset: string, table: string, rows: InsertRow[]): Promise<void> {
    expect([dataset, table]).toEqual(['d', 'larder_feature_log']);
    this.inserts++;
    const f = this.failures.shift();
    if (f) throw f;
    this.inserted.push(...rows);
  }
}

const served = (users: string[], destinations = ['bigquery']): ServedRequest => ({
  service: 'svc',
  logging: { sample: 1, destinations },
  t: Date.UTC(2026, 0, 1, 12),
  entities: { user_id: users },
  response: {
    columns: [
      {
        name: 'clicks_1h',
        values: users.map(() => 2),
        statuses: users.map(() => 'PRESENT'),
      },
    ],
  },
  model: { name: 'ranker', arm: 'control', scores: users.map(() => 0.5) },
});

const counting = () => {
  const counts: Record<string, number> = {};
  const errors: string[] = [];
  return {
    counts,
    errors,
    onRows: (e: string, d: string, n: number, reason?: string) => {
      const k = `${d}:${reason ?? e}`;
      counts[k] = (counts[k] ?? 0) + n;
    },
    onError: (e: unknown) => errors.push((e as Error).message),
  };
};

const logWith = (sink: BigQueryLogSink, c: ReturnType<typeof counting>): FeatureLog =>
  new FeatureLog({ sinks: [sink], flushMs: 60_000, onRows: c.onRows, onError: c.onError });

describe('BigQueryLogSink', () => {
  it('creates the partitioned table once and inserts each row with its id and columns', async () => {
    const client = new FakeClient();
    const c = counting();
    const log = logWith(new BigQueryLogSink(client, TABLE), c);
    log.enqueue(served(['u1', 'u2']));
    await log.flush();
    log.enqueue(served(['u3']));
    await log.drain();
    expect(client.statements).toEqual([
      expect.stringMatching(
        /^CREATE TABLE IF NOT EXISTS `p\.d\.larder_feature_log` \(request_id STRING, service STRING, ts TIMESTAMP, `row` INT64, .*score FLOAT64\) PARTITION BY DATE\(ts\)$/,
      ),
    ]);
    expect(client.inserted).toHaveLength(3);
    const [first] = client.inserted;
    expect(first!.insertId).toBe(`${first!.json.request_id as string}:0`);
    expect(first!.json).toEqual({
      request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      service: 'svc',
      ts: '2026-01-01T12:00:00.000Z',
      row: 0,
      entities: '{"user_id":"u1"}',
      features: '{"clicks_1h":2}',
      statuses: '{"clicks_1h":"PRESENT"}',
      model: 'ranker',
      arm: 'control',
      score: 0.5,
    });
    expect(c.counts).toEqual({ 'bigquery:written': 3 });
  });

  it('retries transient failures (429, 5xx, a reset connection) with backoff, then writes', async () => {
    const client = new FakeClient();
    client.failures = [
      httpError(503),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      httpError(429),
    ];
    const c = counting();
    const log = logWith(new BigQueryLogSink(client, TABLE, { backoffMs: 1 }), c);
    log.enqueue(served(['u1', 'u2']));
    await log.drain();
    expect(client.inserts).toBe(4);
    expect(client.inserted.map((r) => r.json.row)).toEqual([0, 1]);
    expect(c.counts).toEqual({ 'bigquery:written': 2 });
    expect(c.errors).toEqual([]);
  });

  it('gives up after its attempts, and at once on a permanent failure: sink_error for the rows not written', async () => {
    const client = new FakeClient();
    client.failures = [httpError(500), httpError(500)];
    const c = counting();
    const log = logWith(new BigQueryLogSink(client, TABLE, { attempts: 2, backoffMs: 1 }), c);
    log.enqueue(served(['u1']));
    await log.flush();
    expect(client.inserts).toBe(2);
    expect(c.counts).toEqual({ 'bigquery:sink_error': 1 });
    expect(c.errors[0]).toBe('BigQuery insert into p.d.larder_feature_log failed: HTTP 500');

    // The first request of a flush is written, the second is refused (400: not retried).
    const users = Array.from({ length: INSERT_CHUNK_ROWS + 7 }, (_, i) => `u${i}`);
    client.failures = [undefined, httpError(400, 'no such field: x')];
    const before = client.inserts;
    log.enqueue(served(users));
    await log.drain();
    expect(client.inserts - before).toBe(2);
    expect(c.counts).toEqual({
      'bigquery:sink_error': 1 + 7,
      'bigquery:written': INSERT_CHUNK_ROWS,
    });
    expect(c.errors[1]).toContain('no such field: x');
  });

  it('creates a table dropped since it was created again, then inserts', async () => {
    const client = new FakeClient();
    const sink = new BigQueryLogSink(client, TABLE, { backoffMs: 1 });
    const log = logWith(sink, counting());
    log.enqueue(served(['u1']));
    await log.flush();
    client.failures = [httpError(404, 'Not found: Table p:d.larder_feature_log')];
    log.enqueue(served(['u2']));
    await log.drain();
    expect(client.statements).toHaveLength(2);
    expect(client.inserted).toHaveLength(2);
  });

  it('classifies errors: HTTP 429/5xx, network codes and transient reasons retry; rows refused do not', () => {
    expect(isTransient(httpError(502))).toBe(true);
    expect(isTransient(httpError(403))).toBe(false);
    expect(isTransient({ errors: [{ reason: 'backendError' }] })).toBe(true);
    expect(isTransient(new Error('x', { cause: { code: 'ETIMEDOUT' } }))).toBe(true);
    expect(isTransient({ name: 'PartialFailureError', errors: [] })).toBe(false);
  });
});

describe("the 'bigquery' destination in serve's feature log", () => {
  it('names the table from offlineStore.featureLogTable (table or dataset.table)', () => {
    const base = { type: 'bigquery', project: 'p', dataset: 'd' } as const;
    expect(logTableOf(base)).toEqual(TABLE);
    const store = resolveConfig(
      { offlineStore: { ...base, featureLogTable: 'logs.served' } },
      '/proj',
      {},
    ).offlineStore;
    expect(logTableOf(store as typeof base)).toEqual({
      project: 'p',
      dataset: 'logs',
      table: 'served',
    });
    expect(() =>
      resolveConfig({ offlineStore: { ...base, featureLogTable: 'a.b.c' } }, '/proj', {}),
    ).toThrow(/offlineStore\.featureLogTable: write "table" or "dataset\.table"/);
  });

  it('fails every write with what to configure when the offline store is not BigQuery', async () => {
    const lines: string[] = [];
    const counts: Record<string, number> = {};
    const log = openFeatureLog(
      {
        dataDir: '/nonexistent',
        kafka: { brokers: ['127.0.0.1:9092'], clientId: 't' },
        offlineStore: resolveConfig({}, '/proj', {}).offlineStore,
      },
      {
        featureLogRows: {
          inc: (l, n) => (counts[`${l.destination}:${l.result}`] = n),
        },
      },
      (e, d) => lines.push(`${d}: ${(e as Error).message}`),
    );
    log.enqueue(served(['u1', 'u2']));
    await log.drain();
    expect(counts).toEqual({ 'bigquery:sink_error': 2 });
    expect(lines).toEqual([
      "bigquery: logging to 'bigquery' needs a BigQuery offline store (offlineStore.type is 'duckdb')",
    ]);
  });
});
