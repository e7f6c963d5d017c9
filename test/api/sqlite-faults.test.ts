/**
 * SQLite store faults under a running server: a read-only database and a database file deleted
 * or replaced while open are store-unavailable (503, Retry-After, logged), never a silent 500
 * and never a push acknowledged into a file that is gone.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';
import { serveRepo, T0, type Served } from './serve-fixture.ts';
import { errorOf } from './error-of.ts';

const PUSH_REPO = BASE_REPO.replace('import { batchSource,', 'import { pushSource, batchSource,')
  .replace(
    'export const activity = featureView({',
    "export const eventsPush = pushSource({ name: 'events_push', batchSource: events });\nexport const activity = featureView({",
  )
  .replace('source: events,', 'source: eventsPush,');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function served(path: string): Promise<Served> {
  const repo = tempRepo({ 'repo.ts': PUSH_REPO });
  cleanups.push(repo.cleanup);
  const s = await serveRepo(repo.dir, { store: { type: 'sqlite', path } });
  cleanups.push(s.close);
  return s;
}

const push = (s: Served, id: string) =>
  s.app.inject({
    method: 'POST',
    url: '/push',
    payload: {
      push_source_name: 'events_push',
      df: { id: [id], userId: ['u1'], kind: ['click'], amount: [1], ts: [T0 - 60_000] },
      to: 'online',
    },
  });

/** Captures the server's stderr lines. */
function stderrLines(): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return write(chunk);
  }) as typeof process.stderr.write);
  return lines;
}

describe('SQLite online store faults (served)', () => {
  it('a read-only database: push is 503 LARDER_STORE_UNAVAILABLE with Retry-After, and logged', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const path = join(tmp.dir, 'online.sqlite');
    // Create the database, then make the file immutable (read-only even for root).
    const dir = tempRepo({ 'repo.ts': PUSH_REPO });
    cleanups.push(dir.cleanup);
    const repo = await loadRepository(dir.dir);
    const views = [...repo.featureViews.values()].map((v) => v.spec);
    const init = createOnlineStore({ type: 'sqlite', path }, { namespace: 'ro', views });
    await init.init();
    await init.close();
    const chattr = spawnSync('chattr', ['+i', path], { encoding: 'utf8' });
    expect(chattr.status, chattr.stderr).toBe(0);
    cleanups.push(() => void spawnSync('chattr', ['-i', path]));

    const s = await served(path);
    const lines = stderrLines();
    const r = await push(s, 'a');
    expect(r.statusCode, r.body).toBe(503);
    expect(errorOf(r).code).toBe('LARDER_STORE_UNAVAILABLE');
    expect(errorOf(r).message).toMatch(/readonly/i);
    expect(errorOf(r).message).toContain(path);
    expect(r.headers['retry-after']).toBe('1');
    expect(lines.join('')).toMatch(
      /larder serve: POST \/push → 503 LARDER_STORE_UNAVAILABLE: .*readonly/i,
    );
  });

  for (const how of ['deleted', 'replaced'] as const) {
    it(`a database file ${how} while open: /ready 503 and pushes refused, not acknowledged`, async () => {
      const tmp = tempDir();
      cleanups.push(tmp.cleanup);
      const path = join(tmp.dir, 'online.sqlite');
      const s = await served(path);
      expect((await push(s, 'a')).statusCode).toBe(200);
      expect((await s.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);

      if (how === 'deleted') unlinkSync(path);
      else {
        copyFileSync(path, join(tmp.dir, 'copy.sqlite'));
        renameSync(join(tmp.dir, 'copy.sqlite'), path);
      }
      const lines = stderrLines();
      const ready = await s.app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(errorOf(ready).code).toBe('LARDER_STORE_UNAVAILABLE');
      expect(errorOf(ready).message).toContain(`was ${how} while open`);
      const r = await push(s, 'b');
      expect(r.statusCode, r.body).toBe(503);
      expect(errorOf(r).code).toBe('LARDER_STORE_UNAVAILABLE');
      expect(r.headers['retry-after']).toBe('1');
      expect(lines.join('')).toContain('POST /push → 503 LARDER_STORE_UNAVAILABLE');
    });
  }
});
