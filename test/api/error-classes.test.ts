/**
 * Defect 16, error classes on the edges: a malformed gRPC message is INVALID_ARGUMENT (3), not
 * INTERNAL; a valid JSON body holding `__proto__` is a precise 400, not "not valid JSON";
 * internal errors answer a generic 500 / INTERNAL, their cause only in the server log.
 */
import * as grpc from '@grpc/grpc-js';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGrpcServer, startGrpcServer } from '../../api/grpc/grpc-server.ts';
import { loadServingService } from '../../api/grpc/load-serving-proto.ts';
import { serveRepo, type Served } from './serve-fixture.ts';
import { errorOf } from './error-of.ts';

let s: Served;
let server: grpc.Server;
let client: grpc.Client;
let serving: grpc.Client & Record<string, (...a: unknown[]) => void>;

beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
  server = createGrpcServer(s.ctx);
  const port = await startGrpcServer(server, '127.0.0.1', 0);
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const Service = loadServingService();
  serving = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
});
afterAll(async () => {
  client?.close();
  serving?.close();
  await new Promise<void>((r) => (server ? server.tryShutdown(() => r()) : r()));
  await s?.close();
});

/** GetOnlineFeatures with raw request bytes. */
const rawCall = (bytes: Buffer): Promise<{ code: number; details: string }> =>
  new Promise((res) =>
    client.makeUnaryRequest(
      '/feast.serving.ServingService/GetOnlineFeatures',
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (e) => res(e ? { code: e.code, details: e.details } : { code: 0, details: '' }),
    ),
  );

const post = (url: string, body: string) =>
  s.app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'content-type': 'application/json' },
  });

describe('gRPC: a malformed message', () => {
  it.each([
    ['a field with wire type 7', Buffer.from([0x0f])],
    ['a field with wire type 6', Buffer.from([0x0e])],
  ])('(%s) is INVALID_ARGUMENT naming the problem', async (_, bytes) => {
    const r = await rawCall(bytes);
    expect(r.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(r.details).toMatch(/^malformed GetOnlineFeaturesRequest: /);
  });
});

describe('JSON bodies with prototype keys', () => {
  it.each([
    [
      '/get-online-features',
      '{"features": ["user_activity:clicks_1h"], "entities": {"user_id": ["u1"]}, "__proto__": {"x": 1}}',
      '__proto__',
    ],
    ['/push', '{"push_source_name": "user_events", "df": {"__proto__": [1]}}', 'df.__proto__'],
    [
      '/push',
      '{"push_source_name": "user_events", "df": {"constructor": {"prototype": [1]}}}',
      'df.constructor.prototype',
    ],
    [
      '/push',
      '{"push_source_name": "user_events", "df": {"\\u005f_proto__": [1]}}',
      'df.__proto__',
    ],
  ])('%s %s is a 400 naming the key, not "not valid JSON"', async (url, body, field) => {
    const r = await post(url, body);
    expect(r.statusCode).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_BAD_REQUEST', field });
    expect(errorOf(r).message).toMatch(/prototype/);
    expect(errorOf(r).message).not.toMatch(/not valid JSON/);
  });

  it('invalid JSON is still a 400 saying where it breaks', async () => {
    const r = await post('/push', '{"push_source_name": ');
    expect(r.statusCode).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_BAD_REQUEST', field: '(body)' });
    expect(errorOf(r).message).toMatch(/^the body is not valid JSON: /);
  });

  it('a key merely named "constructor" is an ordinary key', async () => {
    const r = await post(
      '/get-online-features',
      '{"features": ["user_activity:clicks_1h"], "entities": {"user_id": ["u1"], "constructor": [1]}}',
    );
    expect(r.statusCode).toBe(400);
    expect(errorOf(r).field).toBe('entities.constructor');
  });
});

describe('internal errors', () => {
  it('answer a generic 500 / INTERNAL: the cause goes to the server log, never to the client', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const store = s.ctx.state.current.store;
    const readMany = store.readMany.bind(store);
    // A store answering nonsense: the server then fails in its own code (a bug).
    store.readMany = async () => [undefined as never];
    try {
      const r = await post(
        '/get-online-features',
        '{"features": ["user_activity:clicks_1h"], "entities": {"user_id": ["u1"]}}',
      );
      expect(r.statusCode).toBe(500);
      // Feast's error detail (a JSON string) on a Feast route: nothing but the generic message.
      expect(JSON.parse(r.json<string>())).toEqual({
        module: 'feast.errors',
        class: 'FeastError',
        code: 'LARDER_INTERNAL',
        message: 'internal error (see the server log)',
      });
      const g = await new Promise<grpc.ServiceError>((res) =>
        serving.GetOnlineFeatures!(
          {
            features: { val: ['user_activity:clicks_1h'] },
            entities: { user_id: { val: [{ string_val: 'u1' }] } },
          },
          (e: grpc.ServiceError) => res(e),
        ),
      );
      expect(g.code).toBe(grpc.status.INTERNAL);
      expect(g.details).toBe('internal error (see the server log)');
      // Without a JSON log (this server has none), one stderr line with the cause (docs/operations.md).
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringMatching(/^larder serve: POST \/get-online-features → 500 LARDER_INTERNAL: /),
      ]);
    } finally {
      store.readMany = readMany;
      stderr.mockRestore();
    }
  });
});
