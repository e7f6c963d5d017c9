/**
 * The zod checks `describeZod` carries into a source's spec (`definitions/field-checks.ts`):
 * only when a field has some (a schema without checks describes as before, so `plan` reports no
 * change for it), combined to the tightest bound zod applies.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { describeZod } from '../../definitions/record-schema.ts';
import { checkProblem } from '../../definitions/field-checks.ts';

it('a schema without checks describes without a checks key', () => {
  const t = describeZod(
    z.object({ s: z.string(), n: z.number(), i: z.number().int(), a: z.array(z.string()) }),
  );
  expect(JSON.stringify(t)).not.toContain('checks');
});

it('combines checks to the tightest bound, exclusive winning a tie', () => {
  const t = describeZod(
    z.object({
      s: z.string().min(1).max(10).length(3),
      n: z.number().gte(0).gt(0).lte(5).lt(5).finite(),
      i: z.number().int().nonnegative(),
      a: z.array(z.string()).nonempty().max(4),
    }),
  );
  expect(t).toEqual({
    kind: 'record',
    nullable: false,
    fields: {
      s: { kind: 'string', nullable: false, checks: { minLength: 3, maxLength: 3 } },
      n: {
        kind: 'float64',
        nullable: false,
        checks: { min: 0, minExclusive: true, max: 5, maxExclusive: true, finite: true },
      },
      i: { kind: 'int64', nullable: false, checks: { min: 0 } },
      a: {
        kind: 'array',
        nullable: false,
        items: { kind: 'string', nullable: false },
        checks: { minItems: 1, maxItems: 4 },
      },
    },
  });
});

it('agrees with zod on the bounds themselves (UTF-16 lengths, exclusive bounds)', () => {
  const cases: [z.ZodTypeAny, unknown][] = [
    [z.string().max(3), '😀x'],
    [z.string().max(3), '😀😀'],
    [z.string().min(2), '😀'],
    [z.number().gt(0), 0],
    [z.number().gt(0), Number.MIN_VALUE],
    [z.number().lte(1), 1],
    [z.number().lt(1), 1],
    [z.number().finite(), Infinity],
    [z.array(z.number()).length(2), [1]],
    [z.array(z.number()).length(2), [1, 2]],
  ];
  for (const [schema, v] of cases) {
    const t = describeZod(schema) as { checks?: Parameters<typeof checkProblem>[0] };
    expect(checkProblem(t.checks, v, 'f') === null, `${JSON.stringify(v)}`).toBe(
      schema.safeParse(v).success,
    );
  }
});
