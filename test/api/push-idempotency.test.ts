/** `POST /push` idempotency on SQLite, across a server restart; and the key header's checks. */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { pushIdempotencyContract } from './push-idempotency.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from './serve-fixture.ts';
import { errorOf } from './error-of.ts';

const repo = tempRepo({ 'repo.ts': PUSH_REPO });
const tmp = tempDir();
let a: Served;
let b: Served;

beforeAll(async () => {
  const store = { type: 'sqlite' as const, path: join(tmp.dir, 'online.sqlite') };
  const namespace = `t${randomUUID().slice(0, 8)}`;
  a = await serveRepo(repo.dir, { store, namespace });
  // A restarted server: another process's view of the same SQLite file.
  b = await serveRepo(repo.dir, { store, namespace });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  repo.cleanup();
  tmp.cleanup();
});

describe('POST /push with Idempotency-Key (SQLite)', () => {
  pushIdempotencyContract(() => [a, b], T0);

  it('refuses an empty or overlong key, or one with control characters, with a 400', async () => {
    for (const key of ['', 'x'.repeat(256), 'a\tb']) {
      const r = await a.app.inject({
        method: 'POST',
        url: '/push',
        payload: { push_source_name: 'events_push', df: { id: [] } },
        headers: { 'idempotency-key': key },
      });
      expect(r.statusCode, JSON.stringify(key)).toBe(400);
      expect(errorOf(r)).toMatchObject({
        code: 'LARDER_BAD_REQUEST',
        field: 'idempotency-key',
      });
    }
  });

  it('an offline push with a key appends its rows once', async () => {
    const body = {
      push_source_name: 'events_push',
      df: { id: ['o1'], userId: ['u3'], kind: ['click'], amount: [1], ts: [T0 - 1000] },
      to: 'offline',
    };
    const headers = { 'idempotency-key': 'offline-1' };
    const r1 = await a.app.inject({ method: 'POST', url: '/push', payload: body, headers });
    const r2 = await b.app.inject({ method: 'POST', url: '/push', payload: body, headers });
    expect(r2.body).toBe(r1.body);
    const { readFileSync } = await import('node:fs');
    expect(
      readFileSync(r1.json().file as string, 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
  });
});
