/**
 * On-demand transforms run through one evaluation (definitions/on-demand-eval.ts) online and in
 * both export engines: the same values come out of each, and a transform that throws or returns
 * a value of the wrong type fails identically everywhere, naming the view and the feature.
 */
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { LarderError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';
import { errorOf, type AnyError } from './error-of.ts';
import { serveRepo, T0 } from './serve-fixture.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A view over request data: `price_text` parsed by `body` (the transform's columns). */
const repoWith = (body: string): string => `${BASE_REPO}
import { onDemandFeatureView, requestField } from 'larder';
export const scored = onDemandFeatureView({
  name: 'scored',
  entities: [user],
  inputs: { text: requestField('price_text', 'string') },
  features: { price: 'float64', cents: 'int64', label: 'string', known: 'bool' },
  transform: ({ text }) => (${body}),
});
`;

const GOOD = `{
    price: text.map((t) => (t === null || t === '' ? null : Number(t))),
    cents: text.map((t) => (t === null ? null : Math.round(Number(t) * 100))),
    label: text.map((t) => (t === null ? undefined : 'p:' + t)),
    known: text.map((t) => t !== null),
  }`;

const FEATURES = ['scored:price', 'scored:cents', 'scored:label', 'scored:known'];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const TEXTS = ['128.35', '', null, 'abc', '-7'];

interface Answer {
  metadata: { feature_names: string[] };
  results: { values: unknown[] }[];
}

async function online(
  dir: string,
): Promise<{ status: number; body: Answer; error: AnyError | undefined }> {
  const s = await serveRepo(dir);
  cleanups.push(s.close);
  const res = await s.app.inject({
    method: 'POST',
    url: '/get-online-features',
    payload: { features: FEATURES, entities: { user_id: USERS, price_text: TEXTS } },
  });
  const error = res.statusCode === 200 ? undefined : errorOf(res);
  return { status: res.statusCode, body: res.json<Answer>(), error };
}

async function exported(dir: string, engine: 'sweep' | 'sql'): Promise<Record<string, unknown>[]> {
  const repo = await loadRepository(dir);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const store = new DuckDBOfflineStore({
    type: 'duckdb',
    dataDir: join(tmp.dir, 'data'),
    home: join(tmp.dir, 'home'),
    engine,
  });
  await store.init();
  cleanups.push(() => store.close());
  const out = await store.exportPointInTime({
    repo,
    features: repo.resolveFeatures({ features: FEATURES }),
    entities: {
      type: 'rows',
      rows: USERS.map((u, i) => ({ user_id: u, event_timestamp: T0, price_text: TEXTS[i] })),
    },
    out: { type: 'memory' },
  });
  return out.data!;
}

function repoDir(text: string): string {
  const r = tempRepo({ 'repo.ts': text });
  cleanups.push(r.cleanup);
  return r.dir;
}

describe('on-demand outputs online and offline', () => {
  it('serves exactly the values each export engine writes', async () => {
    const dir = repoDir(repoWith(GOOD));
    const { status, body } = await online(dir);
    expect(status).toBe(200);
    const names: string[] = body.metadata.feature_names;
    const served = Object.fromEntries(
      ['price', 'cents', 'label', 'known'].map((f) => [f, body.results[names.indexOf(f)]!.values]),
    );
    expect(served).toEqual({
      price: [128.35, null, null, null, -7],
      cents: [12835, 0, null, null, -700],
      label: ['p:128.35', 'p:', null, 'p:abc', 'p:-7'],
      known: [true, true, false, true, true],
    });
    for (const engine of ['sweep', 'sql'] as const) {
      const rows = await exported(dir, engine);
      for (const f of Object.keys(served))
        expect(
          rows.map((r) => r[f] ?? null),
          `${engine} export of ${f}`,
        ).toEqual(served[f]);
    }
  });

  it('refuses a string for a float64 feature in both places, naming the view and the feature', async () => {
    const dir = repoDir(repoWith(GOOD.replace('Number(t)))', 't))')));
    const message =
      'on-demand feature view "scored" returned "128.35" (string) for float64 feature "price" (row 0)';
    const { status, error } = await online(dir);
    expect(status).toBe(500);
    expect(error!.code).toBe('LARDER_ON_DEMAND_FAILED');
    expect(error!.message).toBe(message);
    expect(error!.hint).toContain('values are never converted');
    for (const engine of ['sweep', 'sql'] as const) {
      const err = await exported(dir, engine).catch((e: unknown) => e);
      expect(err, engine).toBeInstanceOf(LarderError);
      expect((err as LarderError).message).toBe(message);
    }
  });

  it('answers a throwing transform with a 500 naming the view, the error and the line', async () => {
    const text = repoWith(
      GOOD.replace(
        "price: text.map((t) => (t === null || t === '' ? null : Number(t))),",
        "price: text.map((t) => { if (t === 'abc') throw new RangeError('bad price ' + t); return null; }),",
      ),
    );
    const lineOf = (s: string) => text.split('\n').findIndex((l) => l.includes(s)) + 1;
    const dir = repoDir(text);
    const { status, error } = await online(dir);
    expect(status).toBe(500);
    expect(error!.code).toBe('LARDER_ON_DEMAND_FAILED');
    expect(error!.message).toMatch(
      new RegExp(
        `^on-demand feature view "scored" threw RangeError: bad price abc at .*repo\\.ts:${lineOf('throw new RangeError')}$`,
      ),
    );
    expect(error!.hint).toMatch(
      new RegExp(`defined at .*repo\\.ts:${lineOf("name: 'scored'") - 1} `),
    );
    const err = await exported(dir, 'sweep').catch((e: unknown) => e);
    expect((err as LarderError).message).toBe(error!.message);
  });

  it('gRPC: the same failure is INTERNAL with the same message, reported to the server log', async () => {
    const dir = repoDir(repoWith(GOOD.replace('Number(t)))', 't))')));
    const s = await serveRepo(dir);
    cleanups.push(s.close);
    const logged: { message: string; code: string }[] = [];
    const server = createGrpcServer(s.ctx, {
      onServerError: (_e, message, code) => logged.push({ message, code }),
    });
    const port = await startGrpcServer(server, '127.0.0.1', 0);
    cleanups.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    const Service = loadServingService();
    const client = new Service(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    ) as never as grpc.Client & Record<string, (...a: unknown[]) => void>;
    cleanups.push(() => client.close());
    const err = await new Promise<grpc.ServiceError>((res) =>
      client.GetOnlineFeatures!(
        {
          features: { val: ['scored:price'] },
          entities: {
            user_id: { val: [{ string_val: 'u1' }] },
            price_text: { val: [{ string_val: '128.35' }] },
          },
        },
        new grpc.Metadata(),
        (e: grpc.ServiceError) => res(e),
      ),
    );
    const message =
      'on-demand feature view "scored" returned "128.35" (string) for float64 feature "price" (row 0)';
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toContain(message);
    expect(logged).toEqual([{ message, code: 'LARDER_ON_DEMAND_FAILED' }]);
  });
});
