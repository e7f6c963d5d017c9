/**
 * `validate` on the DuckDB store: source and feature statistics, every kind of expectation
 * checked (passing and failing), the gate's pass rate, and the HTML report self-contained.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { reportHtml } from '../../quality/report-html.ts';
import { validate, validationTargets } from '../../quality/validate.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;
const DAY = 86_400_000;

const REPO = `
import { z } from 'zod';
import { batchSource, col, count, entity, featureService, featureView, last, pushSource, sum } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string().nullable(), kind: z.string(), amount: z.number(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
  expect: {
    fields: { userId: { maxNullRate: 0.2 }, kind: { allowed: ['click', 'view'] }, amount: { min: 0, max: 100 } },
    maxRejectRate: 0.5,
    minRows: { count: 2, per: '1d' },
    freshness: '2h',
  },
});
export const eventsPush = pushSource({ name: 'events_push', batchSource: events });
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') },
  filter: col('userId').isNotNull(), ttl: '30d',
  features: {
    clicks_1d: count({ where: col('kind').eq('click'), window: '1d' }),
    spend_1d: sum(col('amount'), { window: '1d' }),
    last_kind: last(col('kind')),
  },
  expect: { spend_1d: { min: 0, max: 20 }, last_kind: { notNull: true, allowed: ['click', 'view'] } },
});
export const plain = featureView({
  name: 'plain', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '1d',
  features: { n_1d: count({ window: '1d' }) },
  expect: { n_1d: { drift: { maxPsi: 0.5 } } }, // larder drift's bound: nothing for validate
});
export const svc = featureService({ name: 'svc', features: [activity, plain] });
`;

const ev = (id: string, userId: string | null, kind: string, amount: number, ts: number): string =>
  JSON.stringify({ id, userId, kind, amount, ts });

describe('validate (DuckDB)', () => {
  let repo: Repository;
  let store: DuckDBOfflineStore;
  const dirs: { cleanup: () => void }[] = [];

  beforeAll(async () => {
    const r = tempRepo({ 'repo.ts': REPO });
    const tmp = tempDir();
    dirs.push(r, tmp);
    repo = await loadRepository(r.dir);
    const data = join(tmp.dir, 'data', 'raw', 'events');
    mkdirSync(data, { recursive: true });
    const lines = [
      ev('e1', 'u1', 'click', 5, T0 + HOUR),
      ev('e2', 'u1', 'view', 30, T0 + 2 * HOUR),
      ev('e3', null, 'view', 1, T0 + 3 * HOUR),
      ev('e4', 'u2', 'buy', 7, T0 + DAY + HOUR), // a kind not allowed
      '{"id":"bad"}', // rejected: missing fields
    ];
    writeFileSync(join(data, 'part-0.jsonl'), lines.map((l) => `${l}\n`).join(''));
    store = new DuckDBOfflineStore({
      type: 'duckdb',
      dataDir: join(tmp.dir, 'data'),
      home: join(tmp.dir, 'home'),
      memoryLimit: '1GB',
      threads: 1,
    });
    await store.init();
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    for (const d of dirs) d.cleanup();
  });

  it('targets: a source, a push source (its batch source), a view, a service, all with expect', () => {
    expect(validationTargets(repo, { source: 'events_push' })).toEqual({
      sources: ['events'],
      views: [],
    });
    expect(validationTargets(repo, { view: 'plain' })).toEqual({
      sources: ['events'],
      views: ['plain'],
    });
    expect(validationTargets(repo, { service: 'svc' })).toEqual({
      sources: ['events'],
      views: ['activity', 'plain'],
    });
    expect(validationTargets(repo, { all: true })).toEqual({
      sources: ['events'],
      views: ['activity'],
    });
    expect(() => validationTargets(repo, { view: 'nope' })).toThrow(/unknown feature view "nope"/);
    expect(() => validationTargets(repo, { source: 'nope' })).toThrow(/unknown source "nope"/);
  });

  it('checks every expectation against the statistics; the gate uses the pass rate', async () => {
    const r = await validate(store, repo, {
      target: { all: true },
      start: T0,
      end: T0 + 2 * DAY,
      everyMs: 12 * HOUR,
    });
    const verdict = Object.fromEntries(
      r.checks.map((c) => [`${c.object} ${c.subject ?? '-'} ${c.expectation}`, c.passed]),
    );
    expect(verdict).toEqual({
      'batch_source:events userId maxNullRate': false, // 1 of 4
      'batch_source:events kind allowed': false, // buy
      'batch_source:events amount min': true,
      'batch_source:events amount max': true,
      'batch_source:events - maxRejectRate': true, // 1 of 5
      'batch_source:events - minRows': false, // the second day has 1
      'batch_source:events - freshness': false, // newest is 23h old at the end
      'feature_view:activity spend_1d min': true,
      'feature_view:activity spend_1d max': false, // u1 spends 35 in a day
      'feature_view:activity last_kind maxNullRate': false, // u2 before its first event
      'feature_view:activity last_kind allowed': false, // buy
    });
    const rejects = r.checks.find((c) => c.expectation === 'maxRejectRate')!;
    expect(rejects.actual).toBe('20% (1 of 5)');
    const rows = r.checks.find((c) => c.expectation === 'minRows')!;
    expect(rows.actual).toBe('1 of 2 periods under; fewest 1 from 2024-01-02T00:00:00.000Z');
    expect(r.passRate).toBeCloseTo(4 / 11, 12);
    expect(r.passed).toBe(false);
    // Feature statistics over the grid: 2 users × 4 times (T0, +12h, +24h, +36h).
    expect(r.views).toHaveLength(1);
    expect(r.views[0]!.rows).toBe(8);
    const spend = r.views[0]!.features.find((f) => f.name === 'spend_1d')!;
    expect(spend).toMatchObject({ min: 0, max: 35 });
    expect(r.sources[0]!.rejects).toHaveLength(1);

    const lenient = await validate(store, repo, {
      target: { all: true },
      start: T0,
      end: T0 + 2 * DAY,
      everyMs: 12 * HOUR,
      failUnder: 0.25,
    });
    expect(lenient.passed).toBe(true);
  });

  it('a view without expectations: statistics only, no checks, passes', async () => {
    const r = await validate(store, repo, {
      target: { view: 'plain' },
      start: T0,
      end: T0 + DAY,
      everyMs: 6 * HOUR,
    });
    expect(r.views[0]!.features[0]).toMatchObject({ name: 'n_1d', type: 'int64' });
    // The source's expectations are checked with it (the view brings its source).
    expect(r.checks.every((c) => c.object === 'batch_source:events')).toBe(true);
  });

  it('the HTML report is one self-contained page with inline SVG charts', async () => {
    const r = await validate(store, repo, {
      target: { all: true },
      start: T0,
      end: T0 + 2 * DAY,
      everyMs: 12 * HOUR,
    });
    const html = reportHtml(r);
    expect(html).toContain('Larder validation: <span class="FAILED">FAILED</span>');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src=|href=/);
    expect(html).toContain('Feature view activity');
  });
});
