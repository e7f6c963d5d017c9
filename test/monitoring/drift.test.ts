/**
 * `larder drift`: a reference export against the values a logged service served. The served
 * spend is shifted from the reference's, the click counts and kinds are not.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEvaluator } from '../../alerts/alert-evaluator.ts';
import { alertStatePath } from '../../alerts/alert-state.ts';
import { projectSignals } from '../../alerts/signal-reader.ts';
import { resolveConfig } from '../../config/config.ts';
import { driftHtml } from '../../monitoring/drift-html.ts';
import { driftReport, featureDrift } from '../../monitoring/drift.ts';
import { openFeatureLog } from '../../monitoring/open-feature-log.ts';
import { PUSH_REPO, serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { tempRepo } from '../support/temp-repo.ts';

const REPO =
  PUSH_REPO.replace('import { pushSource,', 'import { featureService, pushSource,') +
  `
export const logged = featureService({ name: 'logged', features: [activity], logging: {} });
export const plain = featureService({ name: 'plain', features: [activity] });
`;
/** No service here logs to Kafka: the Kafka sink never connects. */
const LAZY_KAFKA = { brokers: ['127.0.0.1:9092'], clientId: 'test' };
const USERS = Array.from({ length: 20 }, (_, i) => `u${i}`);

let s: Served;
let repo: { dir: string; cleanup: () => void };
let reference: string;

beforeAll(async () => {
  repo = tempRepo({ 'features.ts': REPO });
  s = await serveRepo(repo.dir);
  s.ctx.featureLog = openFeatureLog(
    { dataDir: join(s.home, 'data'), kafka: LAZY_KAFKA },
    s.ctx.metrics,
    (e) => {
      throw e;
    },
  );
  const r = await s.app.inject({
    method: 'POST',
    url: '/push',
    payload: {
      push_source_name: 'events_push',
      df: {
        id: USERS.map((u) => `e-${u}`),
        userId: USERS,
        kind: USERS.map(() => 'click'),
        amount: USERS.map((_, i) => i),
        ts: USERS.map(() => T0 - 60_000),
      },
      to: 'online',
    },
  });
  expect(r.statusCode, r.body).toBe(200);
  const read = await s.app.inject({
    method: 'POST',
    url: '/get-online-features',
    payload: { feature_service: 'logged', entities: { user_id: USERS } },
  });
  expect(read.statusCode, read.body).toBe(200);
  await s.ctx.featureLog.drain();
  // The training export: the same counts and kinds, spend 100 higher.
  reference = join(s.home, 'train.jsonl');
  writeFileSync(
    reference,
    USERS.map((u, i) =>
      JSON.stringify({
        user_id: u,
        event_timestamp: T0,
        clicks_1h: 1,
        spend_7d: 100 + i,
        last_kind: 'click',
      }),
    ).join('\n') + '\n',
  );
});
afterAll(async () => {
  await s?.close();
  repo?.cleanup();
});

