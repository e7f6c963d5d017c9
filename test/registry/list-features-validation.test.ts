import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { nextRegistry } from '../../registry/registry-file.ts';
import { plan } from '../../registry/plan.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** BASE_REPO with `last_kind` replaced by `feature` (countDistinct and lastN imported). */
const withFeature = (feature: string): string =>
  BASE_REPO.replace('import { batchSource,', 'import { countDistinct, lastN, batchSource,').replace(
    "last_kind: last(col('kind')),",
    `extra: ${feature},`,
  );

async function load(feature: string) {
  const r = tempRepo({ 'repo.ts': withFeature(feature) });
  cleanups.push(r.cleanup);
  return loadRepository(r.dir);
}

async function problemsOf(feature: string): Promise<DefinitionError['problems']> {
  const err = await load(feature).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DefinitionError);
  return (err as DefinitionError).problems;
}

describe('countDistinct and lastN definitions', () => {
  it('infer int64 for countDistinct and the list type of the input for lastN', async () => {
    const cases: [string, string][] = [
      ["countDistinct(col('kind'), { window: '1h' })", 'int64'],
      ["lastN(col('kind'), { n: 10, distinct: true, window: '7d' })", 'string_list'],
      ["lastN(col('ts'), { n: 3, window: '1h' })", 'int64_list'],
      ["lastN(col('amount'), { n: 1, window: '1h' })", 'float64_list'],
    ];
    for (const [feature, type] of cases) {
      const repo = await load(feature);
      const f = repo.featureViews.get('activity')!.spec.features.find((x) => x.name === 'extra')!;
      expect(f.type, feature).toBe(type);
    }
  });

  it('stores n and distinct on last_n specs only', async () => {
    const repo = await load(
      "lastN(col('kind'), { n: 10, window: '7d', where: col('kind').ne('x') })",
    );
    const fs = repo.featureViews.get('activity')!.spec.features;
    expect(fs.find((x) => x.name === 'extra')).toMatchObject({
      aggregation: 'last_n',
      n: 10,
      distinct: false,
      windowMs: 7 * 86_400_000,
      hopMs: 3_600_000,
    });
    expect(
      Object.hasOwn(
        fs.find((x) => x.name === 'clicks_1h')!,
        'n',
      ),
    ).toBe(false);
  });

  it.each([
    ["lastN(col('kind'), { n: 0, window: '1h' })", 'n must be an integer from 1 to 100, got 0'],
    ["lastN(col('kind'), { n: 2.5, window: '1h' })", 'n must be an integer from 1 to 100, got 2.5'],
    ["lastN(col('kind'), { n: 101, window: '1h' })", 'n must be an integer from 1 to 100, got 101'],
    [
      "lastN(col('kind'), { window: '1h' } as never)",
      'n must be an integer from 1 to 100, got undefined',
    ],
    ["lastN(col('kind'), { n: 3 } as never)", 'last_n needs a window'],
    ["countDistinct(col('kind'), {} as never)", 'count_distinct needs a window'],
    [
      "lastN(col('userId').isNotNull(), { n: 3, window: '1h' })",
      'lastN needs a string or number input, but userId is not null is bool',
    ],
  ])('refuses %s with file, line and hint', async (feature, message) => {
    const problems = await problemsOf(feature);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      object: 'feature view "activity"',
      field: 'features.extra',
    });
    expect(problems[0]!.message).toBe(message);
    expect(problems[0]!.at).toMatch(/repo\.ts:\d+$/);
    if (message.startsWith('n must')) expect(problems[0]!.hint).toContain('lastN(input, { n: 10');
  });

  it('plans a change of n or distinct as breaking (stored states hold at most n values)', async () => {
    const before = await load("lastN(col('kind'), { n: 3, window: '1h' })");
    const registry = nextRegistry(null, before.specs(), before.root);
    const bigger = await load("lastN(col('kind'), { n: 5, window: '1h' })");
    expect(plan(registry, bigger.specs()).changes[0]!.breaking).toEqual(['feature extra: n 3 → 5']);
    const distinct = await load("lastN(col('kind'), { n: 3, distinct: true, window: '1h' })");
    expect(plan(registry, distinct.specs()).changes[0]!.breaking).toEqual([
      'feature extra: distinct false → true',
    ]);
  });
});
