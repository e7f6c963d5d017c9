import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError } from '../../registry/errors.ts';
import { loadRepository } from '../../registry/load.ts';
import { BASE_REPO, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** Loads a repository expected to be invalid and returns its problems. */
async function problemsOf(files: Record<string, string>): Promise<DefinitionError['problems']> {
  const r = tempRepo(files);
  cleanups.push(r.cleanup);
  const err = await loadRepository(r.dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DefinitionError);
  return (err as DefinitionError).problems;
}

describe('definition validation', () => {
  it('accepts the base repository', async () => {
    const r = tempRepo({ 'repo.ts': BASE_REPO });
    cleanups.push(r.cleanup);
    const repo = await loadRepository(r.dir);
    expect(repo.featureViews.get('activity')?.spec.features.map((f) => f.name)).toEqual([
      'clicks_1h',
      'spend_7d',
      'last_kind',
    ]);
  });

  it('names the file, line, object and field of an unknown feature in a service', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'service.ts': `import { featureService, select } from 'larder';\nimport { activity } from './repo.ts';\n\nexport const svc = featureService({ name: 'svc', features: [select(activity, ['clicks_1h', 'clicks_2h'])] });\n`,
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      object: 'feature service "svc"',
      field: 'features[0]',
      message: 'unknown feature "activity:clicks_2h"',
    });
    expect(problems[0]!.at).toMatch(/service\.ts:4$/);
    expect(problems[0]!.hint).toContain('clicks_1h, spend_7d, last_kind');
  });

  it('reports duplicate names with both locations', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'dup.ts': `import { entity } from 'larder';\nexport const user2 = entity({ name: 'user', joinKey: 'uid' });\n`,
    });
    // Files load in name order: dup.ts comes first, so repo.ts's `user` is the duplicate.
    expect(problems[0]!.message).toMatch(/^duplicate name: also defined at .*dup\.ts:2$/);
    expect(problems[0]!.at).toMatch(/repo\.ts:4$/);
  });

  it('refuses a window that is not a multiple of its hop, suggesting a fix', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("window: '1h' }", "window: '90m', hop: '1h' }"),
    });
    expect(problems[0]).toMatchObject({
      object: 'feature view "activity"',
      field: 'features.clicks_1h',
      message: 'window 90m is not a multiple of hop 1h',
    });
    expect(problems[0]!.hint).toContain('1h');
  });

  it('catches a type mismatch in an on-demand input', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'odfv.ts': `import { feature, onDemandFeatureView } from 'larder';
import { activity, user } from './repo.ts';
export const od = onDemandFeatureView({
  name: 'od', entities: [user],
  inputs: { k: feature(activity, 'last_kind', 'int64') },
  features: { k2: 'int64' },
  transform: ({ k }) => ({ k2: k }),
});
`,
    });
    expect(problems[0]).toMatchObject({ object: 'on demand feature view "od"', field: 'inputs.k' });
    expect(problems[0]!.message).toBe(
      'type mismatch: "activity:last_kind" is string but the transform declares int64',
    );
    expect(problems[0]!.hint).toBe("declare feature(activity, 'last_kind', 'string')");
  });

  it('requires an expression for every entity join key', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("keys: { user_id: col('userId') }", 'keys: {}'),
    });
    expect(problems[0]).toMatchObject({
      field: 'keys.user_id',
      message: 'no expression for the join key "user_id" of entity "user"',
    });
    expect(problems[0]!.hint).toContain("user_id: col('<field of the source record>')");
  });

  it('reports unknown record fields with the known ones', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("col('kind').eq('click')", "col('knd').eq('click')"),
    });
    expect(problems[0]!.field).toBe('features.clicks_1h');
    expect(problems[0]!.message).toContain(
      'the record has no field "knd" (fields: id, userId, kind, amount, ts)',
    );
  });

  it('lists every problem of a view at once', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("ttl: '30d'", "ttl: '30 days'")
        .replace("sum(col('amount'), { window: '7d' })", "sum(col('kind'), { window: '7d' })")
        .replace("last(col('kind'))", "count({ where: col('kind').eq(3), window: '1h' })"),
    });
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.message]));
    expect(byField.ttl).toContain('"30 days" is not a duration');
    expect(byField['features.spend_7d']).toBe('sum needs a number, but kind is string');
    expect(byField['features.last_kind']).toContain('compares string with int64');
  });

  it('refuses windowless aggregations other than last', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace(
        "count({ where: col('kind').eq('click'), window: '1h' })",
        "count({ where: col('kind').eq('click') } as never)",
      ),
    });
    expect(problems[0]!.message).toBe('count needs a window');
  });

  it('rejects malformed builder options through zod, naming the field', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO.replace("joinKey: 'user_id'", "joinKey: 'User Id'"),
    });
    expect(problems[0]).toMatchObject({ object: 'entity "user"', field: 'joinKey' });
    expect(problems[0]!.message).toContain('snake_case');
  });

  it('reports a file that fails to import', async () => {
    const problems = await problemsOf({
      'repo.ts': BASE_REPO,
      'broken.ts': 'export const x = ;\n',
    });
    expect(problems[0]!.at).toMatch(/broken\.ts:1$/); // the line of the syntax error
    expect(problems[0]!.message).toContain('failed to load');
  });
});
