/**
 * What `POST /push` refuses before applying anything: event times later than now + the
 * allowed skew or outside JavaScript's date range (defect 14), more rows than
 * `serve.maxPushRows` and join keys over `ingest.maxKeyBytes` (defect 15).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../support/temp-repo.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from './serve-fixture.ts';
import { errorOf } from './error-of.ts';

const repo = tempRepo({ 'repo.ts': PUSH_REPO });
let s: Served;
beforeAll(async () => {
  s = await serveRepo(repo.dir);
});
afterAll(async () => {
  await s?.close();
  repo.cleanup();
});

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
const row = (id: string, userId: string, ts: number) => ({
  id: [id],
  userId: [userId],
  kind: ['click'],
  amount: [1],
  ts: [ts],
});
const push = (df: Record<string, unknown[]>) =>
  s.app.inject({
    method: 'POST',
    url: '/push',
    payload: { push_source_name: 'events_push', df },
  });
const lastKind = async (user: string) =>
  (
    await s.app.inject({
      method: 'POST',
      url: '/get-online-features',
      payload: { features: ['activity:last_kind'], entities: { user_id: [user] } },
    })
  ).json().results[1].statuses[0] as string;

describe('POST /push: event times', () => {
  it.each([
    ['a year ahead', T0 + YEAR_MS, /later than now \+ 5m/],
    ['6 minutes ahead', T0 + 6 * 60_000, /later than now \+ 5m/],
    ['beyond the date range', 9e15, /^row 1: field "ts": .*outside JavaScript's date range/],
    ['before the date range', -9e15, /^row 1: field "ts": .*outside JavaScript's date range/],
    ['beyond the int64 range read exactly', 1e20, /^row 1: field "ts": outside the int64 range/],
    ['before the int64 range read exactly', -1e20, /^row 1: field "ts": outside the int64 range/],
  ])('%s is a 400 naming the row and field, applying nothing', async (_, ts, message) => {
    const r = await push({
      id: ['ok', 'bad'],
      userId: ['f1', 'f1'],
      kind: ['click', 'click'],
      amount: [1, 1],
      ts: [T0 - 1000, ts],
    });
    expect(r.statusCode).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_BAD_REQUEST', field: 'df.ts[1]' });
    expect(errorOf(r).message).toMatch(message);
    expect(await lastKind('f1')).toBe('NOT_FOUND');
  });

  it('accepts an event within the allowed skew', async () => {
    const r = await push(row('skew', 'f2', T0 + 5 * 60_000));
    expect(r.statusCode, r.body).toBe(200);
    expect(await lastKind('f2')).not.toBe('NOT_FOUND');
  });
});

describe('POST /push: sizes', () => {
  it('more rows than serve.maxPushRows (default 1000) is a 400, applying nothing', async () => {
    const n = 1001;
    const r = await push({
      id: Array.from({ length: n }, (_, i) => `r${i}`),
      userId: Array.from({ length: n }, () => 'big'),
      kind: Array.from({ length: n }, () => 'click'),
      amount: Array.from({ length: n }, () => 1),
      ts: Array.from({ length: n }, () => T0 - 1000),
    });
    expect(r.statusCode).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_BAD_REQUEST', field: 'df' });
    expect(errorOf(r).message).toBe(
      'too many rows: 1001 (the limit is 1000 rows per push, serve.maxPushRows)',
    );
    expect(await lastKind('big')).toBe('NOT_FOUND');
  });

  it('a join key over ingest.maxKeyBytes (default 1024) is a 400 naming the row and field', async () => {
    const ok = await push(row('k-ok', 'é'.repeat(512), T0 - 1000));
    expect(ok.statusCode, ok.body).toBe(200);
    const key = 'é'.repeat(513);
    const r = await push(row('k-long', key, T0 - 1000));
    expect(r.statusCode).toBe(400);
    expect(errorOf(r)).toMatchObject({ code: 'LARDER_BAD_REQUEST', field: 'df.userId[0]' });
    expect(errorOf(r).message).toBe(
      'row 0: field "userId": a join key of 1026 bytes; the limit is 1024 (ingest.maxKeyBytes)',
    );
    expect(await lastKind(key)).toBe('NOT_FOUND');
  });
});

describe('bodies over the 8 MiB limit', () => {
  const big = JSON.stringify({ pad: 'x'.repeat(8 * 1024 * 1024) });
  it.each(['/push', '/get-online-features', '/v1/models/m/predict', '/v1/experiments/e/rank'])(
    '%s answers 413 LARDER_PAYLOAD_TOO_LARGE',
    async (url) => {
      const r = await s.app.inject({
        method: 'POST',
        url,
        payload: big,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.statusCode).toBe(413);
      expect(errorOf(r)).toMatchObject({ code: 'LARDER_PAYLOAD_TOO_LARGE', field: '(body)' });
      expect(errorOf(r).hint).toMatch(/8 MiB/);
    },
  );
});
