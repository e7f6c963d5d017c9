/**
 * What `POST /push` refuses before applying anything: event times later than now + the
 * allowed skew or outside JavaScript's date range (defect 14), more rows than
 * `serve.maxPushRows` and join keys over `ingest.maxKeyBytes` (defect 15).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempRepo } from '../support/temp-repo.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from './serve-fixture.ts';

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
    ['beyond the date range', 1e20, /outside JavaScript's date range/],
    ['before the date range', -1e20, /outside JavaScript's date range/],
  ])('%s is a 400 naming the row and field, applying nothing', async (_, ts, message) => {
    const r = await push({
      id: ['ok', 'bad'],
      userId: ['f1', 'f1'],
      kind: ['click', 'click'],
      amount: [1, 1],
      ts: [T0 - 1000, ts],
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatchObject({ code: 'LARDER_BAD_REQUEST', field: 'df.ts[1]' });
    expect(r.json().error.message).toMatch(/^row 1: field "ts": /);
    expect(r.json().error.message).toMatch(message);
    expect(await lastKind('f1')).toBe('NOT_FOUND');
  });

  it('accepts an event within the allowed skew', async () => {
    const r = await push(row('skew', 'f2', T0 + 5 * 60_000));
    expect(r.statusCode, r.body).toBe(200);
    expect(await lastKind('f2')).not.toBe('NOT_FOUND');
  });
});
