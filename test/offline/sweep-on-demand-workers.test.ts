/**
 * The sweep's on-demand step run by the sweep workers (each over its own range of rows, from a
 * bundle of the repository files that define the views) gives the main thread's columns, value
 * for value — numbers, strings, booleans, nulls, request fields and row times — and a transform
 * that fails there fails with the main thread's error (the main thread runs the step again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { sweepOnDemand } from '../../offline/duckdb/sweep/sweep-on-demand.ts';
import type { SweptColumn } from '../../offline/duckdb/sweep/sweep-passes.ts';
import { definingFiles, onDemandViews } from '../../offline/sweep/on-demand-bundle.ts';
import { SweepPool } from '../../offline/sweep/sweep-pool.ts';
import { sharedFloat64 } from '../../offline/sweep/sweep.ts';
import type { AppendColumn } from '../../offline/parquet/append-columns.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const REPO = `${BASE_REPO}
import { feature, onDemandFeatureView, requestField } from 'larder';
const KINDS = new Map([['click', 1.5], ['view', 0.5]]);
export const mixed = onDemandFeatureView({
  name: 'mixed',
  entities: [user],
  inputs: {
    clicks: feature(activity, 'clicks_1h', 'int64'),
    spend: feature(activity, 'spend_7d', 'float64'),
    kind: feature(activity, 'last_kind', 'string'),
    note: requestField('note', 'string'),
  },
  features: { score: 'float64', label: 'string', clicked: 'bool', hours: 'int64' },
  transform: ({ clicks, spend, kind, note }, { timestamps }) => ({
    score: clicks.map((c, i) => (c === null || spend[i] === null ? null : c / spend[i] + (KINDS.get(kind[i] ?? '') ?? 0))),
    label: kind.map((k, i) => (k === null ? undefined : k + ':' + (note[i] ?? '-'))),
    clicked: clicks.map((c) => (c === null ? null : c > 0)),
    hours: timestamps.map((t) => Math.floor(t / 3_600_000)),
  }),
});
export const failing = onDemandFeatureView({
  name: 'failing',
  entities: [user],
  inputs: { clicks: feature(activity, 'clicks_1h', 'int64') },
  features: { n: 'int64' },
  transform: ({ clicks }) => ({ n: clicks.map((c) => (c === 99_999 ? 'many' : c)) }),
});
`;

const ROWS = 70_000; // 8 blocks of 8192 and a part
const repoDir = tempRepo({ 'features.ts': REPO });
const cache = tempDir();
let repo: Repository;
let pool: SweepPool;
afterAll(async () => {
  await pool?.close();
  repoDir.cleanup();
  cache.cleanup();
});
beforeAll(async () => {
  repo = await loadRepository(repoDir.dir);
  pool = SweepPool.create(2, cache.dir);
});

const columnOf = (view: string, feature: string): string => `${view}:${feature}`;

/** Swept columns of `activity` (nulls among them), `clicks_1h` = 99 999 at `bad` if given. */
function swept(bad?: number): { columns: Map<string, SweptColumn>; ts: Float64Array } {
  const col = (f: (i: number) => number, type: SweptColumn['type'], strings?: string[]) => {
    const values = sharedFloat64(ROWS);
    for (let i = 0; i < ROWS; i++) values[i] = f(i);
    return {
      values,
      type,
      aggregation: 'last' as const,
      dict: strings ? { table: 't', strings } : null,
    };
  };
  const ts = sharedFloat64(ROWS);
  for (let i = 0; i < ROWS; i++) ts[i] = Date.UTC(2026, 0, 1) + i * 60_000;
  return {
    columns: new Map<string, SweptColumn>([
      [
        'activity:clicks_1h',
        col((i) => (i === bad ? 99_999 : i % 11 === 0 ? NaN : i % 5), 'int64'),
      ],
      ['activity:spend_7d', col((i) => (i % 13 === 0 ? NaN : (i % 7) * 2.5), 'float64')],
      [
        'activity:last_kind',
        col((i) => (i % 17 === 0 ? NaN : i % 3), 'string', ['click', 'view', 'buy']),
      ],
    ]),
    ts,
  };
}

const request = { note: Array.from({ length: ROWS }, (_, i) => (i % 4 === 0 ? null : `n${i}`)) };

async function run(odfvs: string[], onWorkers: boolean, bad?: number) {
  return sweepOnDemand(
    {
      repo,
      odfvs,
      requestFields: ['note'],
      total: ROWS,
      columnOf,
      progress: () => undefined,
      ...(onWorkers
        ? { workers: { pool, bundle: onDemandViews(repo, odfvs, pool, cache.dir)!, minRows: 0 } }
        : {}),
    },
    swept(bad),
    request,
  );
}

/** A column's values as plain JS (NaN stays NaN: toEqual treats NaN as equal to itself). */
const plain = (c: AppendColumn): unknown[] =>
  'values' in c ? [...c.values] : 'strings' in c ? [...c.strings] : [];

describe('the sweep on-demand step on the workers', () => {
  it('writes the main thread’s columns, from a bundle of the defining files', async () => {
    const main = await run(['mixed'], false);
    const workers = await run(['mixed'], true);
    expect(main.on).toBe('main');
    expect(workers.on).toBe('workers');
    expect(workers.columns.map((c) => c.name)).toEqual(main.columns.map((c) => c.name));
    workers.columns.forEach((c, i) => expect(plain(c)).toEqual(plain(main.columns[i]!)));
    const label = main.columns.find((c) => c.name === 'mixed:label')!;
    expect(plain(label).slice(0, 5)).toEqual([null, 'view:n1', 'buy:n2', 'click:n3', 'view:-']);
    const score = plain(main.columns.find((c) => c.name === 'mixed:score')!);
    expect(score[1]).toBeCloseTo(1 / 2.5 + 0.5);
    expect(Number.isNaN(score[0])).toBe(true);
  });

  it('fails as the main thread does when a transform returns a wrong value', async () => {
    const bad = 8192 * 5 + 321; // in the second worker's range
    const onMain = await run(['mixed', 'failing'], false, bad).catch((e: Error) => e);
    const onWorkers = await run(['mixed', 'failing'], true, bad).catch((e: Error) => e);
    expect(onMain).toBeInstanceOf(Error);
    expect((onMain as Error).message).toContain('"failing"');
    expect((onMain as Error).message).toContain('(row 321)');
    expect((onWorkers as Error).message).toBe((onMain as Error).message);
  });

  it('runs on the main thread when the views’ files are not known', () => {
    expect(definingFiles(repo, ['mixed'])).toEqual([`${repoDir.dir}/features.ts`]);
    expect(definingFiles(repo, ['no_such_view'])).toBeNull();
  });
});
