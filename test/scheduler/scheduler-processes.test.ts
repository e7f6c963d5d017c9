/**
 * `larder scheduler` with real processes: two schedulers racing on one view run each slot once,
 * and a scheduler killed with SIGKILL mid-run leaves the watermark consistent: the restarted
 * scheduler re-runs the slot and the online values equal a clean run's.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { readRuns, runsPath } from '../../scheduler/run-history.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';
import { freePort, until } from '../support/wait.ts';

const run = promisify(execFile);
const HOUR = 3_600_000;
/** Three hours before the last full hour: the online store keeps only tiles readable from now on. */
const T0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;

const REPO = `
import { z } from 'zod';
import { batchSource, batchView, col, count, entity, featureView, sum } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string(), kind: z.string(), amount: z.number(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '30d',
  materialization: { every: '1h', retries: 1, retryDelay: '1m' },
  features: {
    clicks_1h: count({ where: col('kind').eq('click'), window: '1h' }),
    spend_1d: sum(col('amount'), { window: '1d' }),
  },
});
export const kinds = batchView({
  name: 'kinds', entities: [user], source: events, columns: { user_id: col('userId') },
  window: '1d', every: '1h', ttl: '2d', materialization: {},
  query: 'SELECT user_id, COUNT(*) AS n FROM source GROUP BY user_id',
  features: { n: 'int64' },
});
`;

const repo = tempRepo({ 'repo.ts': REPO });
const tmp = tempDir();
afterAll(() => {
  repo.cleanup();
  tmp.cleanup();
});

/** `users` users, `n` events over the 24 h before T0 + 3 h. */
function writeData(dir: string, n: number, users: number): void {
  mkdirSync(`${dir}/raw/events`, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ts = T0 + 3 * HOUR - 1 - Math.floor((i * 7919) % (27 * HOUR));
    lines.push(
      JSON.stringify({
        id: `e${i}`,
        userId: `u${i % users}`,
        kind: i % 3 === 0 ? 'click' : 'view',
        amount: (i % 17) + 0.5,
        ts,
      }),
    );
  }
  writeFileSync(`${dir}/raw/events/events.jsonl`, `${lines.join('\n')}\n`);
}

function env(home: string, data: string): NodeJS.ProcessEnv {
  return { ...process.env, LARDER_REPO: repo.dir, LARDER_HOME: home, LARDER_DATA_DIR: data };
}
const larder = (e: NodeJS.ProcessEnv, ...args: string[]) =>
  run('node', ['bin/larder.js', ...args], { env: e });

async function onlineValues(home: string, t: number, users: number): Promise<unknown> {
  const r = await loadRepository(repo.dir);
  const view = r.featureViews.get('activity')!.spec;
  const store = createOnlineStore(
    { type: 'sqlite', path: `${home}/online.sqlite` },
    { namespace: 'larder', views: [view] },
  );
  await store.init();
  try {
    const keys = Array.from({ length: users }, (_, i) => `u${i}`);
    const [res] = await store.readMany([{ view, entityKeys: keys, t }]);
    return res!.rows;
  } finally {
    await store.close();
  }
}

