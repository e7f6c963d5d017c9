/**
 * The `expect` option of batch sources and feature views: valid expectations land in the spec
 * (normalized: `notNull` → `maxNullRate: 0`, durations in ms), wrong ones are refused where they
 * are declared (file, line, object, field, hint).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { plan } from '../../registry/plan.ts';
import { nextRegistry } from '../../registry/registry-file.ts';
import { tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const repoWith = (sourceExpect: string, viewExpect: string): string => `
import { z } from 'zod';
import { batchSource, col, count, entity, featureView, last } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string().nullable(), kind: z.string(), amount: z.number(),
    n: z.number().int(), ok: z.boolean(), tags: z.array(z.string()), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
  ${sourceExpect ? `expect: ${sourceExpect},` : ''}
});
export const activity = featureView({
  name: 'activity', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '30d',
  features: { clicks_1h: count({ window: '1h' }), last_kind: last(col('kind')) },
  ${viewExpect ? `expect: ${viewExpect},` : ''}
});
`;

async function load(src: string, view: string) {
  const r = tempRepo({ 'repo.ts': repoWith(src, view) });
  cleanups.push(r.cleanup);
  return loadRepository(r.dir);
}

async function problemsOf(src: string, view: string): Promise<DefinitionError['problems']> {
  const err = await load(src, view).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DefinitionError);
  return (err as DefinitionError).problems;
}

describe('expect option', () => {
  it('lands in the specs, normalized; absent when not declared', async () => {
    const repo = await load(
      `{ fields: { userId: { notNull: true }, kind: { allowed: ['a', 'b', 'a'] }, amount: { min: 0, max: 9.5, maxNullRate: 0.1 }, ok: { allowed: [true] } },
         maxRejectRate: 0.01, minRows: { count: 10, per: '1d' }, freshness: '2h' }`,
      `{ clicks_1h: { min: 0, max: 1000 }, last_kind: { maxNullRate: 0.5, allowed: ['a'] } }`,
    );
    expect(repo.batchSources.get('events')!.spec.expect).toEqual({
      fields: {
        userId: { maxNullRate: 0 },
        kind: { allowed: ['a', 'b'] },
        amount: { maxNullRate: 0.1, min: 0, max: 9.5 },
        ok: { allowed: [true] },
      },
      maxRejectRate: 0.01,
      minRows: { count: 10, perMs: 86_400_000 },
      maxAgeMs: 7_200_000,
    });
    expect(repo.featureViews.get('activity')!.spec.expect).toEqual({
      clicks_1h: { min: 0, max: 1000 },
      last_kind: { maxNullRate: 0.5, allowed: ['a'] },
    });
    const plain = await load('', '');
    expect('expect' in plain.batchSources.get('events')!.spec).toBe(false);
    expect('expect' in plain.featureViews.get('activity')!.spec).toBe(false);
  });

  it('refuses unknown fields, non-scalar fields, bounds of the wrong type, bad durations and rates', async () => {
    const problems = await problemsOf(
      `{ fields: { nope: { notNull: true }, tags: { notNull: true }, kind: { min: 1 }, amount: { allowed: [1] },
         n: { min: 5, max: 1, allowed: ['x'] }, userId: { notNull: true, maxNullRate: 0.5 } },
         minRows: { count: 1, per: 'daily' }, freshness: '2 hours' }`,
      '',
    );
    expect(problems.map((p) => [p.field, p.message])).toEqual([
      ['expect.fields.nope', 'the schema has no field "nope"'],
      [
        'expect.fields.tags',
        '"tags" is an array; expectations apply to top-level string, int64, float64 and bool fields',
      ],
      ['expect.fields.kind', 'min and max apply to numbers, not to string'],
      ['expect.fields.amount', 'allowed applies to string, int64 and bool values, not to float64'],
      ['expect.fields.n', 'min 5 is greater than max 1'],
      ['expect.fields.n', 'allowed values "x" are not int64'],
      ['expect.fields.userId', 'notNull and maxNullRate exclude each other'],
      ['expect.minRows.per', expect.stringContaining('daily')],
      ['expect.freshness', expect.stringContaining('2 hours')],
    ]);
    expect(problems[0]).toMatchObject({
      object: 'batch source "events"',
      at: expect.stringMatching(/repo\.ts:\d+$/),
    });
    expect(problems[0]!.hint).toContain('userId');
    const rates = await problemsOf(
      `{ maxRejectRate: 2, fields: { amount: { maxNullRate: -1 } } }`,
      '',
    );
    expect(rates.map((p) => [p.field, p.message])).toEqual([
      ['expect.fields.amount.maxNullRate', 'a rate is 0..1'],
      ['expect.maxRejectRate', 'a rate is 0..1'],
    ]);
  });

  it("refuses a view's expectation on a feature it does not have, or of the wrong type", async () => {
    const problems = await problemsOf(
      '',
      `{ clicks_2h: { min: 0 }, last_kind: { max: 3 }, clicks_1h: { typo: 1 } }`,
    );
    expect(problems.map((p) => [p.object, p.field, p.message])).toEqual([
      ['feature view "activity"', 'expect.clicks_1h', expect.stringContaining('typo')],
    ]);
    const typed = await problemsOf('', `{ clicks_2h: { min: 0 }, last_kind: { max: 3 } }`);
    expect(typed.map((p) => [p.field, p.message])).toEqual([
      ['expect.clicks_2h', 'the view has no feature "clicks_2h"'],
      ['expect.last_kind', 'min and max apply to numbers, not to string'],
    ]);
  });

  it("declares a feature's drift bounds; refused on lists, without a bound, out of range or on a source", async () => {
    const repo = await load(
      '',
      `{ clicks_1h: { min: 0, drift: { maxPsi: 0.1, minPValue: 0.001 } }, last_kind: { drift: { maxPsi: 0.3 } } }`,
    );
    expect(repo.featureViews.get('activity')!.spec.expect).toEqual({
      clicks_1h: { min: 0, drift: { maxPsi: 0.1, minPValue: 0.001 } },
      last_kind: { drift: { maxPsi: 0.3 } },
    });
    const bad = await problemsOf(
      '',
      `{ clicks_1h: { drift: {} }, last_kind: { drift: { minPValue: 0 } } }`,
    );
    expect(bad.map((p) => [p.field, p.message])).toEqual([
      ['expect.last_kind.drift.minPValue', 'minPValue is a p-value in (0, 1]'],
    ]);
    const none = await problemsOf('', `{ clicks_1h: { drift: {} } }`);
    expect(none.map((p) => [p.field, p.message, p.hint])).toEqual([
      ['expect.clicks_1h.drift', 'drift declares no bound', 'give maxPsi, minPValue or both'],
    ]);
    const psi = await problemsOf('', `{ clicks_1h: { drift: { maxPsi: -1, typo: 1 } } }`);
    expect(psi.map((p) => p.field)).toEqual(
      expect.arrayContaining(['expect.clicks_1h.drift.maxPsi']),
    );
    expect(psi.map((p) => p.message).join('\n')).toContain('typo');
    expect(psi[0]!.at).toMatch(/repo\.ts:\d+$/);
    // Drift compares features, not source fields.
    const onSource = await problemsOf(`{ fields: { amount: { drift: { maxPsi: 0.1 } } } }`, '');
    expect(onSource.map((p) => p.message).join('\n')).toContain('drift');
  });

  it('refuses drift bounds on a list feature', async () => {
    const r = tempRepo({
      'repo.ts': repoWith('', `{ kinds: { drift: { maxPsi: 0.1 } } }`)
        .replace(
          "last_kind: last(col('kind')) },",
          "last_kind: last(col('kind')), kinds: lastN(col('kind'), { n: 3, window: '1d' }) },",
        )
        .replace('count, entity', 'count, entity, lastN'),
    });
    cleanups.push(r.cleanup);
    const err = (await loadRepository(r.dir).catch((e: unknown) => e)) as DefinitionError;
    expect(err).toBeInstanceOf(DefinitionError);
    expect(err.problems.map((p) => [p.field, p.message])).toEqual([
      [
        'expect.kinds.drift',
        'drift applies to int64, float64, string and bool features, not to string_list',
      ],
    ]);
  });

  it('adding or changing expectations is a non-breaking change in plan', async () => {
    const before = await load('', '');
    const after = await load(
      `{ freshness: '2h' }`,
      `{ clicks_1h: { max: 10, drift: { maxPsi: 0.1 } } }`,
    );
    const p = plan(nextRegistry(null, before.specs(), before.root), after.specs());
    expect(p.hasBreaking).toBe(false);
    expect(p.changes.map((c) => [c.kind, c.name, c.details, c.breaking])).toEqual([
      ['batch_source', 'events', [expect.stringContaining('expect')], []],
      ['feature_view', 'activity', [expect.stringContaining('expect')], []],
    ]);
  });
});
