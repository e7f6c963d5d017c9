/**
 * `larder materialize-incremental` told that another run committed a view while it ran
 * (`registry/watermark-commit.ts`), end to end: its human line and its `--json` field
 * `overlapped`, as docs/cli.md states them. Two CLI processes interleaved deterministically on a
 * private redis-server: the test holds the registry lock (so the slow run cannot commit), waits
 * until the slow run has written tiles (so it read the registry), stops it (SIGSTOP), releases
 * the lock, runs the fast run to the end, and lets the slow run go on (SIGCONT).
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKey } from '../../online/redis/redis-keys.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { redisCli, startRedisServer, type LocalRedis } from '../support/redis-server.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const exec = promisify(execFile);
const MIN = 60_000;
const HOUR = 60 * MIN;
// Recent, hour-aligned: the online store drops tiles whose windows ended (by the wall clock).
const H = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const W0 = H - 10 * MIN; // the watermark both runs read
const T1 = H + 20 * MIN; // the slow run's end
const T2 = H + 80 * MIN; // the fast run's end

let redis: LocalRedis;
const repo = tempRepo({ 'repo.ts': BASE_REPO });
const tmp = tempDir();
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.close();
  repo.cleanup();
  tmp.cleanup();
});

/** A project of its own (home, data, namespace), materialized up to W0. */
async function project(name: string) {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, 'data/raw/events'), { recursive: true });
  writeFileSync(
    join(dir, 'data/raw/events/events.jsonl'),
    (
      [
        ['e1', 1, H - 30 * MIN],
        ['e2', 10, H + 10 * MIN],
        ['e3', 1000, H + 40 * MIN],
        ['e4', 100, H + 70 * MIN],
      ] as const
    )
      .map(
        ([id, amount, ts]) =>
          `${JSON.stringify({ id, userId: 'u1', kind: 'click', amount, ts })}\n`,
      )
      .join(''),
  );
  const namespace = `test-${randomUUID()}`;
  const env = {
    ...process.env,
    LARDER_REPO: repo.dir,
    LARDER_HOME: join(dir, 'home'),
    LARDER_DATA_DIR: join(dir, 'data'),
    LARDER_ONLINE_STORE: redis.url,
    LARDER_NAMESPACE: namespace,
  };
  const larder = (...args: string[]) => exec('node', ['bin/larder.js', ...args], { env });
  await larder('apply');
  await larder('materialize-incremental', '--end', String(W0), '--views', 'activity');
  const key = redisKey(namespace, 'activity', 'u1');
  return { env, larder, home: join(dir, 'home'), key };
}

/** The slow run (`args`) racing a fast one to T2; its stdout. */
async function race(p: Awaited<ReturnType<typeof project>>, args: string[]): Promise<string> {
  const fields = (): number => Number(redisCli(redis.port, 'hlen', p.key).trim());
  const before = fields();
  const lock = join(p.home, 'registry.lock');
  closeSync(openSync(lock, 'wx')); // the slow run cannot commit until it is released
  let out = '';
  let err = '';
  const slow = spawn('node', ['bin/larder.js', 'materialize-incremental', ...args], {
    env: p.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  slow.stdout.on('data', (d: Buffer) => (out += String(d)));
  slow.stderr.on('data', (d: Buffer) => (err += String(d)));
  const exited = new Promise<number | null>((r) => slow.once('exit', r));
  try {
    // Its tiles of [W0, T1] written: it read the registry, and waits for the lock to commit.
    while (fields() === before) {
      if (slow.exitCode !== null) throw new Error(`the slow run ended: ${err}`);
      await sleep(20);
    }
    process.kill(slow.pid!, 'SIGSTOP');
  } finally {
    rmSync(lock, { force: true });
  }
  try {
    const fast = await p.larder(
      'materialize-incremental',
      '--end',
      String(T2),
      '--views',
      'activity',
      '--json',
    );
    // The fast run overlapped nothing: `[]`.
    expect(JSON.parse(fast.stdout)).toMatchObject({ overlapped: [] });
    expect(readRegistry(p.home)!.watermarks).toEqual({ activity: T2 });
  } finally {
    process.kill(slow.pid!, 'SIGCONT');
  }
  expect(await exited, err).toBe(0);
  expect(readRegistry(p.home)!.watermarks).toEqual({ activity: T2 });
  return out;
}

describe('larder materialize-incremental overlapped by another run', () => {
  it('prints the line docs/cli.md states', async () => {
    const p = await project('human');
    const out = await race(p, ['--end', String(T1), '--views', 'activity']);
    const iso = (t: number): string => new Date(t).toISOString();
    expect(out).toContain(
      `activity: another run committed it while this one ran: materialized again from ${iso(H - HOUR)} to ${iso(T2)}\n`,
    );
    // The summary table shows the second pass's range.
    expect(out).toMatch(new RegExp(`activity\\s+${iso(H - HOUR)}\\s+${iso(T2)}`));
  }, 180_000);

  it('--json: "overlapped" lists the view with the range materialized again', async () => {
    const p = await project('json');
    const summary = JSON.parse(
      await race(p, ['--end', String(T1), '--views', 'activity', '--json']),
    ) as {
      end: number;
      views: { view: string; start: number; end: number }[];
      skipped: unknown[];
      overlapped: unknown[];
    };
    expect(summary.end).toBe(T1);
    expect(summary.overlapped).toEqual([{ view: 'activity', start: H - HOUR, end: T2 }]);
    expect(summary.views).toMatchObject([{ view: 'activity', start: H - HOUR, end: T2 }]);
    expect(summary.skipped).toEqual([]);
  }, 180_000);
});
