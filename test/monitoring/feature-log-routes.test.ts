/**
 * Feature logging of the routes besides `POST /get-online-features`: the model routes
 * (`/predict`, `/rank`, an experiment's arm) log every scored row with the model, the arm and the
 * score, under the model's feature service; gRPC GetOnlineFeatures logs like REST. On a copy of
 * the e-commerce example whose models and `recommendation_v1` declare `logging`.
 */
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { model } from '../../definitions/index.ts';
import { assignArm } from '../../models/experiment-router.ts';
import { loadModelSet } from '../../models/model-set.ts';
import { openFeatureLog } from '../../monitoring/open-feature-log.ts';
import { logDestinations } from '../../monitoring/skew.ts';
import { DuckDBClient } from '../../offline/local/duckdb-client.ts';
import { columns, EVENTS } from '../api/ecommerce-data.ts';
import { serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { tempDir } from '../support/temp-repo.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** No service here logs to Kafka: the Kafka sink never connects. */
const LAZY_KAFKA = { brokers: ['127.0.0.1:9092'], clientId: 'test' };

let s: Served;
let server: grpc.Server;
let client: grpc.Client & Record<string, (...a: unknown[]) => void>;
const copy = join(ROOT, '.cache', 'test-repos', `repo-${randomUUID()}`);
const data = tempDir();

const post = async (url: string, payload: object): Promise<Record<string, unknown>> => {
  const r = await s.app.inject({ method: 'POST', url, payload });
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

/** Adds `logging: { sample: 1 }` after the line matching `after` in a file of the copy. */
const addLogging = (file: string, after: RegExp, count: number): void => {
  const path = join(copy, 'features', file);
  const text = readFileSync(path, 'utf8');
  expect(text.match(new RegExp(after, 'g'))?.length).toBe(count);
  writeFileSync(path, text.replace(new RegExp(after, 'g'), '$&\n  logging: { sample: 1 },'));
};

beforeAll(async () => {
  for (const dir of ['features', 'models'])
    cpSync(join(ROOT, 'examples/ecommerce', dir), join(copy, dir), { recursive: true });
  addLogging('models.ts', /service: recommendationV1,/, 2);
  addLogging('services.ts', /name: 'recommendation_v1',/, 1);
  s = await serveRepo(join(copy, 'features'));
  s.ctx.state.swap({ ...s.ctx.state.current, models: await loadModelSet(s.repo) });
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
    payload: { push_source_name: 'user_events', df: columns(EVENTS), to: 'online' },
  });
  expect(r.statusCode, r.body).toBe(200);
  server = createGrpcServer(s.ctx);
  const port = await startGrpcServer(server, '127.0.0.1', 0);
  const Service = loadServingService();
  client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
});

afterAll(async () => {
  client?.close();
  await new Promise<void>((r) => (server ? server.tryShutdown(() => r()) : r()));
  await s?.close();
  rmSync(copy, { recursive: true, force: true });
  data.cleanup();
});

interface LogRow {
  request_id: string;
  service: string;
  t: number;
  row: number;
  entities: string;
  features: string;
  statuses: string;
  model: string | null;
  arm: string | null;
  score: number | null;
}

/** Drains the log and reads back every row written under the service, in request order. */
const drained = async (): Promise<LogRow[]> => {
  await s.ctx.featureLog!.drain();
  const db = await DuckDBClient.open({});
  try {
    return (await db.all(
      `SELECT request_id, service, epoch_ms(ts) AS t, row, entities, features, statuses, model, arm, score
       FROM read_parquet('${join(data.dir, 'logs', 'recommendation_v1')}/*.parquet')`,
    )) as unknown as LogRow[];
  } finally {
    db.close();
  }
};

