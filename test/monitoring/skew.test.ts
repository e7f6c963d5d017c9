/**
 * `larder skew`'s report: served rows logged by `serve`, recomputed offline at their logged
 * times. A deliberate skew — events pushed to the online store only — shows as differing values
 * of exactly the rows (and features) it touched.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import { openFeatureLog } from '../../monitoring/open-feature-log.ts';
import { compareSkew, skewReport, skewReportPath } from '../../monitoring/skew.ts';
import { valuesEqual } from '../../monitoring/values-equal.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { tempRepo } from '../support/temp-repo.ts';

export const LOGGED_REPO =
  PUSH_REPO.replace('import { pushSource,', 'import { featureService, pushSource,') +
  `
export const logged = featureService({ name: 'logged', features: [activity], logging: {} });
export const quiet = featureService({ name: 'quiet', features: [activity] });
`;

/** No service here logs to Kafka: the Kafka sink never connects. */
const LAZY_KAFKA = { brokers: ['127.0.0.1:9092'], clientId: 'test' };

let s: Served;
let repo: { dir: string; cleanup: () => void };

const push = async (
  df: Record<string, unknown[]>,
  to: 'online' | 'online_and_offline',
): Promise<void> => {
  const r = await s.app.inject({
    method: 'POST',
    url: '/push',
    payload: { push_source_name: 'events_push', df, to },
  });
  expect(r.statusCode, r.body).toBe(200);
};

beforeAll(async () => {
  repo = tempRepo({ 'features.ts': LOGGED_REPO });
  s = await serveRepo(repo.dir);
  s.ctx.featureLog = openFeatureLog(
    { dataDir: join(s.home, 'data'), kafka: LAZY_KAFKA },
    s.ctx.metrics,
    (e) => {
      throw e;
    },
  );
  // u1's events reach both stores; u2's only the online store (a batch never written offline).
  await push(
    {
      id: ['a', 'b'],
      userId: ['u1', 'u1'],
      kind: ['click', 'view'],
      amount: [2.5, 4],
      ts: [T0 - 60_000, T0 - 30_000],
    },
    'online_and_offline',
  );
  await push(
    { id: ['c'], userId: ['u2'], kind: ['click'], amount: [10], ts: [T0 - 20_000] },
    'online',
  );
  for (const users of [['u1', 'u2'], ['u1']]) {
    const r = await s.app.inject({
      method: 'POST',
      url: '/get-online-features',
      payload: { feature_service: 'logged', entities: { user_id: users } },
    });
    expect(r.statusCode, r.body).toBe(200);
  }
  await s.ctx.featureLog.drain();
});
afterAll(async () => {
  await s?.close();
  repo?.cleanup();
});

const config = (): ReturnType<typeof resolveConfig> =>
  resolveConfig({ home: s.home, dataDir: join(s.home, 'data'), repo: repo.dir }, s.home, {});

describe('skew report', () => {
  it('reports the rows pushed online only as differing, per feature, with examples', async () => {
    const report = await skewReport({
      config: config(),
      repo: s.repo,
      service: 'logged',
      start: T0 - 1,
      end: T0 + 1,
    });
    expect(report.rows).toBe(3);
    expect(report.features.map((f) => [f.feature, f.compared, f.differing])).toEqual([
      ['clicks_1h', 3, 1],
      ['spend_7d', 3, 1],
      ['last_kind', 3, 1],
    ]);
    expect(report.features[0]!.share).toBeCloseTo(1 / 3, 12);
    const ex = report.features.map((f) => f.examples);
    expect(
      ex.map((e) => e.map((x) => [x.entities.user_id, x.served, x.offline, x.status])),
    ).toEqual([
      [['u2', 1, 0, 'PRESENT']],
      [['u2', 10, 0, 'PRESENT']],
      [['u2', 'click', null, 'PRESENT']],
    ]);
    expect(ex[0]![0]!.at).toBe(new Date(T0).toISOString());
  });

  it('reports no rows outside the logged window, and refuses a service without logging', async () => {
    const empty = await skewReport({
      config: config(),
      repo: s.repo,
      service: 'logged',
      start: T0 + 1,
      end: T0 + 60_000,
    });
    expect(empty).toMatchObject({ rows: 0, features: [] });
    await expect(
      skewReport({ config: config(), repo: s.repo, service: 'quiet', start: 0, end: T0 }),
    ).rejects.toMatchObject({ code: 'LARDER_BAD_REQUEST' });
    await expect(
      skewReport({ config: config(), repo: s.repo, service: 'nope', start: 0, end: T0 }),
    ).rejects.toMatchObject({ code: 'LARDER_NOT_FOUND' });
  });
});

