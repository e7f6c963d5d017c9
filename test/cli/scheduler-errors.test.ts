/** `larder scheduler` and `larder runs`: bad input is one error line with a hint, exit code 1. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const exec = promisify(execFile);
const tmp = tempDir();
const REPO_TS = `
import { z } from 'zod';
import { batchSource, col, count, entity, featureView } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '1d',
  materialization: { cron: '0 2 * * *', retries: 2, timeout: '2h' },
  features: { events_1h: count({ window: '1h' }) },
});
`;
const repo = tempRepo({ 'repo.ts': REPO_TS });
// The same view without `materialization`: a repository that schedules nothing.
const unscheduled = tempRepo({
  'repo.ts': REPO_TS.replace(
    "  materialization: { cron: '0 2 * * *', retries: 2, timeout: '2h' },\n",
    '',
  ),
});
afterAll(() => {
  tmp.cleanup();
  repo.cleanup();
  unscheduled.cleanup();
});

async function larder(env: Record<string, string>, ...args: string[]) {
  try {
    await exec('node', ['bin/larder.js', ...args], {
      env: { ...process.env, LARDER_HOME: `${tmp.dir}/home`, LARDER_DATA_DIR: tmp.dir, ...env },
    });
    return { code: 0, stderr: '' };
  } catch (e) {
    const x = e as { code: number; stderr: string };
    return { code: x.code, stderr: x.stderr.trim() };
  }
}

describe('larder scheduler / runs: bad input', () => {
  it('refuses bad options, a missing registry, unknown views, and a repository without schedules', async () => {
    const mine = { LARDER_REPO: repo.dir };
    // Before `apply` (independent, so at once), then after it.
    const [now, tick, port, limit, once] = await Promise.all([
      larder(mine, 'scheduler', '--now', 'now'),
      larder(mine, 'scheduler', '--tick', '0'),
      larder(mine, 'scheduler', '--metrics-port', '99999'),
      larder(mine, 'runs', '--limit', '0'),
      larder(mine, 'scheduler', '--once'),
    ]);
    expect(now).toEqual({
      code: 1,
      stderr: 'error [LARDER_BAD_REQUEST]: --now needs --once\n  hint: add --once, or drop --now',
    });
    expect(tick).toEqual({
      code: 1,
      stderr:
        'error [LARDER_BAD_REQUEST]: --tick 0: not a number of seconds ≥ 1\n  hint: e.g. --tick 30',
    });
    expect(port).toEqual({
      code: 1,
      stderr: 'error [LARDER_BAD_REQUEST]: --metrics-port 99999: not a port number',
    });
    expect(limit).toEqual({
      code: 1,
      stderr:
        'error [LARDER_BAD_REQUEST]: --limit 0: not a positive integer\n  hint: e.g. --limit 20',
    });
    expect(once).toEqual({
      code: 1,
      stderr:
        'error [LARDER_REGISTRY_NOT_APPLIED]: no registry yet\n  hint: run `larder apply` first',
    });
    expect((await larder(mine, 'apply')).code).toBe(0);
    const [views, none] = await Promise.all([
      larder(mine, 'scheduler', '--once', '--views', 'activity,nope'),
      larder({ LARDER_REPO: unscheduled.dir }, 'scheduler', '--once'),
    ]);
    expect(views).toEqual({
      code: 1,
      stderr:
        'error [LARDER_BAD_REQUEST]: --views: nope is not a scheduled view\n  hint: scheduled views: activity',
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(
      /^error \[LARDER_BAD_REQUEST\]: no view of \S+ declares materialization\n {2}hint: add materialization: \{ every: '1h' \} to a featureView or batchView$/,
    );
  }, 120_000);
});
