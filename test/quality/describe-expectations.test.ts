/** Expectations in words, as `larder describe` and the dashboard's registry tab show them. */
import { describe, expect, it } from 'vitest';
import {
  describeValueExpectation,
  sourceExpectationLines,
  viewExpectationLines,
} from '../../quality/describe-expectations.ts';

describe('describe expectations', () => {
  it('one phrase per bound, one line per field or feature, then the source-wide bounds', () => {
    expect(describeValueExpectation({ maxNullRate: 0 })).toBe('not null');
    expect(describeValueExpectation({ maxNullRate: 0.05, min: 0, max: 10 })).toBe(
      'null rate ≤ 5%, in [0, 10]',
    );
    expect(describeValueExpectation({ min: 1 })).toBe('≥ 1');
    expect(describeValueExpectation({ max: 2, allowed: [1, 2] })).toBe('≤ 2, one of 1, 2');
    expect(describeValueExpectation({ min: 0, drift: { maxPsi: 0.1, minPValue: 0.001 } })).toBe(
      '≥ 0, drift when PSI > 0.1 or p < 0.001',
    );
    expect(describeValueExpectation({ drift: { minPValue: 0.05 } })).toBe('drift when p < 0.05');
    expect(
      sourceExpectationLines({
        fields: { userId: { maxNullRate: 0.1 } },
        maxRejectRate: 0.001,
        minRows: { count: 1000, perMs: 86_400_000 },
        maxAgeMs: 7_200_000,
      }),
    ).toEqual([
      'userId: null rate ≤ 10%',
      'reject rate ≤ 0.1%',
      'rows ≥ 1000 per 1d',
      'newest event ≤ 2h old',
    ]);
    expect(sourceExpectationLines(undefined)).toEqual([]);
    expect(viewExpectationLines({ fields: { allowed: ['a'] } })).toEqual(['fields: one of "a"']);
  });
});
