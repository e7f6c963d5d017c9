/**
 * The one check of an on-demand transform's outputs (`definitions/on-demand-eval.ts`): per
 * type, undefined and non-finite numbers become null (a copy; the transform's array is left as
 * it is) and any other value of the wrong type is refused, naming the feature and the row.
 */
import { describe, expect, it } from 'vitest';
import { entity } from '../../definitions/dsl/entity.ts';
import { onDemandFeatureView, requestField } from '../../definitions/dsl/on-demand.ts';
import { evaluateOnDemand, OnDemandError } from '../../definitions/on-demand-eval.ts';
import type { ValueType } from '../../core/types.ts';

const user = entity({ name: 'user', joinKey: 'user_id' });

/** A view whose one feature `out` of `type` is the request column `x` as given. */
const passThrough = (type: ValueType) =>
  onDemandFeatureView({
    name: 'pass_through',
    entities: [user],
    inputs: { x: requestField('x', 'string') },
    features: { out: type },
    transform: ({ x }) => ({ out: x as never[] }),
  });

const run = (type: ValueType, values: unknown[]) =>
  evaluateOnDemand(passThrough(type), { x: values }, { size: values.length, timestamps: [] }).out;

describe('evaluateOnDemand', () => {
  it.each([
    ['int64', [1, -2, 2 ** 53 - 1, null, undefined, NaN, Infinity]],
    ['float64', [1.5, -0, null, undefined, NaN, -Infinity]],
    ['string', ['a', '', null, undefined, NaN]],
    ['bool', [true, false, null, undefined, Infinity]],
  ] as const)('%s: undefined and non-finite numbers are null, in a copy', (type, given) => {
    const values = [...given];
    const out = run(type, values);
    expect(out).toEqual(
      given.map((v) =>
        v === undefined || Number.isNaN(v) || v === Infinity || v === -Infinity ? null : v,
      ),
    );
    expect(values).toEqual(given);
  });

  it("returns the transform's own array when nothing needs changing", () => {
    const values = [1, null, 3];
    expect(run('int64', values)).toBe(values);
  });

  it.each([
    ['int64', [1, 1.5], 1],
    ['int64', [2 ** 53], 0],
    ['int64', [null, '3'], 1],
    ['float64', [1, '128.35'], 1],
    ['float64', [true], 0],
    ['string', ['a', 3], 1],
    ['bool', [1], 0],
    ['string', [undefined, {}], 1],
  ] as const)('%s: refuses %j at row %i', (type, values, row) => {
    const err = (() => {
      try {
        run(type, [...values]);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(OnDemandError);
    expect((err as OnDemandError).message).toContain(`for ${type} feature "out" (row ${row})`);
  });
});
