/**
 * The client runtime's policy against a tiny local HTTP server: what is retried (503, 429 after
 * its Retry-After, timeouts), what is not (400 and other 4xx), the error fields of Larder's and
 * Feast's error bodies, the API key header, keep-alive and push's Idempotency-Key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LarderClient, LarderClientError, LarderHttp } from '../../client/runtime.ts';

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
  socket: object;
}

let server: Server | undefined;
let client: { close(): void } | undefined;

/** A server answering the n-th request with `answers[n]` (the last one repeats). */
async function serve(
  answers: ((res: ServerResponse) => void)[],
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body, socket: req.socket });
      answers[Math.min(seen.length - 1, answers.length - 1)]!(res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

const OK = json(200, { ok: true });

/** The rejection of `p`, which must reject with a LarderClientError. */
async function failure(p: Promise<unknown>): Promise<LarderClientError> {
  const e: unknown = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LarderClientError);
  return e as LarderClientError;
}

afterEach(async () => {
  client?.close();
  client = undefined;
  const s = server;
  server = undefined;
  if (s) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('client runtime: retries', () => {
  it('retries a 503 and answers the 200 that follows', async () => {
    const { url, seen } = await serve([
      json(503, { error: { code: 'LARDER_STORE_UNAVAILABLE', message: 'down' } }),
      OK,
    ]);
    const http = new LarderHttp({ url, retries: 2, backoffMs: 1 });
    client = http;
    const r = await http.request('POST', '/get-online-features', { a: 1 });
    expect(r.body).toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.body).toBe('{"a":1}');
  });

  it('waits the Retry-After seconds of a 429 before retrying', async () => {
    const { url, seen } = await serve([
      json(
        429,
        { error: { code: 'LARDER_RATE_LIMITED', message: 'slow down' } },
        { 'retry-after': '1' },
      ),
      OK,
    ]);
    const http = new LarderHttp({ url, retries: 1, backoffMs: 1 });
    client = http;
    const start = performance.now();
    await http.request('GET', '/registry');
    expect(performance.now() - start).toBeGreaterThanOrEqual(950);
    expect(seen).toHaveLength(2);
  });

  it('never retries a 400 and throws its code, field, hint and reason', async () => {
    const { url, seen } = await serve([
      json(400, {
        error: {
          code: 'LARDER_BAD_REQUEST',
          message: 'ragged entity columns',
          field: 'entities.product_id',
          hint: 'one value per row',
          reason: 'ragged_columns',
        },
      }),
      OK,
    ]);
    const http = new LarderHttp({ url, retries: 3, backoffMs: 1 });
    client = http;
    const e = await failure(http.request('POST', '/v1/models/m/predict', {}));
    expect(seen).toHaveLength(1);
    expect(e).toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      status: 400,
      retriable: false,
      attempts: 1,
      message: 'ragged entity columns',
      field: 'entities.product_id',
      hint: 'one value per row',
      reason: 'ragged_columns',
    });
  });

  it("reads Feast's error shape on the Feast routes (a JSON string) and its class", async () => {
    const detail = {
      module: 'feast.errors',
      class: 'FeatureServiceNotFoundException',
      message: 'unknown feature service "nope"',
      code: 'LARDER_NOT_FOUND',
      hint: 'known services: recommendation_v1',
    };
    const { url, seen } = await serve([
      json(404, JSON.stringify(detail), { 'larder-error-code': 'LARDER_NOT_FOUND' }),
    ]);
    const http = new LarderHttp({ url, retries: 2, backoffMs: 1 });
    client = http;
    const e = await failure(http.request('POST', '/get-online-features', {}));
    expect(seen).toHaveLength(1);
    expect(e).toMatchObject({
      code: 'LARDER_NOT_FOUND',
      status: 404,
      feastClass: 'FeatureServiceNotFoundException',
      message: 'unknown feature service "nope"',
      hint: 'known services: recommendation_v1',
    });
  });

  it('never retries a 502 without a Larder body: its code is HTTP_502', async () => {
    const { url, seen } = await serve([
      (res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<h1>Bad Gateway</h1>');
      },
      OK,
    ]);
    const http = new LarderHttp({ url, retries: 3, backoffMs: 1 });
    client = http;
    const e = await failure(http.request('GET', '/registry'));
    expect(seen).toHaveLength(1);
    expect(e).toMatchObject({
      code: 'HTTP_502',
      status: 502,
      retriable: false,
      message: 'HTTP 502: <h1>Bad Gateway</h1>',
    });
  });

  it('refuses a 200 whose body is not JSON as HTTP_200, without retrying', async () => {
    const { url, seen } = await serve([
      (res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>captive portal</html>');
      },
    ]);
    const http = new LarderHttp({ url, retries: 3, backoffMs: 1 });
    client = http;
    const e = await failure(http.request('GET', '/registry'));
    expect(seen).toHaveLength(1);
    expect(e).toMatchObject({
      code: 'HTTP_200',
      status: 200,
      retriable: false,
      message: 'HTTP 200: the answer is not JSON: <html>captive portal</html>',
    });
  });

  it('aborts an attempt after timeoutMs, retries it, then throws CLIENT_TIMEOUT', async () => {
    const { url, seen } = await serve([() => undefined]);
    const http = new LarderHttp({ url, timeoutMs: 100, retries: 1, backoffMs: 1 });
    client = http;
    const start = performance.now();
    const e = await failure(http.request('GET', '/registry'));
    expect(e).toMatchObject({ code: 'CLIENT_TIMEOUT', status: null, attempts: 2 });
    expect(seen).toHaveLength(2);
    expect(performance.now() - start).toBeGreaterThanOrEqual(190);
  });

  it('times out an answer whose body stops half-way', async () => {
    const { url, seen } = await serve([
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"ok":');
      },
    ]);
    const http = new LarderHttp({ url, timeoutMs: 100, retries: 1, backoffMs: 1 });
    client = http;
    const e = await failure(http.request('GET', '/registry'));
    expect(e).toMatchObject({ code: 'CLIENT_TIMEOUT', status: null, attempts: 2 });
    expect(seen).toHaveLength(2);
  });

  it('retries a refused connection, then throws CLIENT_NETWORK', async () => {
    const { url } = await serve([OK]);
    await new Promise((r) => server!.close(r));
    server = undefined;
    const http = new LarderHttp({ url, retries: 2, backoffMs: 1 });
    client = http;
    const e = await failure(http.request('GET', '/registry'));
    expect(e).toMatchObject({ code: 'CLIENT_NETWORK', status: null, attempts: 3 });
  });

  it("stops at the caller's abort signal without retrying", async () => {
    const { url, seen } = await serve([() => undefined]);
    const http = new LarderHttp({ url, timeoutMs: 5000, retries: 3 });
    client = http;
    const signal = AbortSignal.timeout(50);
    const e: unknown = await http
      .request('GET', '/registry', undefined, { signal })
      .catch((x) => x);
    expect((e as Error).name).toBe('TimeoutError');
    expect(seen).toHaveLength(1);
  });
});

