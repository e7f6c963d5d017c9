/**
 * A real `larder serve --workers 2` on a private redis-server that the test kills with SIGKILL
 * (no shutdown, no final AOF write by Redis): while Redis is down every read — REST by features
 * and by feature service, gRPC, `GET /ready` — answers the documented 503
 * `LARDER_STORE_UNAVAILABLE` with `Retry-After: 1` (gRPC 14 UNAVAILABLE with the code in its
 * metadata; docs/api.md, docs/errors.md) within a bound, and the processes stay up; after Redis
 * starts again, with its data and then without it, the same processes answer exactly what Redis
 * holds — what a fresh in-process store (no read memos) reads at that moment — without a
 * restart. The model routes (`/v1/models/:name/predict` and `/rank`, an ONNX model over the
 * store's features) answer the same 503 while Redis is down and score again after. Each worker has its own store connection and reconnects on its own (ioredis backs
 * off up to 2 s between attempts): one worker's `/ready` 200 does not mean the other reads
 * again yet, so recovery waits for reads on new connections (the primary deals them to the
 * workers in turn). test/online/redis-outage.redis.test.ts covers SIGTERM under load in process.
 */
import * as grpc from '@grpc/grpc-js';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { fromProtoValue, type ProtoValue } from '../../api/grpc/feast-proto-values.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { getOnlineFeatures } from '../../retrieval/get-online-features.ts';
import type { FeatureRef } from '../../retrieval/feature-plan.ts';
import { startRedisServer, type LocalRedis } from '../support/redis-server.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { freePort, until } from '../support/wait.ts';
import { errorOf } from './error-of.ts';
import { PUSH_REPO } from './serve-fixture.ts';

const run = promisify(execFile);
// A model over both views: the tiny logistic regression of test/models (5 float columns).
const REPO = `${PUSH_REPO}
import { featureService, model } from 'larder';
export const activityV1 = featureService({ name: 'activity_v1', features: [activity] });
export const product = entity({ name: 'product', joinKey: 'product_id' });
export const kinds = featureView({
  name: 'kinds', entities: [product], source: eventsPush, keys: { product_id: col('kind') }, ttl: '30d',
  features: { events_1h: count({ window: '1h' }) },
});
export const scoring = featureService({ name: 'scoring', features: [activity, kinds] });
export const scorer = model({ name: 'scorer', version: '1', path: 'tiny_lr.onnx', service: scoring, inputs: [
  { feature: 'activity:clicks_1h' }, { feature: 'activity:spend_7d' },
  { feature: 'activity:last_kind', transform: 'one_hot', vocabulary: ['click', 'buy'] },
  { feature: 'kinds:events_1h' } ] });
`;
const USERS = ['u0', 'u1', 'u2', 'nobody'];
/** A request still unanswered after this long fails the test: a hang, not a slow answer. */
const BOUND_MS = 15_000;

interface Column {
  values: unknown[];
  statuses: string[];
}
/** A read's answer: HTTP status, error code and Retry-After, or the columns of a 200. */
interface Answer {
  status: number;
  code?: string;
  retryAfter?: string | null;
  columns?: Column[];
  /** A 200's whole body, when asked for (`http`'s `whole`). */
  body?: unknown;
}

const cleanups: (() => Promise<void> | void)[] = [];
let redis: LocalRedis;
let repo: Repository;
let base: string;
let child: ReturnType<typeof spawn>;
let exited: Promise<number | null>;
let client: grpc.Client & Record<string, (...a: unknown[]) => void>;
const namespace = `kill-${randomUUID().slice(0, 8)}`;
const stderr: string[] = [];

