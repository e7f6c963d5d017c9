/**
 * The `POST /get-online-features` fast path (api/routes/online-features-fast-path.ts) answers
 * over a socket exactly what fastify's path answers (`app.inject` always takes fastify's):
 * status, body and headers, for reads and for every kind of error; the requests it does not
 * take reach fastify; and it records the same metrics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../api/auth/rate-limiter.ts';
import { columns, EVENTS, TRANSACTIONS } from './ecommerce-data.ts';
import { serveRepo, type Served } from './serve-fixture.ts';

let s: Served;
let port = 0;
/** Requests that reached fastify (its onSend hooks: they run for every answer it sends). */
let viaFastify = 0;
const agent = new http.Agent({ keepAlive: true });
/** The server's JSON log lines (level info: errors, no per-request lines, so the fast path is on). */
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'), {
    maxEntityRows: 5,
    logStream: { write: (line) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  s.app.addHook('onSend', (_request, _reply, payload, done) => {
    viaFastify++;
    done(null, payload);
  });
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
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  port = (s.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  agent.destroy();
  await s?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Sent {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
}

/** One request over a socket (the server's listener: the fast path first). */
const overSocket = (r: Sent): Promise<Answer> =>
  new Promise((done, fail) => {
    const body = r.body ?? '';
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: r.method ?? 'POST',
        path: r.url ?? '/get-online-features',
        agent,
        headers: {
          'content-type': 'application/json',
          ...(r.chunked ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...r.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => done({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', fail);
    if (r.chunked) req.write(body);
    req.end(r.chunked ? undefined : body);
  });

/** The same request through fastify's path. */
const viaInject = async (r: Sent): Promise<Answer> => {
  const a = await s.app.inject({
    method: (r.method ?? 'POST') as 'POST',
    url: r.url ?? '/get-online-features',
    headers: { 'content-type': 'application/json', ...r.headers },
    payload: r.body ?? '',
  });
  return { status: a.statusCode, headers: a.headers as Answer['headers'], body: a.body };
};

/** The headers both paths must agree on (Date, keep-alive and timing values differ). */
const COMPARED = ['content-type', 'content-length', 'retry-after', 'larder-error-code'];

const compare = async (r: Sent, fastPath: boolean): Promise<Answer> => {
  const before = viaFastify;
  const socket = await overSocket(r);
  expect(viaFastify - before, 'requests that reached fastify').toBe(fastPath ? 0 : 1);
  const inject = await viaInject(r);
  expect(socket.status).toBe(inject.status);
  expect(socket.body).toBe(inject.body);
  for (const h of COMPARED) expect(socket.headers[h], h).toEqual(inject.headers[h]);
  // fastify closes the connection after a body that does not parse; so does the fast path.
  expect(socket.headers.connection === 'close').toBe(inject.headers.connection === 'close');
  expect(socket.headers['server-timing']).toMatch(/^app;dur=\d+\.\d{3}$/);
  return socket;
};

const read = (payload: unknown, extra: Partial<Sent> = {}): Sent => ({
  body: JSON.stringify(payload),
  ...extra,
});

describe('POST /get-online-features fast path', () => {
  it.each<[string, Sent, number]>([
    [
      'a feature service',
      read({
        feature_service: 'recommendation_v1',
        entities: { user_id: ['u1'], product_id: ['p1'] },
      }),
      200,
    ],
    [
      'a feature list, full names, three rows',
      read({
        features: [
          'user_activity:clicks_1h',
          'product_catalog:price',
          'user_recency:last_activity_days_ago',
        ],
        entities: { user_id: ['u1', 'u2', 'u1'], product_id: ['p1', 'p1', 'p9'] },
        full_feature_names: true,
      }),
      200,
    ],
    [
      'charset=utf-8 and a non-ASCII key',
      read(
        { features: ['user_activity:clicks_1h'], entities: { user_id: ['ü→✓'] } },
        { headers: { 'content-type': 'application/json; charset=utf-8' } },
      ),
      200,
    ],
    ['malformed JSON', { body: '{"features": [' }, 400],
    ['a blank body', { body: '   ' }, 400],
    ['a __proto__ key', { body: '{"__proto__": {"x": 1}, "entities": {}}' }, 400],
    ['an array body', { body: '[1]' }, 400],
    ['an unknown service', read({ feature_service: 'nope', entities: { user_id: ['u1'] } }), 404],
    ['an unknown view', read({ features: ['nope:x'], entities: { user_id: ['u1'] } }), 404],
    [
      'an unknown feature',
      read({ features: ['user_activity:nope'], entities: { user_id: ['u1'] } }),
      404,
    ],
    [
      'a wrong key type',
      read({ features: ['user_activity:clicks_1h'], entities: { user_id: [42] } }),
      400,
    ],
    [
      'too many rows',
      read({
        features: ['user_activity:clicks_1h'],
        entities: { user_id: ['a', 'b', 'c', 'd', 'e', 'f'] },
      }),
      400,
    ],
    [
      'both features and a service',
      read({
        features: ['user_activity:clicks_1h'],
        feature_service: 'recommendation_v1',
        entities: {},
      }),
      400,
    ],
  ])('%s: the same answer as fastify', async (_name, sent, status) => {
    const a = await compare(sent, true);
    expect(a.status).toBe(status);
  });

  it.each<[string, Sent, number]>([
    [
      'a query string',
      {
        ...read({ features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } }),
        url: '/get-online-features?x=1',
      },
      200,
    ],
    ['another Content-Type', { body: '{}', headers: { 'content-type': 'application/xml' } }, 415],
    [
      'a chunked body',
      {
        ...read({ features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } }),
        chunked: true,
      },
      200,
    ],
    ['an empty body', { body: '' }, 400],
    ['another method', { method: 'PUT', body: '{}' }, 404],
  ])('%s goes to fastify', async (_name, sent, status) => {
    const a = await compare(sent, false);
    expect(a.status).toBe(status);
  });

  it('a store that fails is the same 503 with Retry-After', async () => {
    const { readMany } = s.store;
    s.store.readMany = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    try {
      const a = await compare(
        read({ features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } }),
        true,
      );
      expect(a.status).toBe(503);
      expect(a.headers['retry-after']).toBe('1');
      expect(a.headers['larder-error-code']).toBe('LARDER_STORE_UNAVAILABLE');
    } finally {
      s.store.readMany = readMany;
    }
  });

  it('logs a 5xx with the same fields as fastify: reqId, method, url, status, code, error', async () => {
    const { readMany } = s.store;
    // A store answering nonsense: the server then fails in its own code (a bug, a 500).
    s.store.readMany = async () => [undefined as never];
    try {
      const sent = read({ features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } });
      const errors = (): Record<string, unknown>[] => logLines.filter((l) => l.level === 50);
      const before = errors().length;
      const start = viaFastify;
      expect((await overSocket(sent)).status).toBe(500);
      expect(viaFastify).toBe(start);
      expect((await viaInject(sent)).status).toBe(500);
      const [fast, slow] = errors().slice(before);
      const common = {
        level: 50,
        method: 'POST',
        url: '/get-online-features',
        status: 500,
        code: 'LARDER_INTERNAL',
        msg: 'internal error (see the server log)',
        err: expect.objectContaining({ type: 'TypeError' }) as unknown,
        reqId: expect.stringMatching(/^req-[0-9a-z]+$/) as unknown,
      };
      expect(fast).toMatchObject(common);
      expect(slow).toMatchObject(common);
      expect(Object.keys(fast!)).toEqual(Object.keys(slow!));
      expect(fast!.reqId).not.toBe(slow!.reqId);
    } finally {
      s.store.readMany = readMany;
    }
  });

  it('records the request, error and store-read metrics and the dashboard window', async () => {
    const metric = async (line: RegExp): Promise<number> => {
      const text = await (await s.app.inject({ url: '/metrics' })).body;
      return Number(line.exec(text)?.[1] ?? 0);
    };
    const ok =
      /larder_http_request_duration_seconds_count\{route="\/get-online-features",method="POST",status="200"\} (\d+)/;
    const notFound =
      /larder_http_request_duration_seconds_count\{route="\/get-online-features",method="POST",status="404"\} (\d+)/;
    const errors = /larder_errors_total\{code="LARDER_NOT_FOUND"\} (\d+)/;
    const store = /larder_online_store_read_duration_seconds_count (\d+)/;
    const before = await Promise.all([ok, notFound, errors, store].map(metric));
    const window = (): number =>
      s.ctx.metrics.routes.stats().find((r) => r.route === '/get-online-features')?.count ?? 0;
    const inWindow = window();
    const start = viaFastify;
    await overSocket(
      read({ features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } }),
    );
    await overSocket(read({ feature_service: 'nope', entities: { user_id: ['u1'] } }));
    expect(viaFastify).toBe(start);
    const after = await Promise.all([ok, notFound, errors, store].map(metric));
    expect(after.map((v, i) => v - before[i]!)).toEqual([1, 1, 1, 1]);
    expect(window() - inWindow).toBe(2);
  });

  it("with API keys: authorized reads take the fast path, refused ones get fastify's 401 / 403 / 429", async () => {
    const ok = read({ features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } });
    const { key: reader, record } = s.ctx.keys.create({
      scopes: ['read'],
      name: 'reader',
      rate: 2,
    });
    const { key: pusher, record: pushRecord } = s.ctx.keys.create({ scopes: ['push'] });
    let now = 0;
    const limiter = s.ctx.limiter;
    s.ctx.limiter = new RateLimiter(() => now);
    try {
      expect((await compare(ok, false)).status).toBe(401);
      expect(
        (await compare({ ...ok, headers: { authorization: `Bearer ${pusher}` } }, false)).status,
      ).toBe(403);
      // Two tokens: the socket read takes one, fastify's inject the other; then both are 429.
      expect((await compare({ ...ok, headers: { 'x-api-key': reader } }, true)).status).toBe(200);
      const limited = await compare({ ...ok, headers: { 'x-api-key': reader } }, false);
      expect(limited.status).toBe(429);
      expect(limited.headers['retry-after']).toBe('1');
      now += 1000;
      expect((await compare({ ...ok, headers: { 'x-api-key': reader } }, true)).status).toBe(200);
    } finally {
      s.ctx.keys.revoke(record.id);
      s.ctx.keys.revoke(pushRecord.id);
      s.ctx.limiter = limiter;
    }
  });
});