describe('feature logging of model and gRPC routes', () => {
  it('logs predict, rank (every candidate) and experiment rows with model, arm and score; gRPC like REST', async () => {
    const predict = await post('/v1/models/ranker_lr/predict', {
      entities: { user_id: ['u1', 'nobody'], product_id: ['p1', 'p2'] },
    });
    const rank = await post('/v1/models/ranker_v1/rank', {
      user_id: 'u1',
      candidates: ['p1', 'p2', 'p3'],
      top_k: 1,
    });
    const exp = s.repo.experiments.get('ranker_ab')!.spec;
    const arm = assignArm(exp, 'u2');
    const ab = await post('/v1/experiments/ranker_ab/rank', {
      user_id: 'u2',
      candidates: ['p2'],
    });
    expect(ab).toMatchObject({ arm: arm.name, model: arm.model });
    const grpcRes = await new Promise<unknown>((res, rej) =>
      client.GetOnlineFeatures!(
        {
          feature_service: 'recommendation_v1',
          entities: {
            user_id: { val: [{ string_val: 'u1' }] },
            product_id: { val: [{ string_val: 'p1' }] },
          },
        },
        new grpc.Metadata(),
        (e: grpc.ServiceError | null, r: unknown) => (e ? rej(e) : res(r)),
      ),
    );
    expect(grpcRes).toBeTruthy();
    const rest = (
      await s.app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: {
          feature_service: 'recommendation_v1',
          entities: { user_id: ['u1'], product_id: ['p1'] },
        },
      })
    ).json();
    expect(rest).toBeTruthy();

    const rows = await drained();
    expect(rows.every((r) => r.service === 'recommendation_v1' && r.t === T0)).toBe(true);
    const byModel = (m: string | null, a: string | null = null): LogRow[] =>
      rows
        .filter((r) => r.model === m && r.arm === a)
        .sort((x, y) => x.request_id.localeCompare(y.request_id) || x.row - y.row);

    // predict: one row per entity row, the scores the response gave.
    const p = byModel('ranker_lr');
    expect(p.map((r) => [r.row, JSON.parse(r.entities)])).toEqual([
      [0, { user_id: 'u1', product_id: 'p1' }],
      [1, { user_id: 'nobody', product_id: 'p2' }],
    ]);
    expect(p.map((r) => r.score)).toEqual(predict.scores);
    expect(new Set(p.map((r) => r.request_id)).size).toBe(1);
    // The model's input features, by full name, with their statuses.
    expect(JSON.parse(p[0]!.features)).toHaveProperty('product_catalog__price', 10);
    expect(JSON.parse(p[1]!.statuses)).toHaveProperty('product_catalog__price', 'NOT_FOUND');

    // rank: every candidate is logged, the returned top 1 among them with its score.
    const r = byModel('ranker_v1');
    expect(r.map((x) => JSON.parse(x.entities))).toEqual(
      ['p1', 'p2', 'p3'].map((c) => ({ user_id: 'u1', product_id: c })),
    );
    const top = (rank.items as { product_id: string; score: number }[])[0]!;
    const topRow = r.find((x) => JSON.parse(x.entities).product_id === top.product_id)!;
    expect(topRow.score).toBe(top.score);
    expect(Math.max(...r.map((x) => x.score!))).toBe(top.score);

    // the experiment: the arm's model and the arm's name.
    const e = byModel(arm.model, arm.name);
    expect(e).toHaveLength(1);
    expect(e[0]!.score).toBe((ab.items as { score: number }[])[0]!.score);
    expect(JSON.parse(e[0]!.entities)).toEqual({ user_id: 'u2', product_id: 'p2' });

    // gRPC and REST reads of the service: the same features and statuses, no model.
    const reads = byModel(null);
    expect(reads).toHaveLength(2);
    expect(JSON.parse(reads[0]!.entities)).toEqual({ user_id: 'u1', product_id: 'p1' });
    expect(JSON.parse(reads[0]!.features)).toEqual(JSON.parse(reads[1]!.features));
    expect(JSON.parse(reads[0]!.statuses)).toEqual(JSON.parse(reads[1]!.statuses));
    expect(Object.keys(JSON.parse(reads[0]!.features)).length).toBeGreaterThan(10);
    expect(rows).toHaveLength(2 + 3 + 1 + 2);

    const metrics = await s.ctx.metrics.registry.metrics();
    expect(metrics).toContain(
      'larder_feature_log_rows_total{destination="parquet",result="written"} 8',
    );
  });

  it('records logging on a model (sample, destinations); absent = off; bad options name the field', () => {
    const base = {
      name: 'm',
      version: '1',
      path: 'm.onnx',
      service: 'svc',
      inputs: [{ feature: 'v:f' }],
    };
    expect(
      model({ ...base, logging: { destination: ['bigquery', 'kafka'] } }).spec.logging,
    ).toEqual({ sample: 1, destinations: ['bigquery', 'kafka'] });
    expect('logging' in model(base).spec).toBe(false);
    expect(() => model({ ...base, logging: { sample: 2 } })).toThrow(/logging\.sample/);
  });

  it('counts a service as logged (for skew) when it or a model on it declares logging', () => {
    expect([...logDestinations(s.repo, 'recommendation_v1')]).toEqual(['parquet']);
    expect(logDestinations(s.repo, 'risk_v1').size).toBe(0);
    const spec = (o: object) => ({ spec: o });
    const repo = {
      services: new Map([['svc', spec({})]]),
      models: new Map([
        ['m1', spec({ service: 'svc', logging: { destinations: ['bigquery'] } })],
        ['m2', spec({ service: 'other', logging: { destinations: ['kafka'] } })],
        ['m3', spec({ service: 'svc' })],
      ]),
    };
    expect([...logDestinations(repo as never, 'svc')]).toEqual(['bigquery']);
  });
});