describe('drift', () => {
  it('flags the shifted feature by PSI and KS, not the unchanged ones', async () => {
    const r = await driftReport({
      config: { dataDir: join(s.home, 'data') },
      repo: s.repo,
      service: 'logged',
      reference: { type: 'file', path: reference },
      current: { type: 'logs', start: T0 - 1, end: T0 + 1 },
    });
    expect(r.thresholds).toEqual({ psi: 0.2, p: 0.01 });
    expect(r.reference).toEqual({ type: 'file', path: reference });
    expect(r.current).toEqual({
      type: 'logs',
      start: new Date(T0 - 1).toISOString(),
      end: new Date(T0 + 1).toISOString(),
    });
    const by = Object.fromEntries(r.features.map((f) => [f.feature, f]));
    expect(by.clicks_1h).toMatchObject({
      kind: 'numeric',
      test: 'ks',
      referenceCount: 20,
      currentCount: 20,
      psi: 0,
      statistic: 0,
      pValue: 1,
      drifted: false,
    });
    expect(by.spend_7d).toMatchObject({ kind: 'numeric', statistic: 1, drifted: true });
    expect(by.spend_7d!.pValue).toBeLessThan(1e-6);
    expect(by.spend_7d!.psi).toBeGreaterThan(0.2);
    // One category in both samples: PSI 0, no test (p n/a), no drift.
    expect(by.last_kind).toMatchObject({ kind: 'categorical', test: 'chi_square', psi: 0 });
    expect(by.last_kind!.pValue).toBeNaN();
    expect(by.last_kind!.drifted).toBe(false);

    const html = driftHtml(r);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|<link|src=/);
    expect(html).toContain('<tr class="drift"><td>spend_7d</td>');
  });

  it('refuses a reference DuckDB cannot read', async () => {
    const bad = join(s.home, 'nope.parquet');
    writeFileSync(bad, 'not parquet');
    await expect(
      driftReport({
        config: { dataDir: join(s.home, 'data') },
        repo: s.repo,
        service: 'logged',
        reference: { type: 'file', path: bad },
        current: { type: 'logs', start: T0 - 1, end: T0 + 1 },
      }),
    ).rejects.toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      message: `--reference ${bad}: cannot be read`,
      detail: { reason: 'malformed_file' },
    });
  });

  it('refuses the served values of a service without logging', async () => {
    await expect(
      driftReport({
        config: { dataDir: join(s.home, 'data') },
        repo: s.repo,
        service: 'plain',
        reference: { type: 'file', path: reference },
        current: { type: 'logs', start: T0 - 1, end: T0 + 1 },
      }),
    ).rejects.toMatchObject({
      code: 'LARDER_BAD_REQUEST',
      message: 'feature service "plain" is not logged',
    });
  });

  it('a window without served values compares nothing: no PSI, no test, no drift', async () => {
    const r = await driftReport({
      config: { dataDir: join(s.home, 'data') },
      repo: s.repo,
      service: 'logged',
      reference: { type: 'file', path: reference },
      current: { type: 'logs', start: T0 + 1, end: T0 + 2 },
    });
    expect(r.features).toHaveLength(3);
    for (const f of r.features) {
      expect(f).toMatchObject({ referenceCount: 20, currentCount: 0, drifted: false });
      expect(f.psi).toBeNaN();
      expect(f.pValue).toBeNaN();
    }
  });

  it('uses the thresholds it is given', () => {
    const f = featureDrift('x', 'categorical', ['a', 'a', 'b', 'b'], ['a', 'a', 'a', 'b'], {
      psi: 0.1,
      p: 0.01,
    });
    // Shares 0.5/0.5 → 0.75/0.25: PSI = 0.25·ln 1.5 − 0.25·ln 0.5 = 0.2747 > 0.1.
    expect(f.psi).toBeCloseTo(0.25 * Math.log(1.5) - 0.25 * Math.log(0.5), 12);
    expect(f.drifted).toBe(true);
    expect(featureDrift('x', 'categorical', ['a', 'b'], ['a', 'b']).drifted).toBe(false);
  });

  it('larder drift prints JSON and writes the HTML page; bad thresholds are refused', async () => {
    const env = { ...process.env, LARDER_HOME: s.home, LARDER_DATA_DIR: join(s.home, 'data') };
    const html = join(s.home, 'drift.html');
    const args = ['bin/larder.js', 'drift', '--service', 'logged', '--reference', reference];
    const window = ['--start', String(T0 - 1), '--end', String(T0 + 1), '--repo', repo.dir];
    const r = await promisify(execFile)('node', [...args, ...window, '--json', '--html', html], {
      env,
    });
    const report = JSON.parse(r.stdout);
    expect(report.features.map((f: { drifted: boolean }) => f.drifted)).toEqual([
      false,
      true,
      false,
    ]);
    expect(readFileSync(html, 'utf8')).toContain('Drift of logged');
    const bad = await promisify(execFile)('node', [...args, ...window, '--psi-threshold', '-1'], {
      env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).not.toBe(0);
    expect((bad as { stderr: string }).stderr).toMatch(
      /^error \[LARDER_BAD_REQUEST\]: --psi-threshold "-1": not a positive number/,
    );
  });
});

describe('a drift alert rule (docs/monitoring.md "Alerts")', () => {
  it('fires per drifted feature of the service over the logged window', async () => {
    const config = resolveConfig(
      {
        home: join(s.home, 'alerts-home'),
        dataDir: join(s.home, 'data'),
        alerts: {
          rules: [{ name: 'drift', signal: 'drift', service: 'logged', reference, window: '1h' }],
        },
      },
      s.home,
      {},
    );
    const signals = projectSignals(config, s.repo);
    const ev = new AlertEvaluator({
      alerts: config.alerts!,
      statePath: alertStatePath(config.home),
      read: signals.read,
      destinations: [],
      clock: () => T0 + 1000,
    });
    const r = await ev.evaluate();
    await signals.close();
    expect(r.errors).toEqual([]);
    expect(r.fired.map((a) => a.fingerprint)).toEqual(['drift{feature=spend_7d,service=logged}']);
    expect(r.fired[0]!.summary).toMatch(
      /^spend_7d of logged: PSI \d+\.\d{4} \(at most 0\.2\), ks p \S+ \(at least 0\.01\) over 20 served value\(s\)$/,
    );
  });
});