beforeAll(async () => {
  redis = await startRedisServer({ persistent: true });
  cleanups.push(redis.close);
  const dir = tempRepo({ 'repo.ts': REPO });
  cleanups.push(dir.cleanup);
  copyFileSync('test/fixtures/models/tiny_lr.onnx', `${dir.dir}/tiny_lr.onnx`);
  const home = tempDir();
  cleanups.push(home.cleanup);
  repo = await loadRepository(dir.dir);
  const env = {
    ...process.env,
    LARDER_HOME: home.dir,
    LARDER_ONLINE_STORE: redis.url,
    LARDER_NAMESPACE: namespace,
  };
  await run('node', ['bin/larder.js', '--repo', dir.dir, 'apply'], { env });
  const [port, grpcPort] = [await freePort(), await freePort()];
  child = spawn(
    'node',
    [
      'bin/larder.js',
      '--repo',
      dir.dir,
      'serve',
      '--port',
      String(port),
      '--grpc-port',
      String(grpcPort),
      '--workers',
      '2',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  exited = new Promise((r) => child.once('exit', (code) => r(code)));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  base = `http://127.0.0.1:${port}`;
  await until('larder serve listening', () =>
    /larder: 2 worker processes .* share the ports/.test(stderr.join('')) ? true : null,
  );
  const Service = loadServingService();
  client = new Service(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure()) as never;
  cleanups.push(() => client.close());
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One request on a new connection (no keep-alive: the primary deals connections in turn). */
async function http(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  whole = false,
): Promise<Answer> {
  const res = await new Promise<{ status: number; retryAfter: string | null; text: string }>(
    (resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method,
          agent: false,
          signal: AbortSignal.timeout(BOUND_MS),
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
        },
        (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (d: string) => (text += d));
          r.on('end', () =>
            resolve({
              status: r.statusCode ?? 0,
              retryAfter: (r.headers['retry-after'] as string | undefined) ?? null,
              text,
            }),
          );
          r.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    },
  );
  const text = res.text;
  if (res.status !== 200)
    return {
      status: res.status,
      code: errorOf({ json: () => JSON.parse(text) as unknown }).code,
      retryAfter: res.retryAfter,
    };
  const json = JSON.parse(text) as { results?: Column[] };
  if (whole) return { status: 200, body: json };
  return {
    status: 200,
    ...(json.results
      ? { columns: json.results.map((c) => ({ values: c.values, statuses: c.statuses })) }
      : {}),
  };
}

const restRead = (ref: FeatureRef): Promise<Answer> =>
  http('POST', '/get-online-features', {
    ...('service' in ref ? { feature_service: ref.service } : { features: ref.features }),
    entities: { user_id: USERS },
  });

function grpcRead(ref: FeatureRef): Promise<Answer> {
  const md = new grpc.Metadata();
  return new Promise((resolve) =>
    client.GetOnlineFeatures!(
      {
        ...('service' in ref
          ? { feature_service: ref.service }
          : { features: { val: ref.features } }),
        entities: { user_id: { val: USERS.map((u) => ({ string_val: u })) } },
      },
      md,
      { deadline: Date.now() + BOUND_MS },
      (
        e: grpc.ServiceError | null,
        r: { results: { values: ProtoValue[]; statuses: string[] }[] },
      ) =>
        resolve(
          e
            ? {
                status: e.code,
                code: e.metadata.get('larder-error-code')[0] as string,
                retryAfter: e.metadata.get('retry-after')[0] as string,
              }
            : {
                status: 200,
                columns: r.results.map((c) => ({
                  values: c.values.map(fromProtoValue),
                  statuses: c.statuses,
                })),
              },
        ),
    ),
  );
}

const REFS: FeatureRef[] = [
  { features: ['activity:clicks_1h', 'activity:spend_7d', 'activity:last_kind'] },
  { service: 'activity_v1' },
];

/** Every read the server offers on this repository, each answered. */
const readAll = async (): Promise<Answer[]> => [
  ...(await Promise.all(REFS.map(restRead))),
  ...(await Promise.all(REFS.map(grpcRead))),
];

/** The model routes: one predict of every user's row, one rank of two candidates (no timings). */
const modelReads = async (): Promise<Answer[]> =>
  (
    await Promise.all([
      http(
        'POST',
        '/v1/models/scorer/predict',
        { entities: { user_id: USERS, product_id: ['click', 'buy', 'click', 'none'] } },
        true,
      ),
      http('POST', '/v1/models/scorer/rank', { user_id: 'u1', candidates: ['buy', 'click'] }, true),
    ])
  ).map((a) => {
    if (a.body !== undefined) delete (a.body as { timing_ms?: unknown }).timing_ms;
    return a;
  });

/** What Redis holds now, read by a fresh store (no memo of any earlier answer). */
async function held(): Promise<Answer[]> {
  const store = createOnlineStore(
    { type: 'redis', url: redis.url },
    { namespace, views: [...repo.featureViews.values()].map((v) => v.spec), clock: Date.now },
  );
  await store.init();
  try {
    const answers = [];
    for (const ref of REFS) {
      const r = await getOnlineFeatures(
        { repo, store, maxEntityRows: 1000 },
        { ref, entities: { user_id: USERS }, fullFeatureNames: false },
      );
      answers.push({
        status: 200,
        columns: r.columns.map((c) => ({ values: c.values, statuses: [...c.statuses] })),
      });
    }
    return [...answers, ...answers]; // REST, then gRPC: the same answers
  } finally {
    await store.close();
  }
}

/** Pushes `clicks` click events and one `buy` of `amount` per user (not 'nobody'). */
async function push(tag: string, clicks: number, amount: number): Promise<void> {
  const users = USERS.slice(0, 3);
  const rows = users.flatMap((u) => [
    ...Array.from({ length: clicks }, (_, i) => ({ u, kind: 'click', amount: 0, id: `${i}` })),
    { u, kind: 'buy', amount, id: 'b' },
  ]);
  const ts = Date.now() - 60_000; // well inside every window until the test ends
  const res = await http('POST', '/push', {
    push_source_name: 'events_push',
    df: {
      id: rows.map((r) => `${tag}-${r.u}-${r.id}`),
      userId: rows.map((r) => r.u),
      kind: rows.map((r) => r.kind),
      amount: rows.map((r) => r.amount),
      ts: rows.map(() => ts),
    },
    to: 'online',
  });
  expect(res.status).toBe(200);
}

/** Kills Redis; every read (twice over) and /ready answers 503 / UNAVAILABLE; the server lives. */
async function killAndCheckDown(): Promise<void> {
  await redis.stop('SIGKILL');
  for (let round = 0; round < 2; round++) {
    const answers = await readAll();
    expect(answers.slice(0, 2)).toEqual(
      REFS.map(() => ({ status: 503, code: 'LARDER_STORE_UNAVAILABLE', retryAfter: '1' })),
    );
    expect(answers.slice(2)).toEqual(
      REFS.map(() => ({
        status: grpc.status.UNAVAILABLE,
        code: 'LARDER_STORE_UNAVAILABLE',
        retryAfter: '1',
      })),
    );
    expect(await http('GET', '/ready')).toEqual({
      status: 503,
      code: 'LARDER_STORE_UNAVAILABLE',
      retryAfter: '1',
    });
  }
  expect(await modelReads()).toEqual(
    [0, 1].map(() => ({ status: 503, code: 'LARDER_STORE_UNAVAILABLE', retryAfter: '1' })),
  );
  expect(await http('GET', '/health')).toEqual({ status: 200 });
  expect(child.exitCode).toBe(null);
}

/**
 * Starts Redis again; resolves once 4 REST reads in a row (new connections, so both workers
 * twice) and a gRPC read answer 200. Until then a read may answer 503 (a worker still waiting
 * to reconnect): nothing else.
 */
async function startAndWaitReady(opts: { empty: boolean }): Promise<void> {
  await redis.start(opts);
  let inARow = 0;
  await until('reads 200 again on every worker', async () => {
    const a = await restRead(REFS[0]!);
    if (a.status !== 200)
      expect(a).toEqual({ status: 503, code: 'LARDER_STORE_UNAVAILABLE', retryAfter: '1' });
    inARow = a.status === 200 ? inARow + 1 : 0;
    return inARow >= 4 ? true : null;
  });
  await until('a gRPC read 200 again', async () =>
    (await grpcRead(REFS[0]!)).status === 200 ? true : null,
  );
  expect(await http('GET', '/ready')).toMatchObject({ status: 200 });
}

const column = (answers: Answer[], i: number): unknown[] => answers[0]!.columns![i]!.values;

describe('larder serve on Redis killed with SIGKILL', () => {
  it('answers 503 LARDER_STORE_UNAVAILABLE while down, then what Redis holds, with and without its data, without a restart', async () => {
    await push('a', 2, 5);
    const before = await readAll();
    expect(before).toEqual(await held());
    // Columns: user_id, clicks_1h, spend_7d, last_kind (pushed data, not defaults).
    expect(column(before, 1)).toEqual([2, 2, 2, 0]);
    expect(column(before, 2)).toEqual([5, 5, 5, 0]);
    const scored = await modelReads();
    expect(scored.map((a) => a.status)).toEqual([200, 200]);
    expect((scored[0]!.body as { scores: number[] }).scores).toHaveLength(USERS.length);
    expect(
      (scored[1]!.body as { items: { product_id: string }[] }).items.map((i) => i.product_id),
    ).toHaveLength(2);

    // Killed, started again with its data (append-only file, fsync always).
    await killAndCheckDown();
    await startAndWaitReady({ empty: false });
    const kept = await readAll();
    expect(kept).toEqual(await held());
    expect(kept).toEqual(before);
    expect(await modelReads()).toEqual(scored); // the same features, the same scores

    // Killed, started again without its data: the server must not answer what it read before.
    await killAndCheckDown();
    await startAndWaitReady({ empty: true });
    const emptied = await readAll();
    expect(emptied).toEqual(await held());
    expect(column(emptied, 1)).toEqual([0, 0, 0, 0]);
    expect(column(emptied, 2)).toEqual([0, 0, 0, 0]);
    expect(answersStatuses(emptied)).toEqual(['NOT_FOUND']);
    expect((await modelReads()).map((a) => a.status)).toEqual([200, 200]);

    // And it writes and reads on: a new push is what it answers.
    await push('b', 1, 7);
    const after = await readAll();
    expect(after).toEqual(await held());
    expect(column(after, 1)).toEqual([1, 1, 1, 0]);
    expect(column(after, 2)).toEqual([7, 7, 7, 0]);

    // The same process served throughout, and still stops cleanly.
    expect(child.exitCode).toBe(null);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});

/** The distinct statuses of every feature column (not the join key) of every answer. */
function answersStatuses(answers: Answer[]): string[] {
  return [...new Set(answers.flatMap((a) => a.columns!.slice(1).flatMap((c) => c.statuses)))];
}
