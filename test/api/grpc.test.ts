/**
 * gRPC: a real @grpc/grpc-js client of Feast's ServingService against the server, and the same
 * entity rows read over REST, gRPC and in-process giving identical values.
 */
import * as grpc from '@grpc/grpc-js';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { fromProtoValue, type ProtoValue } from '../../api/grpc/feast-proto-values.ts';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { getOnlineFeatures } from '../../retrieval/get-online-features.ts';
import { columns, EVENTS, TRANSACTIONS } from './ecommerce-data.ts';
import { serveRepo, T0, type Served } from './serve-fixture.ts';

let s: Served;
let server: grpc.Server;
let client: grpc.Client & Record<string, (...a: unknown[]) => void>;

const USERS = ['u1', 'u1', 'u2', 'nobody'];
const PRODUCTS = ['p1', 'p2', 'p3', 'p1'];

interface GrpcResponse {
  metadata: { feature_names: { val: string[] } };
  results: {
    values: ProtoValue[];
    statuses: string[];
    event_timestamps: { seconds: number; nanos: number }[];
  }[];
}

const call = (method: string, req: unknown, md = new grpc.Metadata()): Promise<GrpcResponse> =>
  new Promise((res, rej) =>
    client[method]!(req, md, (e: grpc.ServiceError | null, r: GrpcResponse) =>
      e ? rej(e) : res(r),
    ),
  );

const protoColumn = (vals: string[]) => ({ val: vals.map((v) => ({ string_val: v })) });

beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
  for (const [source, rows] of [
    ['user_events', EVENTS],
    ['transactions', TRANSACTIONS],
  ] as const) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/push',
      payload: { push_source_name: source, df: columns(rows), to: 'online' },
    });
    expect(r.statusCode, r.body).toBe(200);
  }
  server = createGrpcServer(s.ctx);
  const port = await startGrpcServer(server, '127.0.0.1', 0);
  const Service = loadServingService();
  client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
});

afterAll(async () => {
  client?.close();
  await new Promise<void>((r) => (server ? server.tryShutdown(() => r()) : r()));
  await s?.close();
});

describe('gRPC feast.serving.ServingService', () => {
  it('answers GetFeastServingInfo', async () => {
    const info = (await call('GetFeastServingInfo', {})) as unknown as { version: string };
    expect(info.version).toMatch(/^larder-/);
  });

  it('gives the same values, statuses and timestamps as REST and in-process reads', async () => {
    const grpcRes = await call('GetOnlineFeatures', {
      feature_service: 'recommendation_v1',
      entities: { user_id: protoColumn(USERS), product_id: protoColumn(PRODUCTS) },
    });
    const rest = (
      await s.app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: {
          feature_service: 'recommendation_v1',
          entities: { user_id: USERS, product_id: PRODUCTS },
        },
      })
    ).json() as {
      metadata: { feature_names: string[] };
      results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
    };
    const local = await getOnlineFeatures(
      { repo: s.repo, store: s.store, maxEntityRows: 1000 },
      {
        ref: { service: 'recommendation_v1' },
        entities: { user_id: USERS, product_id: PRODUCTS },
        fullFeatureNames: false,
        t: T0,
      },
    );
    expect(grpcRes.metadata.feature_names.val).toEqual(rest.metadata.feature_names);
    expect(local.columns.map((c) => c.name)).toEqual(rest.metadata.feature_names);
    grpcRes.results.forEach((col, j) => {
      const values = col.values.map(fromProtoValue);
      expect(values, rest.metadata.feature_names[j]).toEqual(rest.results[j]!.values);
      expect(values).toEqual(local.columns[j]!.values);
      expect(col.statuses).toEqual(rest.results[j]!.statuses);
      expect(col.statuses).toEqual(local.columns[j]!.statuses);
      const ts = col.event_timestamps.map((t) =>
        new Date((t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6))
          .toISOString()
          .replace('.000Z', 'Z'),
      );
      expect(ts).toEqual(rest.results[j]!.event_timestamps);
    });
    const pv = rest.metadata.feature_names.indexOf('page_views_1h');
    expect(rest.results[pv]!.values).toEqual([2, 2, 1, 0]);
    expect(rest.results[pv]!.statuses[3]).toBe('NOT_FOUND');
  });

  it('maps errors to gRPC status codes with the field in metadata', async () => {
    const err = (await call('GetOnlineFeatures', {
      features: { val: ['user_activity:nope'] },
      entities: { user_id: protoColumn(['u1']) },
    }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toContain('feature view "user_activity" has no feature "nope"');
    const ragged = (await call('GetOnlineFeatures', {
      feature_service: 'recommendation_v1',
      entities: { user_id: protoColumn(['u1']), product_id: protoColumn(['p1', 'p2']) },
    }).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(ragged.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(ragged.metadata.get('larder-error-field')).toEqual(['entities.product_id']);
    expect(ragged.metadata.get('larder-error-reason')).toEqual(['ragged_columns']);
    expect(err.metadata.get('larder-error-reason')).toEqual([]);
  });

  it('applies API-key auth from metadata once keys exist', async () => {
    const key = s.ctx.keys.create({ scopes: ['read'], name: 'grpc-test' });
    try {
      const denied = (await call('GetOnlineFeatures', {
        features: { val: ['user_activity:page_views_1h'] },
        entities: { user_id: protoColumn(['u1']) },
      }).catch((e: unknown) => e)) as grpc.ServiceError;
      expect(denied.code).toBe(grpc.status.UNAUTHENTICATED);
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${key.key}`);
      const ok = await call(
        'GetOnlineFeatures',
        {
          features: { val: ['user_activity:page_views_1h'] },
          entities: { user_id: protoColumn(['u1']) },
        },
        md,
      );
      expect(ok.results[1]!.values.map(fromProtoValue)).toEqual([2]);
    } finally {
      s.ctx.keys.revoke(key.record.id);
    }
  });
});