describe('larder scheduler (real processes)', () => {
  it('two schedulers racing on one view run each slot once', async () => {
    const home = `${tmp.dir}/race-home`;
    const data = `${tmp.dir}/race-data`;
    writeData(data, 2_000, 50);
    const e = env(home, data);
    await larder(e, 'apply');
    const race = (now: number) =>
      Promise.all([
        larder(e, 'scheduler', '--once', '--now', String(now)),
        larder(e, 'scheduler', '--once', '--now', String(now)),
      ]);
    await race(T0 + HOUR + 5 * 60_000);
    const first = readRuns(home, 'activity');
    expect(first.map((r) => [r.slot, r.outcome])).toEqual([[T0 + HOUR, 'success']]);
    expect(first[0]!.rows).toBeGreaterThan(0);
    expect(readRegistry(home)!.watermarks.activity).toBe(T0 + HOUR);
    // The same time again: the slot is done. An hour later: the next slot, once.
    await race(T0 + HOUR + 30 * 60_000);
    await race(T0 + 2 * HOUR);
    const runs = readRuns(home, 'activity');
    expect(runs.map((r) => [r.slot, r.outcome])).toEqual([
      [T0 + HOUR, 'success'],
      [T0 + 2 * HOUR, 'success'],
    ]);
    expect(readRegistry(home)!.watermarks.activity).toBe(T0 + 2 * HOUR);
    const { stdout } = await larder(e, 'runs', '--view', 'activity');
    expect(stdout.split('\n')[0]).toMatch(/^VIEW\s+SLOT\s+ATTEMPT\s+START\s+END\s+OUTCOME\s+ROWS/);
    expect(stdout).toContain(`activity  ${new Date(T0 + 2 * HOUR).toISOString()}  1/2`);
  }, 120_000);

  it('kill -9 mid-run: the restarted scheduler re-runs the slot and values equal a clean run', async () => {
    const users = 400;
    const data = `${tmp.dir}/kill-data`;
    writeData(data, 150_000, users);
    const slot = T0 + 3 * HOUR;
    const now = String(slot + 60_000);
    const home = `${tmp.dir}/kill-home`;
    const e = env(home, data);
    await larder(e, 'apply');
    const child = spawn(
      'node',
      [
        'bin/larder.js',
        'scheduler',
        '--once',
        '--now',
        now,
        '--lease-ttl',
        '2',
        '--views',
        'activity',
      ],
      { env: e, stdio: 'ignore' },
    );
    // Listened for from the start: a child that already ended must not leave the test waiting.
    const exited = new Promise((r) => child.once('exit', r));
    await until('the run to start', () => {
      const runs = readRuns(home, 'activity');
      return runs.length > 0 ? runs : null;
    });
    // Soon after the attempt starts: its child is still loading its engines or materializing
    // (on a quiet machine the whole run takes about 2 s).
    await new Promise((r) => setTimeout(r, 500));
    const midRun = readRuns(home, 'activity');
    child.kill('SIGKILL');
    await exited;
    expect(midRun.map((r) => r.outcome)).toEqual(['running']);
    const killedMark = readRegistry(home)!.watermarks.activity;
    expect(killedMark === undefined || killedMark === slot).toBe(true);
    // The lease (2 s) expires; the restarted scheduler runs the slot again.
    await new Promise((r) => setTimeout(r, 2_500));
    await larder(e, 'scheduler', '--once', '--now', now, '--lease-ttl', '2', '--views', 'activity');
    const runs = readRuns(home, 'activity');
    expect(runs.map((r) => [r.slot, r.outcome])).toEqual([
      [slot, 'killed'],
      [slot, 'success'],
    ]);
    expect(readFileSync(runsPath(home), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    expect(readRegistry(home)!.watermarks.activity).toBe(slot);

    const clean = `${tmp.dir}/clean-home`;
    const c = env(clean, data);
    await larder(c, 'apply');
    await larder(c, 'materialize-incremental', '--end', String(slot));
    const [got, want] = [
      await onlineValues(home, slot, users),
      await onlineValues(clean, slot, users),
    ];
    const present = (rows: unknown): number =>
      (rows as { status: string }[][]).filter((r) => r[0]!.status === 'PRESENT').length;
    expect(present(want)).toBe(users);
    expect(got).toEqual(want);
  }, 180_000);

  it('runs on its own (feature and batch views), serves /metrics and /health, stops on SIGTERM', async () => {
    const home = `${tmp.dir}/loop-home`;
    const data = `${tmp.dir}/loop-data`;
    writeData(data, 2_000, 50);
    const e = env(home, data);
    await larder(e, 'apply');
    const port = await freePort();
    const child = spawn(
      'node',
      ['bin/larder.js', 'scheduler', '--tick', '1', '--metrics-port', String(port)],
      { env: e, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      const slot = Math.floor(Date.now() / HOUR) * HOUR;
      const runs = await until(
        'both views to run',
        () => {
          const r = readRuns(home).filter((x) => x.outcome === 'success');
          return r.length >= 2 ? r : null;
        },
        120_000,
      );
      expect(runs.map((r) => r.view).sort()).toEqual(['activity', 'kinds']);
      // The slot is the latest at start (an hour boundary passing mid-test moves it by one).
      for (const r of runs) expect([slot, slot + HOUR]).toContain(r.slot);
      expect(runs.find((r) => r.view === 'kinds')!.rows).toBe(50);
      expect(readRegistry(home)!.watermarks.kinds).toBe(runs.find((r) => r.view === 'kinds')!.slot);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('larder_scheduler_runs_total{view="kinds",outcome="success"} 1');
      expect(metrics).toContain('larder_scheduler_rows_total{view="kinds"} 50');
      expect(metrics).toMatch(
        /larder_scheduler_last_success_timestamp_seconds\{view="activity"\} \d/,
      );
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      expect(out).toMatch(/kinds slot \S+ attempt 1\/1: success, 50 rows in/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 180_000);
});