describe('client runtime: connection and headers', () => {
  it('sends the API key as a Bearer token and reuses one kept-alive connection', async () => {
    const { url, seen } = await serve([OK]);
    const http = new LarderHttp({ url, apiKey: 'lk_test' });
    client = http;
    await http.request('GET', '/registry');
    await http.request('GET', '/registry');
    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer lk_test', 'Bearer lk_test']);
    expect(seen[0]!.headers.connection).toBe('keep-alive');
    expect(seen[1]!.socket).toBe(seen[0]!.socket);
  });

  it('push sends one Idempotency-Key on every attempt, and rows column-wise', async () => {
    const { url, seen } = await serve([
      json(503, { error: { code: 'LARDER_STORE_UNAVAILABLE', message: 'down' } }),
      json(200, { rows: 2, views: ['v'], file: null }),
    ]);
    const c = new LarderClient<Record<string, never>>({ url, backoffMs: 1 });
    client = c;
    const r = await c.push('events_push', [{ a: 1, b: 'x' }, { a: 2 }]);
    expect(r).toEqual({ rows: 2, views: ['v'], file: null, replayed: false });
    expect(seen).toHaveLength(2);
    const key = seen[0]!.headers['idempotency-key'];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[1]!.headers['idempotency-key']).toBe(key);
    expect(JSON.parse(seen[0]!.body)).toEqual({
      push_source_name: 'events_push',
      df: { a: [1, 2], b: ['x', null] },
      to: 'online',
    });
  });
});
