/**
 * `plan` and `apply` run every on-demand transform on sample inputs (nulls, zeros, empty
 * strings, typical values) and refuse one that throws, returns a wrong length or a value of
 * the wrong type, naming the view, the feature, the input and the file and line.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { smokeRows, smokeTestOnDemand } from '../../definitions/on-demand-smoke.ts';
import { applyRepository } from '../../registry/apply.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** BASE_REPO plus an on-demand view over activity's spend_7d and a request field. */
const repoWith = (features: string, body: string): string => `${BASE_REPO}
import { feature, onDemandFeatureView, requestField } from 'larder';
export const spendy = onDemandFeatureView({
  name: 'spendy',
  entities: [user],
  inputs: { spend: feature(activity, 'spend_7d', 'float64'), coupon: requestField('coupon', 'string') },
  features: ${features},
  transform: ({ spend, coupon }) => (${body}),
});
`;

async function applyText(text: string) {
  const r = tempRepo({ 'repo.ts': text });
  cleanups.push(r.cleanup);
  const home = tempDir();
  cleanups.push(home.cleanup);
  const repo = await loadRepository(r.dir);
  const err = await applyRepository(repo, home.dir).then(
    () => null,
    (e: unknown) => e,
  );
  return { err, home: home.dir, text };
}

const lineOf = (text: string, s: string): number =>
  text.split('\n').findIndex((l) => l.includes(s)) + 1;

describe('on-demand smoke test at plan/apply', () => {
  it('refuses a transform that throws on a null input, naming the input, file and line', async () => {
    const { err, home, text } = await applyText(
      repoWith(
        "{ spend_label: 'string' }",
        '{ spend_label: spend.map((s) => s.toFixed(2)) }', // s is null for a missing feature
      ),
    );
    expect(err).toBeInstanceOf(DefinitionError);
    const [p, ...rest] = (err as DefinitionError).problems;
    expect(rest).toEqual([]);
    expect(p!.at).toMatch(new RegExp(`repo\\.ts:${lineOf(text, 'export const spendy')}$`));
    expect(p!.object).toBe('on-demand feature view "spendy"');
    expect(p!.field).toBe('transform');
    expect(p!.message).toMatch(
      new RegExp(
        `^threw TypeError: .*toFixed.* at .*repo\\.ts:${lineOf(text, 's.toFixed')} on the sample input \\{ spend: null, coupon: null \\}$`,
      ),
    );
    expect(p!.hint).toContain('inputs can be null');
    expect(readRegistry(home)).toBeNull();
  });

  it('refuses a value of the wrong type, naming the feature and the input', async () => {
    const { err } = await applyText(
      repoWith(
        "{ spend_text: 'float64', has_coupon: 'bool' }",
        '{ spend_text: spend.map((s) => (s === null ? null : s.toFixed(2))), has_coupon: coupon.map((c) => c !== null) }',
      ),
    );
    const problems = (err as DefinitionError).problems;
    expect(problems.map((p) => [p.field, p.message])).toEqual([
      [
        'features.spend_text',
        'returned "0.00" (string) for float64 feature "spend_text" on the sample input { spend: 0, coupon: "" }',
      ],
    ]);
    expect(problems[0]!.hint).toContain('values are never converted');
  });

  it('refuses a column of the wrong length, found on a batch', async () => {
    const { err } = await applyText(
      repoWith("{ first_spend: 'float64' }", '{ first_spend: [spend[0] ?? null] }'),
    );
    const problems = (err as DefinitionError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe('features.first_spend');
    expect(problems[0]!.message).toMatch(
      /^returned 1 values for feature "first_spend", expected \d+ on a batch of \d+ sample rows$/,
    );
  });

  it('accepts a transform that handles every sample, and the e-commerce repository', async () => {
    const { err } = await applyText(
      repoWith(
        "{ spend_cents: 'int64', has_coupon: 'bool' }",
        '{ spend_cents: spend.map((s) => (s === null ? null : Math.round(s * 100))), has_coupon: coupon.map((c) => c !== null && c !== "") }',
      ),
    );
    expect(err).toBeNull();
    const features = await loadRepository('examples/ecommerce/features');
    expect(features.onDemandViews.size).toBe(4); // order_risk (version 2) included
    expect(() => smokeTestOnDemand(features)).not.toThrow();
  });

  it('builds sample rows with nulls, zeros, empty strings and each input varied', async () => {
    const r = tempRepo({ 'repo.ts': repoWith("{ x: 'bool' }", '{ x: spend.map(() => true) }') });
    cleanups.push(r.cleanup);
    const od = (await loadRepository(r.dir)).onDemandViews.get('spendy')!;
    const rows = smokeRows(od);
    expect(rows.slice(0, 3)).toEqual([
      { spend: null, coupon: null },
      { spend: 0, coupon: '' },
      { spend: 19.99, coupon: 'electronics' },
    ]);
    expect(rows).toContainEqual({ spend: -1, coupon: 'electronics' });
    expect(rows).toContainEqual({ spend: 19.99, coupon: null });
    expect(new Set(rows.map((x) => JSON.stringify(x))).size).toBe(rows.length);
  });
});
