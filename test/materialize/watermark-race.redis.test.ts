/**
 * Two `materialize-incremental` runs of one view racing outside the scheduler's lease, in two
 * processes interleaved deterministically (the first stops after reading the registry until the
 * second has finished): the slower run, which read the older watermark and loads to an earlier
 * end, commits last. Its watermark must not move the view's back, and its tiles — the one
 * holding its end is partial — must not leave the online store with fewer records than the
 * other run loaded. SQLite and Redis online stores, DuckDB offline.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { applyRepository } from '../../registry/apply.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { openFeatureStore } from '../../store/feature-store.ts';
import { BASE_REPO, SPEND_BATCH_VIEW, tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIN = 60_000;
const HOUR = 60 * MIN;
// Recent, hour-aligned: the online store drops tiles whose windows ended (by the wall clock).
const H = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const W0 = H - 10 * MIN; // the watermark both runs read
const T1 = H + 20 * MIN; // the slow run's end: inside the hour tile [H, H + 1h)
const T2 = H + 80 * MIN; // the fast run's end: in the next hour tile
const DAY = 24 * HOUR;
// The batch case's snapshot day: today's (UTC). Its snapshot serves until the next midnight, and
// Redis expires it then by the wall clock: yesterday's, which H falls in from 00:00 to 02:00,
// would already be gone.
const MIDNIGHT = Math.floor(Date.now() / DAY) * DAY;
/** The batch case's fast run's end and read time: in today's snapshot day, not after now. */
const HB = Math.max(H, MIDNIGHT);

interface Summary {
  views: string[];
  overlapped: { view: string; start: number; end: number }[];
}

/** The materialize process; with `pause`, resolves `paused` once it has read the registry. */
function materialize(p: Project, views: string, end: number, pause = false) {
  const child = spawn(
    'node',
    [
      '--import',
      'tsx',
      'test/support/materialize-process.ts',
      p.root,
      p.repo,
      JSON.stringify(p.config),
      String(end),
      views,
      ...(pause ? ['pause'] : []),
    ],
    { cwd: resolve(import.meta.dirname, '../..'), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let onPaused: () => void = () => undefined;
  const paused = new Promise<void>((r) => (onPaused = r));
  child.stdout.on('data', (d: Buffer) => {
    out += String(d);
    if (out.startsWith('paused\n')) onPaused();
  });
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const done = new Promise<Summary>((res, rej) =>
    child.once('exit', (code) =>
      code === 0
        ? res(JSON.parse(out.replace(/^paused\n/, '')) as Summary)
        : rej(new Error(`materialize process exited ${code}: ${err}`)),
    ),
  );
  return { paused, done, resume: () => child.stdin.end('x') };
}

type Kind = 'sqlite' | 'redis';
type Project = Awaited<ReturnType<typeof project>>;

/** A repository (`activity`, and the batch view `spend`), these events, and an applied store. */
async function project(kind: Kind, events: [string, number, number][]) {
  const repo = tempRepo({ 'repo.ts': BASE_REPO, 'batch.ts': SPEND_BATCH_VIEW });
  cleanups.push(repo.cleanup);
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  mkdirSync(join(tmp.dir, 'data/raw/events'), { recursive: true });
  writeFileSync(
    join(tmp.dir, 'data/raw/events/events.jsonl'),
    events
      .map(([id, amount, ts]) => JSON.stringify({ id, userId: 'u1', kind: 'click', amount, ts }))
      .map((l) => `${l}\n`)
      .join(''),
  );
  const config = {
    home: 'home',
    dataDir: 'data',
    offlineStore: { type: 'duckdb' as const },
    ...(kind === 'redis'
      ? { onlineStore: { type: 'redis' as const, url: 'redis://127.0.0.1:6379/0' } }
      : {}),
    namespace: `test-${randomUUID()}`,
  };
  const store = await openFeatureStore({ root: tmp.dir, repo: repo.dir, config });
  cleanups.push(() => store.close());
  if (kind === 'redis')
    cleanups.push(async () => {
      const online = createOnlineStore(store.config.onlineStore, {
        namespace: config.namespace,
        views: [...store.repo.featureViews.values()].map((v) => v.spec),
      });
      await online.init();
      await online.teardown();
      await online.close();
    });
  await applyRepository(store.repo, store.config.home);
  const read = async (feature: string, t: number) =>
    (
      await store.getOnlineFeatures({ features: [feature], entities: { user_id: ['u1'] }, t })
    ).columns.map((c) => c.values[0]);
  return { store, root: tmp.dir, repo: repo.dir, config, home: store.config.home, read };
}

describe.each(['sqlite', 'redis'] as const)('two racing materialize-incremental (%s)', (kind) => {
  it('the slower run, committing last, moves no watermark back and loses no record', async () => {
    const p = await project(kind, [
      ['e1', 1, H - 30 * MIN],
      ['e2', 10, H + 10 * MIN], // before T1
      ['e3', 1000, H + 40 * MIN], // after T1, in T1's hour tile
      ['e4', 100, H + 70 * MIN], // after T1, in T2's hour tile
    ]);
    await p.store.materialize({ end: W0, incremental: true, views: ['activity'] });
    expect(readRegistry(p.home)!.watermarks).toEqual({ activity: W0 });

    const slow = materialize(p, 'activity', T1, true);
    await slow.paused;
    // Meanwhile the fast run, from the same watermark, loads to T2 and commits.
    const fast = await materialize(p, 'activity', T2).done;
    expect(fast).toEqual({ views: ['activity'], overlapped: [] });
    expect(readRegistry(p.home)!.watermarks).toEqual({ activity: T2 });
    slow.resume();
    // The slow run found the fast one's commit, kept T2 and loaded its range again up to it.
    expect(await slow.done).toEqual({
      views: ['activity'],
      overlapped: [{ view: 'activity', start: H - HOUR, end: T2 }],
    });
    expect(readRegistry(p.home)!.watermarks).toEqual({ activity: T2 });
    // Every record up to T2: 1 + 10 + 1000 + 100 (a 1-hour window would have expired by the
    // wall clock, as the online store drops such tiles).
    expect(await p.read('activity:spend_7d', T2)).toEqual(['u1', 1111]);
    // The next incremental run starts from T2's hour, and nothing changes.
    await p.store.materialize({ end: T2, incremental: true, views: ['activity'] });
    expect(await p.read('activity:spend_7d', T2)).toEqual(['u1', 1111]);
  }, 120_000);

  it("a batch view: the slower run's older snapshot does not replace the newer one", async () => {
    const p = await project(kind, [
      ['e1', 1, MIDNIGHT - DAY - 5 * MIN], // in both snapshots
      ['e2', 10, MIDNIGHT - 5 * MIN], // in the latest one only
    ]);
    const slow = materialize(p, 'spend', MIDNIGHT - HOUR, true); // snapshot MIDNIGHT - DAY
    await slow.paused;
    await materialize(p, 'spend', HB).done; // snapshot MIDNIGHT
    expect(readRegistry(p.home)!.watermarks).toMatchObject({ spend: MIDNIGHT });
    slow.resume();
    const s = await slow.done;
    expect(s.overlapped).toContainEqual({
      view: 'spend',
      start: expect.any(Number),
      end: MIDNIGHT,
    });
    expect(readRegistry(p.home)!.watermarks).toMatchObject({ spend: MIDNIGHT });
    expect(await p.read('spend:snap_spend', HB)).toEqual(['u1', 11]);
  }, 120_000);
});
