import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../core/duration.ts';
import { DefinitionError } from '../../core/errors.ts';
import { snapshotAt } from '../../definitions/batch/batch-view-spec.ts';
import { parseCron } from '../../definitions/batch/cron.ts';
import { portableSqlProblems, querySql } from '../../definitions/batch/portable-sql.ts';
import { loadRepository } from '../../definitions/load.ts';
import { describeBatchView } from '../../cli/commands/describe-batch-view.ts';
import { validateBatchViews } from '../../offline/duckdb/batch-snapshots.ts';
import { applyRepository } from '../../registry/apply.ts';
import { plan } from '../../registry/plan.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const view = (over: string): string => `
import { batchView, col, featureService } from 'larder';
import { events, user } from './repo.ts';
export const spend = batchView({
  name: 'spend', entities: [user], source: events,
  columns: { user_id: col('userId'), amount: col('amount') },
  window: '7d', every: '1d', ttl: '1d',
  query: 'SELECT user_id, SUM(amount) AS spend_7d, COUNT(*) AS orders FROM source GROUP BY user_id',
  features: { spend_7d: 'float64', orders: 'int64' },
  ${over}
});
export const svc = featureService({ name: 'svc', features: [spend] });
`;

async function load(text: string) {
  const r = tempRepo({ 'repo.ts': BASE_REPO, 'batch.ts': text });
  cleanups.push(r.cleanup);
  return loadRepository(r.dir);
}
async function problems(text: string): Promise<DefinitionError['problems']> {
  const err = await load(text)
    .then(validateBatchViews)
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(DefinitionError);
  return (err as DefinitionError).problems;
}

describe('batch views: definitions', () => {
  it('the e-commerce repository defines user_segments, product_popularity and batch_v1', async () => {
    const repo = await loadRepository('examples/ecommerce/features');
    const seg = repo.batchViews.get('user_segments')!.spec;
    expect(seg.features.map((f) => [f.name, f.type])).toEqual([
      ['recency_days', 'int64'],
      ['frequency_30d', 'int64'],
      ['monetary_30d', 'float64'],
      ['segment', 'string'],
    ]);
    expect([seg.windowMs, seg.schedule]).toEqual([
      30 * DAY_MS,
      { everyMs: DAY_MS, offsetMs: 0, cron: null },
    ]);
    expect(repo.batchViews.get('product_popularity')!.spec.windowMs).toBe(7 * DAY_MS);
    const fs = repo.resolveFeatures({ service: 'batch_v1' });
    expect(fs.map((f) => `${f.view}:${f.feature}`)).toEqual([
      'user_segments:recency_days',
      'user_segments:frequency_30d',
      'user_segments:monetary_30d',
      'user_segments:segment',
      'product_popularity:popularity_score',
      'product_popularity:distinct_viewers_7d',
    ]);
    expect(fs.every((f) => f.batch === true && !f.onDemand)).toBe(true);
    await expect(validateBatchViews(repo)).resolves.toBeUndefined();
  });

  it('larder describe shows the schedule, window, columns, filter and query', async () => {
    const repo = await loadRepository('examples/ecommerce/features');
    const lines = describeBatchView(repo.batchViews.get('user_segments')!.spec);
    expect(lines.slice(0, 5)).toEqual([
      '  entities: user   source: transactions   ttl: 1d',
      '  snapshots: every 1d, each over [D − 30d, D)',
      '  columns: user_id = userId, total_amount = totalAmount, ts',
      '  filter: status = "completed"',
      '  features: recency_days (int64), frequency_30d (int64), monetary_30d (float64), segment (string)',
    ]);
    expect(lines).toContain('      FROM source');
  });

  it('snapshotAt: the latest D <= t; a record at exactly D belongs to the next snapshot', () => {
    const s = { everyMs: DAY_MS, offsetMs: 0 };
    const D = Date.UTC(2024, 1, 10);
    expect(snapshotAt(s, D)).toBe(D);
    expect(snapshotAt(s, D - 1)).toBe(D - DAY_MS);
    expect(snapshotAt(s, D + DAY_MS - 1)).toBe(D);
    expect(snapshotAt({ everyMs: DAY_MS, offsetMs: 6 * 3_600_000 }, D)).toBe(
      D - DAY_MS + 6 * 3_600_000,
    );
    expect(querySql('SELECT @snapshot_ms - MAX(ts) FROM source', D)).toBe(
      `SELECT CAST(${D} AS BIGINT) - MAX(ts) FROM source`,
    );
  });

  it('fixed-period crons become every + offset (UTC); others are refused', async () => {
    const H = 3_600_000;
    expect(parseCron('*/15 * * * *')).toEqual({ everyMs: 15 * 60_000, offsetMs: 0 });
    expect(parseCron('5 * * * *')).toEqual({ everyMs: H, offsetMs: 5 * 60_000 });
    expect(parseCron('0 */6 * * *')).toEqual({ everyMs: 6 * H, offsetMs: 0 });
    expect(parseCron('30 2 * * *')).toEqual({ everyMs: DAY_MS, offsetMs: 2.5 * H });
    // Monday 03:00: the epoch was a Thursday, Monday is 4 days later.
    const weekly = parseCron('0 3 * * 1') as { everyMs: number; offsetMs: number };
    expect(new Date(snapshotAt(weekly, Date.UTC(2024, 1, 14))).toISOString()).toBe(
      '2024-02-12T03:00:00.000Z',
    );
    for (const bad of ['0 2,14 * * *', '0 0 1 * *', '*/7 * * * *', '0 3 * *'])
      expect(parseCron(bad)).toHaveProperty('error');
    const repo = await load(view(`cron: '30 2 * * *',`).replace(`every: '1d', `, ''));
    expect(repo.batchViews.get('spend')!.spec.schedule).toEqual({
      everyMs: DAY_MS,
      offsetMs: 2.5 * H,
      cron: '30 2 * * *',
    });
    const p = await problems(view(`cron: '0 0 1 * *',`));
    expect(p.map((x) => x.field)).toEqual(['cron', 'cron']);
  });

  it('the portable SQL lint refuses what one dialect reads differently, not string contents', () => {
    const msgs = (q: string): string[] => portableSqlProblems(q).map((p) => p.message);
    expect(msgs(`SELECT "user_id" FROM source`)[0]).toMatch(/double quotes/);
    expect(msgs('SELECT user_id, n::DOUBLE AS x FROM source')[0]).toMatch(/DuckDB only/);
    expect(msgs('SELECT COUNTIF(x) AS n FROM source')[0]).toMatch(/one dialect only/);
    expect(msgs('SELECT a // 2 AS n FROM source')[0]).toMatch(/integer division/);
    expect(msgs('SELECT 1 AS n FROM t')).toEqual(['the query does not read the relation "source"']);
    expect(msgs(`SELECT user_id FROM source WHERE kind = 'a "quoted"; x::y'`)).toEqual([]);
  });

  it('refuses bad options with the file, line and field', async () => {
    const p = await problems(
      view(`filter: col('kind'),`).replace(`columns: {`, `columns: { ts: col('ts'), `),
    );
    expect(p.map((x) => [x.object, x.field])).toEqual([
      ['batch view "spend"', 'columns.ts'],
      ['batch view "spend"', 'filter'],
    ]);
    expect(p[0]!.at).toMatch(/batch\.ts:\d+$/);
    const q = await problems(view('').replace(`user_id: col('userId'), `, ''));
    expect(q[0]).toMatchObject({
      field: 'columns',
      message: expect.stringMatching(/join key "user_id"/),
    });
  });

  it('apply runs the query on an empty input: missing, extra and mistyped columns', async () => {
    const p = await problems(
      view('').replace(
        `SUM(amount) AS spend_7d, COUNT(*) AS orders`,
        `MAX(user_id) AS spend_7d, COUNT(*) AS n`,
      ),
    );
    expect(p.map((x) => x.message)).toEqual([
      'column "spend_7d" is VARCHAR, which is not a float64 (run on an empty input on DuckDB)',
      'the query returns no column "orders" (run on an empty input on DuckDB)',
      'the query returns column "n", which is neither a join key nor a declared feature (run on an empty input on DuckDB)',
    ]);
    const bad = await problems(
      view('').replace('FROM source GROUP', 'FROM source WHERE nope GROUP'),
    );
    expect(bad[0]!.message).toMatch(/nope/);
    expect(bad[0]!.field).toBe('query');
  });

  it('plan: a changed query is breaking, a changed description is not', async () => {
    const h = tempDir();
    cleanups.push(h.cleanup);
    const repo = await load(view(''));
    await applyRepository(repo, h.dir);
    const next = await load(view(`description: 'weekly spend',`).replace('7d', '14d'));
    const p = plan((await applyRepository(repo, h.dir)).registry, next.specs());
    expect(p.changes).toEqual([
      expect.objectContaining({
        kind: 'batch_view',
        name: 'spend',
        breaking: ['windowMs changed'],
      }),
    ]);
    const desc = await load(view(`description: 'weekly spend',`));
    const d = plan((await applyRepository(repo, h.dir)).registry, desc.specs());
    expect(d.changes.map((c) => [c.name, c.breaking])).toEqual([['spend', []]]);
  });
});
