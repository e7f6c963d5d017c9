/**
 * `GET /ui/api/alerts` (the dashboard's Alerts tab) lists what the evaluator's state file holds,
 * whichever process evaluated: firing, pending and recently resolved alerts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEvaluator } from '../../alerts/alert-evaluator.ts';
import { alertStatePath } from '../../alerts/alert-state.ts';
import type { AlertRule } from '../../config/alerts-config.ts';
import { serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';

let s: Served;
let repo: { dir: string; cleanup: () => void };
beforeAll(async () => {
  repo = tempRepo({ 'repo.ts': BASE_REPO });
  s = await serveRepo(repo.dir);
});
afterAll(async () => {
  await s?.close();
  repo?.cleanup();
});

const get = async () => s.app.inject({ method: 'GET', url: '/ui/api/alerts' });

describe('GET /ui/api/alerts', () => {
  it('is empty before any evaluation', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ evaluatedAt: null, firing: [], pending: [], resolved: [] });
  });

  it('lists firing, pending and resolved alerts from the state file', async () => {
    const rules = [
      { name: 'stale', signal: 'freshness', severity: 'critical', maxAge: '1h', forMs: 0 },
      { name: 'slow', signal: 'freshness', severity: 'info', maxAge: '1h', forMs: 3_600_000 },
    ] as AlertRule[];
    let now = T0;
    let ages: Record<string, number> = { a: 7_200_000, b: 7_200_000 };
    const ev = new AlertEvaluator({
      alerts: { rules, keepResolvedMs: 86_400_000 },
      statePath: alertStatePath(s.home),
      read: async (rule) =>
        Object.entries(ages).map(([view, age]) => ({
          labels: { view },
          value: age,
          threshold: 3_600_000,
          breached: age > 3_600_000,
          summary: `${view} is ${age} ms old (${rule.name})`,
        })),
      destinations: [],
      clock: () => now,
    });
    await ev.evaluate();
    ages = { a: 7_200_000, b: 0 };
    now += 60_000;
    await ev.evaluate();
    const body = (await get()).json();
    expect(body.evaluatedAt).toBe(now);
    expect(body.firing.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([
      'stale{view=a}',
    ]);
    expect(body.firing[0]).toMatchObject({
      rule: 'stale',
      severity: 'critical',
      labels: { view: 'a' },
      status: 'firing',
      firedAt: T0,
      summary: 'a is 7200000 ms old (stale)',
    });
    expect(body.pending.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([
      'slow{view=a}',
    ]);
    expect(
      body.resolved.map((a: { fingerprint: string; resolvedAt: number }) => [
        a.fingerprint,
        a.resolvedAt,
      ]),
    ).toEqual([['stale{view=b}', now]]);
  });

  it('a state file that is not valid: 500 LARDER_CONFIG_INVALID with a hint', async () => {
    mkdirSync(dirname(alertStatePath(s.home)), { recursive: true });
    writeFileSync(alertStatePath(s.home), '{');
    const res = await get();
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toMatchObject({
      code: 'LARDER_CONFIG_INVALID',
      message: expect.stringMatching(/^the alert state file .*state\.json is not valid$/),
      hint: 'remove it: alerts firing now fire again on the next evaluation',
    });
  });
});
