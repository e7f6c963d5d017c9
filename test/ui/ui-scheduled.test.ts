/** `/ui/api/freshness` `scheduled`: per view with a materialization schedule, next and last runs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../core/duration.ts';
import { recordEnd, recordStart } from '../../scheduler/run-history.ts';
import { serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { tempRepo } from '../support/temp-repo.ts';
import { SCHEDULED_REPO } from './scheduled-repo.ts';

const repo = tempRepo({ 'repo.ts': SCHEDULED_REPO });
let s: Served;
beforeAll(async () => {
  s = await serveRepo(repo.dir);
  const base = { view: 'activity', attempts: 3, scheduler: 'h:1:a' };
  recordStart(s.home, {
    ...base,
    id: 'a',
    slot: T0 - HOUR_MS,
    attempt: 1,
    start: T0 - HOUR_MS + 5,
  });
  recordEnd(s.home, {
    id: 'a',
    end: T0 - HOUR_MS + 900,
    outcome: 'success',
    rows: 12,
    error: null,
  });
  recordStart(s.home, { ...base, id: 'b', slot: T0, attempt: 1, start: T0 + 5 });
  recordEnd(s.home, { id: 'b', end: T0 + 800, outcome: 'failed', rows: null, error: 'boom' });
});
afterAll(async () => {
  await s?.close();
  repo.cleanup();
});

describe('/ui/api/freshness: scheduled', () => {
  it('lists the scheduled views with their next slot and last run', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/ui/api/freshness' });
    expect(res.statusCode, res.body).toBe(200);
    const now = res.json().now as number;
    expect(res.json().scheduled).toEqual([
      {
        view: 'activity',
        kind: 'feature_view',
        everyMs: HOUR_MS,
        offsetMs: 0,
        cron: null,
        nextRun: Math.floor(now / HOUR_MS) * HOUR_MS + HOUR_MS,
        lastRun: {
          slot: T0,
          attempt: 1,
          attempts: 3,
          start: T0 + 5,
          end: T0 + 800,
          outcome: 'failed',
          rows: null,
          error: 'boom',
        },
        lastSuccessAt: T0 - HOUR_MS + 900,
      },
      {
        view: 'counts',
        kind: 'batch_view',
        everyMs: DAY_MS,
        offsetMs: 2 * HOUR_MS,
        cron: '0 2 * * *',
        nextRun: Math.floor((now - 2 * HOUR_MS) / DAY_MS) * DAY_MS + 2 * HOUR_MS + DAY_MS,
        lastRun: null,
        lastSuccessAt: null,
      },
    ]);
  });
});