async function larder(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, LARDER_HOME: s.home, LARDER_DATA_DIR: join(s.home, 'data') };
  try {
    const r = await promisify(execFile)('node', ['bin/larder.js', ...args, '--repo', repo.dir], {
      env,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('larder skew', () => {
  it('prints the report (JSON, and a table with examples) and keeps the newest for the dashboard', async () => {
    const window = ['--service', 'logged', '--start', String(T0 - 1), '--end', String(T0 + 1)];
    const json = await larder(['skew', ...window, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ service: 'logged', rows: 3 });
    expect(report.features.map((f: { differing: number }) => f.differing)).toEqual([1, 1, 1]);
    expect(JSON.parse(readFileSync(skewReportPath(s.home, 'logged'), 'utf8'))).toEqual(report);
    const text = await larder(['skew', ...window, '--examples', '1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain('skew of logged: 3 logged rows');
    expect(text.stdout).toMatch(/^feature\s+compared\s+differing\s+share\n/);
    expect(text.stdout).toMatch(/clicks_1h\s+3\s+1\s+33\.33%/);
    expect(text.stdout).toContain(
      `spend_7d at ${new Date(T0).toISOString()} {"user_id":"u2"}: served 10 (PRESENT), offline 0`,
    );
  });

  it.each([
    [['--start', '2026-01-02', '--end', '2026-01-01'], '--end must be after --start'],
    [
      ['--start', '2026-01-01', '--end', '2026-01-02', '--examples', 'x'],
      '--examples "x": not a count',
    ],
    [['--start', 'soon', '--end', '2026-01-02'], '--start "soon"'],
  ])('refuses %j with one error line (and a hint)', async (args, message) => {
    const r = await larder(['skew', '--service', 'logged', ...args]);
    expect(r.code).not.toBe(0);
    const [first, ...rest] = r.stderr.trim().split('\n');
    expect(first).toMatch(/^error \[LARDER_BAD_REQUEST\]: /);
    expect(first).toContain(message);
    expect(rest.every((l) => l.startsWith('  hint: '))).toBe(true);
  });
});

describe('GET /ui/api/skew', () => {
  it('answers the newest report of each service that larder skew kept', async () => {
    const report = await skewReport({
      config: config(),
      repo: s.repo,
      service: 'logged',
      start: T0 - 1,
      end: T0 + 1,
    });
    mkdirSync(dirname(skewReportPath(s.home, 'logged')), { recursive: true });
    writeFileSync(skewReportPath(s.home, 'logged'), JSON.stringify(report));
    writeFileSync(join(dirname(skewReportPath(s.home, 'logged')), 'broken.json'), '{');
    const res = await s.app.inject({ method: 'GET', url: '/ui/api/skew' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ reports: [report] });
  });
});

describe('compareSkew and valuesEqual', () => {
  it('counts a feature only where it was served, and compares numbers, lists and nulls', () => {
    const r = compareSkew(
      [
        {
          requestId: 'r',
          row: 0,
          t: 0,
          entities: {},
          values: { a: 0.1 + 0.2, b: [1, 2] },
          statuses: {},
        },
        { requestId: 'r', row: 1, t: 0, entities: {}, values: { a: null }, statuses: {} },
      ],
      [{ a: 0.3, b: [1, 3] }, { a: 0 }],
    );
    expect(r.features.map((f) => [f.feature, f.compared, f.differing])).toEqual([
      ['a', 2, 1],
      ['b', 1, 1],
    ]);
    expect(valuesEqual(1, 1 + 1e-12)).toBe(true);
    expect(valuesEqual(1, 1.001)).toBe(false);
    expect(valuesEqual(null, undefined)).toBe(true);
    expect(valuesEqual('x', 'x')).toBe(true);
    expect(valuesEqual(true, 1)).toBe(false);
  });
});
