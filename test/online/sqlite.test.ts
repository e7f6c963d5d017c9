import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { HOUR_MS, MINUTE_MS } from '../../core/duration.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { tempDir } from '../support/temp-repo.ts';
import { onlineStoreConformance } from './online-store-conformance.ts';
import { activity, TEST_VIEWS } from './test-views.ts';

const tmp = tempDir();
const path = join(tmp.dir, 'online.sqlite');
afterAll(() => tmp.cleanup());

onlineStoreConformance('sqlite', (options) => createOnlineStore({ type: 'sqlite', path }, options));

describe('SQLite online store', () => {
  const NOW = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  const tile = (entityKey: string, n: number) => ({
    view: 'activity',
    entityKey,
    hopMs: MINUTE_MS,
    hop: Math.floor(NOW / MINUTE_MS),
    states: { clicks_1h: n },
  });

  it('survives close and reopen', async () => {
    const namespace = `test-${randomUUID()}`;
    const a = createOnlineStore({ type: 'sqlite', path }, { namespace, views: TEST_VIEWS });
    await a.init();
    await a.writeTiles([tile('u1', 3)]);
    await a.close();
    const b = createOnlineStore({ type: 'sqlite', path }, { namespace, views: TEST_VIEWS });
    await b.init();
    const r = await b.readFeatures({
      view: activity,
      features: ['clicks_1h'],
      entityKeys: ['u1'],
      t: NOW,
    });
    expect(r.rows[0]![0]!.value).toBe(3);
    await b.teardown();
    await b.close();
  });

  it('uses WAL: a second connection reads while the first one writes', async () => {
    const namespace = `test-${randomUUID()}`;
    const writer = createOnlineStore({ type: 'sqlite', path }, { namespace, views: TEST_VIEWS });
    const reader = createOnlineStore({ type: 'sqlite', path }, { namespace, views: TEST_VIEWS });
    await writer.init();
    await reader.init();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    // Hold a read transaction open on a third connection while the writer commits.
    raw.exec('BEGIN');
    raw.prepare('SELECT count(*) FROM online_fields').get();
    for (let i = 1; i <= 20; i++) {
      await writer.mergeTiles([tile('u1', 1)]);
      const r = await reader.readFeatures({
        view: activity,
        features: ['clicks_1h'],
        entityKeys: ['u1'],
        t: NOW,
      });
      expect(r.rows[0]![0]!.value).toBe(i);
    }
    raw.exec('COMMIT');
    raw.close();
    await writer.teardown();
    await writer.close();
    await reader.close();
  });

  it('serves a reader in another process while this one writes (WAL)', async () => {
    const namespace = `test-${randomUUID()}`;
    const writer = createOnlineStore({ type: 'sqlite', path }, { namespace, views: TEST_VIEWS });
    await writer.init();
    await writer.mergeTiles([tile('u1', 1)]);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/support/sqlite-reader-process.ts',
        path,
        namespace,
        String(NOW),
        '40',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    while (!seen) await new Promise((r) => setTimeout(r, 10));
    for (let i = 2; i <= 40; i++) {
      await writer.mergeTiles([tile('u1', 1)]);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await exited).toBe(0);
    const values = seen.trim().split('\n').map(Number);
    expect(values[values.length - 1]).toBe(40);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    await writer.teardown();
    await writer.close();
  });

  it('purges expired rows in the background, a bounded step per turn of the event loop', async () => {
    const namespace = `test-${randomUUID()}`;
    let now = NOW;
    const s = createOnlineStore(
      { type: 'sqlite', path, purgeIntervalMs: 0 },
      { namespace, views: TEST_VIEWS, clock: () => now },
    );
    await s.init();
    const raw = new Database(path, { readonly: true });
    const rows = () =>
      (
        raw.prepare('SELECT count(*) AS n FROM online_fields WHERE ns = ?').get(namespace) as {
          n: number;
        }
      ).n;
    try {
      await s.writeTiles(Array.from({ length: 1200 }, (_, i) => tile(`u${i}`, 1)));
      // Let the purge started by that write finish (nothing had expired).
      await new Promise((r) => setTimeout(r, 20));
      expect(rows()).toBe(1200);
      now = NOW + 2 * HOUR_MS; // every minute tile written above has expired
      await s.writeTiles([{ ...tile('fresh', 1), hop: Math.floor(now / MINUTE_MS) }]);
      // The write returned before the purge ran: the expired rows are still there, but reads
      // and describeEntity never see them.
      expect(rows()).toBe(1201);
      expect(await s.describeEntity('activity', 'u7')).toBeNull();
      const r = await s.readFeatures({ view: activity, entityKeys: ['u7', 'fresh'], t: now });
      expect(r.rows.map((row) => row[0]!.value)).toEqual([0, 1]);
      // 1200 rows in steps of 500: three turns of the event loop.
      let turns = 0;
      while (rows() > 1 && turns < 100) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
      expect(rows()).toBe(1);
      expect(turns).toBeGreaterThanOrEqual(3);
    } finally {
      raw.close();
      await s.teardown();
      await s.close();
    }
  });

  it('fails init with LARDER_STORE_UNAVAILABLE when the file cannot be opened', async () => {
    const file = join(tmp.dir, 'not-a-dir');
    writeFileSync(file, '');
    const s = createOnlineStore(
      { type: 'sqlite', path: join(file, 'online.sqlite') },
      { namespace: 'x', views: [] },
    );
    await expect(s.init()).rejects.toMatchObject({
      code: 'LARDER_STORE_UNAVAILABLE',
      detail: { store: 'sqlite', op: 'open' },
    });
  });
});
