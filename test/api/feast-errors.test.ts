/**
 * Errors on Feast's routes in Feast's shape (a JSON string of `{module, class, message}`, which
 * Feast's SDK turns into that exception class), with Larder's code, field and hint inside and
 * the code in a header; Larder's own routes keep `{"error": {...}}`. Feast's SDK itself reads
 * these in test/compat/feast-sdk.services.test.ts.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRepo, type Served } from './serve-fixture.ts';

let s: Served;
beforeAll(async () => {
  s = await serveRepo(resolve(import.meta.dirname, '../../examples/ecommerce/features'));
});
afterAll(async () => {
  await s?.close();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  s.app.inject({ method: 'POST', url, payload, headers });

describe("Feast's error detail on /get-online-features and /push", () => {
  it.each([
    [
      '/get-online-features',
      { features: ['nope:x'], entities: { user_id: ['u1'] } },
      404,
      'FeatureViewNotFoundException',
      'LARDER_NOT_FOUND',
    ],
    [
      '/get-online-features',
      { features: ['user_activity:nope'], entities: { user_id: ['u1'] } },
      404,
      'FeastObjectNotFoundException',
      'LARDER_NOT_FOUND',
    ],
    [
      '/get-online-features',
      { feature_service: 'nope', entities: { user_id: ['u1'] } },
      404,
      'FeatureServiceNotFoundException',
      'LARDER_NOT_FOUND',
    ],
    [
      '/get-online-features',
      { features: ['user_activity:clicks_1h'], entities: { user_id: [42] } },
      400,
      'FeastError',
      'LARDER_BAD_REQUEST',
    ],
    [
      '/push',
      { push_source_name: 'nope', df: {} },
      404,
      'PushSourceNotFoundException',
      'LARDER_NOT_FOUND',
    ],
    [
      '/push',
      { push_source_name: 'user_events', df: { a: 1 } },
      400,
      'FeastError',
      'LARDER_BAD_REQUEST',
    ],
  ])('%s %j → %i %s', async (url, payload, status, cls, code) => {
    const r = await post(url, payload);
    expect(r.statusCode).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['larder-error-code']).toBe(code);
    const text = r.json();
    expect(typeof text).toBe('string');
    const detail = JSON.parse(text as string) as Record<string, unknown>;
    expect(detail).toMatchObject({ module: 'feast.errors', class: cls, code });
    expect(String(detail['message']).length).toBeGreaterThan(0);
  });

  it('carries the field, hint and reason', async () => {
    const r = await post('/get-online-features', {
      features: ['user_activity:clicks_1h'],
      entities: { user_id: [42] },
    });
    expect(JSON.parse(r.json<string>())).toMatchObject({
      field: 'entities.user_id[0]',
      hint: expect.any(String),
      reason: 'wrong_type',
    });
  });

  it('an invalid JSON body on a Feast route is Feast-shaped too', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/push',
      payload: '{"push_source_name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.json<string>())).toMatchObject({ class: 'FeastError', field: '(body)' });
  });

  it('401 and 403 are FeastPermissionError', async () => {
    const authed = await serveRepo(
      resolve(import.meta.dirname, '../../examples/ecommerce/features'),
    );
    try {
      const reader = authed.ctx.keys.create({ scopes: ['read'] }).key;
      const body = { push_source_name: 'user_events', df: {} };
      for (const [headers, status] of [
        [{}, 401],
        [{ 'x-api-key': reader }, 403],
      ] as const) {
        const r = await authed.app.inject({ method: 'POST', url: '/push', payload: body, headers });
        expect(r.statusCode).toBe(status);
        expect(JSON.parse(r.json<string>())).toMatchObject({ class: 'FeastPermissionError' });
      }
    } finally {
      await authed.close();
    }
  });

  it("keeps Larder's shape on Larder's routes", async () => {
    const r = await post('/v1/models/nope/predict', { entities: { user_id: ['u1'] } });
    expect(r.statusCode).toBe(404);
    expect(r.headers['larder-error-code']).toBeUndefined();
    expect(r.json()).toMatchObject({ error: { code: 'LARDER_NOT_FOUND' } });
  });
});

describe("fields Feast's clients send and Larder does not use", () => {
  it('/push accepts transform_on_write and allow_registry_cache (ignored)', async () => {
    const r = await post('/push', {
      push_source_name: 'user_events',
      df: {},
      to: 'online',
      allow_registry_cache: true,
      transform_on_write: true,
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ rows: 0, views: [], file: null });
  });

  it("a Feast feature row pushed to a source is a 400 naming the schema's missing field", async () => {
    const r = await post('/push', {
      push_source_name: 'user_events',
      df: { user_id: ['u1'], page_views_1h: [3], event_timestamp: ['2026-01-01T00:00:00'] },
    });
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.json<string>())).toMatchObject({
      class: 'FeastError',
      field: expect.stringMatching(/^df\.\w+\[0\]$/),
    });
  });

  it('/push still checks the fields it uses', async () => {
    const r = await post('/push', { push_source_name: 'user_events', df: {}, to: 'nowhere' });
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.json<string>())).toMatchObject({ field: 'to' });
  });
});
