/**
 * `serve` logs what a service with `logging` served to Parquet under `$LARDER_DATA_DIR/logs/`,
 * and a drain (shutdown) leaves every row enqueued before it on disk.
 */
import { readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFeatureLog } from '../../monitoring/open-feature-log.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const REPO =
  PUSH_REPO.replace('import { pushSource,', 'import { featureService, pushSource,') +
  `
export const logged = featureService({
  name: 'logged', features: [activity], logging: { sample: 1, destination: 'parquet' },
});
export const quiet = featureService({ name: 'quiet', features: [activity] });
`;

/** No service here logs to Kafka: the Kafka sink never connects. */
const LAZY_KAFKA = { brokers: ['127.0.0.1:9092'], clientId: 'test' };

let s: Served;
let repo: { dir: string; cleanup: () => void };
let data: { dir: string; cleanup: () => void };

beforeAll(async () => {
  repo = tempRepo({ 'features.ts': REPO });
  data = tempDir();
  s = await serveRepo(repo.dir);
  s.ctx.featureLog = openFeatureLog(
    { dataDir: data.dir, kafka: LAZY_KAFKA },
    s.ctx.metrics,
    (e) => {
      throw e;
    },
  );
  const r = await s.app.inject({
    method: 'POST',
    url: '/push',
    payload: {
      push_source_name: 'events_push',
      df: {
        id: ['e1', 'e2'],
        userId: ['u1', 'u1'],
        kind: ['click', 'view'],
        amount: [5, 7],
        ts: [T0 - 60_000, T0 - 30_000],
      },
      to: 'online',
    },
  });
  expect(r.statusCode, r.body).toBe(200);
});
afterAll(async () => {
  await s?.close();
  repo?.cleanup();
  data?.cleanup();
});

const read = async (body: object): Promise<void> => {
  const r = await s.app.inject({ method: 'POST', url: '/get-online-features', payload: body });
  expect(r.statusCode, r.body).toBe(200);
};

describe('feature logging in serve', () => {
  it('writes served rows of a logged service to Parquet on drain; others are not logged', async () => {
    await read({ feature_service: 'logged', entities: { user_id: ['u1', 'nobody'] } });
    await read({ feature_service: 'quiet', entities: { user_id: ['u1'] } });
    await read({ features: ['activity:clicks_1h'], entities: { user_id: ['u1'] } });
    await s.ctx.featureLog!.drain();

    const dir = join(data.dir, 'logs', 'logged');
    const files = readdirSync(dir);
    expect(files.length).toBe(1);
    expect(files[0]).toMatch(/^\d+-\d+-\d+\.parquet$/);
    expect(readdirSync(join(data.dir, 'logs'))).toEqual(['logged']);

    const db = await DuckDBClient.open({});
    const rows = await db.all(
      `SELECT request_id, service, epoch_ms(ts) AS t, row, entities, features, statuses, model, arm, score
       FROM read_parquet('${dir}/*.parquet') ORDER BY row`,
    );
    db.close();
    expect(rows).toHaveLength(2);
    expect(rows[0]!.request_id).toBe(rows[1]!.request_id);
    expect(rows.map((r) => [r.service, r.t, r.row, r.model, r.arm, r.score])).toEqual([
      ['logged', T0, 0, null, null, null],
      ['logged', T0, 1, null, null, null],
    ]);
    expect(JSON.parse(rows[0]!.entities as string)).toEqual({ user_id: 'u1' });
    expect(JSON.parse(rows[0]!.features as string)).toEqual({
      clicks_1h: 1,
      spend_7d: 12,
      last_kind: 'view',
    });
    expect(JSON.parse(rows[1]!.statuses as string)).toEqual({
      clicks_1h: 'NOT_FOUND',
      spend_7d: 'NOT_FOUND',
      last_kind: 'NOT_FOUND',
    });

    const metrics = await s.ctx.metrics.registry.metrics();
    expect(metrics).toContain(
      'larder_feature_log_rows_total{destination="parquet",result="written"} 2',
    );
  });

  it('counts the rows of a request that does not fit the buffer in /metrics, and answers it', async () => {
    const log = openFeatureLog(
      { dataDir: data.dir, kafka: LAZY_KAFKA },
      s.ctx.metrics,
      (e) => {
        throw e;
      },
      { capacity: 2 },
    );
    s.ctx.featureLog = log;
    await read({ feature_service: 'logged', entities: { user_id: ['a', 'b', 'c'] } });
    await log.drain();
    const metrics = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(
      'larder_feature_log_rows_total{destination="parquet",result="buffer_full"} 3',
    );
  });

  it('logs a read answered over a socket (the POST /get-online-features fast path) too', async () => {
    const out = tempDir();
    const log = openFeatureLog({ dataDir: out.dir, kafka: LAZY_KAFKA }, s.ctx.metrics, (e) => {
      throw e;
    });
    s.ctx.featureLog = log;
    try {
      await s.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = s.app.server.address() as AddressInfo;
      const r = await fetch(`http://127.0.0.1:${port}/get-online-features`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ feature_service: 'logged', entities: { user_id: ['u1'] } }),
      });
      expect(r.status).toBe(200);
      await log.drain();
      const dir = join(out.dir, 'logs', 'logged');
      const db = await DuckDBClient.open({});
      const rows = await db.all(`SELECT service, row FROM read_parquet('${dir}/*.parquet')`);
      db.close();
      expect(rows).toEqual([{ service: 'logged', row: 0 }]);
    } finally {
      out.cleanup();
    }
  });
});
