import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../api/auth/rate-limiter.ts';
import { LarderError } from '../../core/errors.ts';
import { serveRepo, type Served } from './serve-fixture.ts';
import { errorOf } from './error-of.ts';

let s: Served;
beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'), {
    maxEntityRows: 5,
  });
});
afterAll(async () => {
  await s?.close();
});

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  s.app.inject({
    method: 'POST',
    url: '/get-online-features',
    payload: payload as object,
    headers,
  });

describe('bad requests', () => {
  it.each([
    [
      { features: ['nope:x'], entities: { user_id: ['u1'] } },
      404,
      undefined,
      /unknown feature view "nope"/,
    ],
    [
      { features: ['user_activity:nope'], entities: { user_id: ['u1'] } },
      404,
      undefined,
      /has no feature "nope"/,
    ],
    [
      { feature_service: 'nope', entities: { user_id: ['u1'] } },
      404,
      undefined,
      /unknown feature service/,
    ],
    [
      { features: ['user_activity:clicks_1h'], entities: { user_id: [42] } },
      400,
      'entities.user_id[0]',
      /not a valid string/,
    ],
    [
      {
        features: ['user_activity:clicks_1h', 'product_catalog:price'],
        entities: { user_id: ['u1'], product_id: ['p1', 'p2'] },
      },
      400,
      'entities.product_id',
      /ragged/,
    ],
    [
      {
        features: ['user_activity:clicks_1h'],
        entities: { user_id: ['a', 'b', 'c', 'd', 'e', 'f'] },
      },
      400,
      'entities',
      /too many entity rows: 6/,
    ],
    [
      {
        features: ['user_activity:clicks_1h', 'product_catalog:price'],
        entities: { user_id: ['u1'] },
      },
      400,
      'entities.product_id',
      /missing join key/,
    ],
    [{ entities: { user_id: ['u1'] } }, 400, 'features', /missing "features"/],
  ])('%j → %i', async (payload, status, field, message) => {
    const r = await post(payload);
    expect(r.statusCode).toBe(status);
    const error = errorOf(r);
    expect(error.message).toMatch(message);
    if (field) expect(error).toMatchObject({ code: 'LARDER_BAD_REQUEST', field });
    expect(r.body).not.toMatch(/at .*\.ts:\d+/);
  });

  it("ignores fields it does not use, as Feast's server does (Feast's SDK sends some)", async () => {
    const read = { features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } };
    const plain = await post(read);
    const r = await post({ ...read, include_feature_view_version_metadata: false, extra: 1 });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.body).toBe(plain.body);
  });

  it('malformed JSON is a 400 JSON error', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/get-online-features',
      payload: '{"features": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_BAD_REQUEST' });
  });

  it('unknown routes are 404 JSON', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/nope' });
    expect(r.statusCode).toBe(404);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_NOT_FOUND' });
  });

  it('store down is 503 with Retry-After, on reads and /ready', async () => {
    const { readMany, ping } = s.store;
    s.store.readMany = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    s.store.ping = async () => {
      throw new LarderError('LARDER_STORE_UNAVAILABLE', 'down');
    };
    try {
      const r = await post({
        features: ['user_activity:clicks_1h'],
        entities: { user_id: ['u1'] },
      });
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('1');
      expect(errorOf(r)).toMatchObject({ code: 'LARDER_STORE_UNAVAILABLE' });
      expect((await s.app.inject({ url: '/ready' })).statusCode).toBe(503);
    } finally {
      Object.assign(s.store, { readMany, ping });
    }
    expect((await s.app.inject({ url: '/ready' })).statusCode).toBe(200);
  });
});

describe('ops routes', () => {
  it('/metrics has latency histograms and error counts', async () => {
    await post({ features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } });
    const m = await s.app.inject({ url: '/metrics' });
    expect(m.body).toContain(
      'larder_http_request_duration_seconds_bucket{le="0.001",route="/get-online-features"',
    );
    expect(m.body).toContain('larder_online_store_read_duration_seconds_count');
    expect(m.body).toMatch(/larder_errors_total\{code="LARDER_BAD_REQUEST"\} \d+/);
  });

  it('serves OpenAPI with the routes, and the docs UI', async () => {
    const spec = (await s.app.inject({ url: '/openapi.json' })).json() as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/get-online-features', '/push', '/health', '/ready', '/registry']),
    );
    const docs = await s.app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });
});

describe('auth', () => {
  it('is open without keys, then enforces keys, scopes, rate limits and revocation', async () => {
    const ok = { features: ['user_activity:clicks_1h'], entities: { user_id: ['u1'] } };
    expect((await post(ok)).statusCode).toBe(200);
    const { key: reader, record } = s.ctx.keys.create({
      scopes: ['read'],
      name: 'reader',
      rate: 3,
    });
    const { key: pusher } = s.ctx.keys.create({ scopes: ['push'] });
    expect((await post(ok)).statusCode).toBe(401);
    expect(
      (await post(ok, { authorization: 'Bearer lk_000000000000_wrongwrongwrongwrongwrong' }))
        .statusCode,
    ).toBe(401);
    expect((await post(ok, { authorization: `Bearer ${pusher}` })).statusCode).toBe(403);
    // The limiter's clock stands still unless the test moves it (3 requests/s, bursts of 3).
    let now = 0;
    s.ctx.limiter = new RateLimiter(() => now);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(ok, { 'x-api-key': reader })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await post(ok, { 'x-api-key': reader });
    expect(limited.headers['retry-after']).toBe('1');
    expect(errorOf(limited).code).toBe('LARDER_RATE_LIMITED');
    // A third of a second refills one token.
    now += 1000 / 3;
    expect((await post(ok, { 'x-api-key': reader })).statusCode).toBe(200);
    expect((await post(ok, { 'x-api-key': reader })).statusCode).toBe(429);
    s.ctx.keys.revoke(record.id);
    expect((await post(ok, { authorization: `Bearer ${reader}` })).statusCode).toBe(401);
  });
});
