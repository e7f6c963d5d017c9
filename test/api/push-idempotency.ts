/**
 * The `Idempotency-Key` contract of `POST /push`, run against servers that share one online
 * store (a restart, or several server processes): a repeated key answers the first answer and
 * applies nothing; the same key with another body is a 422; concurrent duplicates apply once.
 */
import { expect, it } from 'vitest';
import type { Served } from './serve-fixture.ts';
import { errorOf } from './error-of.ts';

export function pushIdempotencyContract(
  /** Two servers over the same store and namespace (the second may be a restart of the first). */
  servers: () => [Served, Served],
  /** The servers' clock (reads and the store's): events are pushed a minute before. */
  now: number,
): void {
  const df = (id: string, n = 1) => ({
    id: Array.from({ length: n }, (_, i) => `${id}-${i}`),
    userId: Array.from({ length: n }, () => 'u1'),
    kind: Array.from({ length: n }, () => 'click'),
    amount: Array.from({ length: n }, () => 2),
    ts: Array.from({ length: n }, () => now - 60_000),
  });
  const push = (s: Served, body: unknown, key?: string) =>
    s.app.inject({
      method: 'POST',
      url: '/push',
      payload: body as object,
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
  const clicks = async (s: Served, user: string) =>
    (
      await s.app.inject({
        method: 'POST',
        url: '/get-online-features',
        payload: { features: ['activity:clicks_1h'], entities: { user_id: [user] } },
      })
    ).json().results[1].values[0] as number;

  it('a retried key answers the first answer and applies nothing, on any server', async () => {
    const [a, b] = servers();
    const body = { push_source_name: 'events_push', df: df('r1', 3) };
    const first = await push(a, body, 'retry-1');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await clicks(a, 'u1')).toBe(3);
    for (const s of [a, b, a]) {
      const again = await push(s, body, 'retry-1');
      expect(again.statusCode).toBe(200);
      expect(again.body).toBe(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
    }
    expect(await clicks(b, 'u1')).toBe(3);
    // Without a key a push always applies.
    await push(a, body);
    expect(await clicks(a, 'u1')).toBe(6);
  });

  it('the same key with a different body is a 422 and applies nothing', async () => {
    const [a, b] = servers();
    const before = await clicks(a, 'u1');
    expect(
      (await push(a, { push_source_name: 'events_push', df: df('d1') }, 'k-d')).statusCode,
    ).toBe(200);
    const other = await push(b, { push_source_name: 'events_push', df: df('d2', 5) }, 'k-d');
    expect(other.statusCode).toBe(422);
    expect(errorOf(other)).toMatchObject({
      code: 'LARDER_IDEMPOTENCY_KEY_REUSED',
      field: 'idempotency-key',
    });
    expect(await clicks(a, 'u1')).toBe(before + 1);
  });

  it('concurrent duplicates apply once', async () => {
    const [a, b] = servers();
    const body = { push_source_name: 'events_push', df: { ...df('c1', 2), userId: ['u2', 'u2'] } };
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => push(i % 2 ? a : b, body, 'k-concurrent')),
    );
    expect(rs.map((r) => r.statusCode)).toEqual(rs.map(() => 200));
    expect(new Set(rs.map((r) => r.body)).size).toBe(1);
    expect(await clicks(a, 'u2')).toBe(2);
  });
}
