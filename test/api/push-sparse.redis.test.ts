/**
 * `POST /push` of a valid event that leaves a lifetime view without any field to update (a
 * product event without price or category), on Redis and SQLite: a 200, and the served values
 * of the same push's other views move. (The stream path's guarded batch failed on this shape;
 * the push path must not either.) Event times are near the wall clock: Redis expires keys by it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { serveRepo, type Served } from './serve-fixture.ts';

const REDIS_URL = process.env.LARDER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

let s: Served | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('POST /push: valid records shaped unlike gen-data’s', () => {
  for (const kind of ['redis', 'sqlite'] as const) {
    it(`a product event without price or category is applied (${kind})`, async () => {
      const now = Date.now();
      s = await serveRepo(
        'examples/ecommerce/features',
        kind === 'redis'
          ? { store: { type: 'redis', url: REDIS_URL }, clock: () => now }
          : { clock: () => now },
      );
      const app = s.app;
      const r = await app.inject({
        method: 'POST',
        url: '/push',
        payload: {
          push_source_name: 'user_events',
          to: 'online',
          df: {
            eventId: ['e1'],
            userId: ['u1'],
            sessionId: ['s1'],
            eventType: ['page_view'],
            timestamp: [now - 1000],
            properties: [{ productId: 'p1' }],
            context: [{ userAgent: 'ua', ip: '10.0.0.1', platform: 'web', referrer: null }],
          },
        },
      });
      expect(r.statusCode, r.body).toBe(200);
      const read = await app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: {
          features: [
            'product_engagement:views_1h',
            'product_catalog:price',
            'user_activity:last_platform',
          ],
          entities: { product_id: ['p1'], user_id: ['u1'] },
        },
      });
      expect(read.statusCode, read.body).toBe(200);
      const values = (read.json() as { results: { values: unknown[] }[] }).results
        .slice(2)
        .map((x) => x.values[0]);
      expect(values).toEqual([1, null, 'web']);
    });
  }

  it('ignores unknown columns and nested fields and reads missing nullable ones as null, like the batch and stream paths', async () => {
    const now = Date.now();
    s = await serveRepo('examples/ecommerce/features', { clock: () => now });
    const r = await s.app.inject({
      method: 'POST',
      url: '/push',
      payload: {
        push_source_name: 'user_events',
        to: 'online',
        df: {
          eventId: ['e1'],
          sessionId: ['s1'],
          eventType: ['page_view'],
          timestamp: [now - 1000],
          properties: [{ productId: 'p1', price: '4.5' }],
          context: [{ userAgent: 'ua', ip: '10.0.0.1', platform: 'web', screen: { w: 390 } }],
          campaign: ['spring'],
        },
      },
    });
    expect(r.statusCode, r.body).toBe(200);
    const read = await s.app.inject({
      method: 'POST',
      url: '/get-online-features',
      payload: {
        features: ['product_engagement:views_1h', 'product_catalog:price'],
        entities: { product_id: ['p1'] },
      },
    });
    const values = (read.json() as { results: { values: unknown[] }[] }).results
      .slice(1)
      .map((x) => x.values[0]);
    expect(values).toEqual([1, 4.5]);
  });
});
