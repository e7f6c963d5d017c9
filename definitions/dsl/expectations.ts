/**
 * The `expect` option of batch sources and feature views: data-quality expectations that
 * `larder validate` checks on the offline store (docs/monitoring.md). Each is validated where
 * it is declared: the field or feature must exist, bounds must suit its type.
 *
 * @example
 * batchSource({ ..., expect: {
 *   fields: { userId: { maxNullRate: 0.05 }, eventType: { allowed: ['click', 'purchase'] } },
 *   maxRejectRate: 0.01, minRows: { count: 1000, per: '1d' }, freshness: '2h',
 * } });
 * featureView({ ..., expect: { clicks_1h: { min: 0, max: 10_000, maxNullRate: 0.2 } } });
 * featureView({ ..., expect: { spend_7d: { drift: { maxPsi: 0.1, minPValue: 0.001 } } } });
 */
import { z } from 'zod';
import { parseDuration } from '../../core/duration.ts';
import type { Problem } from '../../core/errors.ts';
import type { ValueType } from '../../core/types.ts';
import type { RecordType } from '../record-schema.ts';
import type { DriftBounds, SourceExpectations, ValueExpectation } from '../spec.ts';

const rate = () => z.number().min(0, 'a rate is 0..1').max(1, 'a rate is 0..1');

const ValueExpectationOptions = z
  .object({
    notNull: z.boolean().optional(),
    maxNullRate: rate().optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
    allowed: z
      .array(z.union([z.string(), z.number().finite(), z.boolean()]))
      .min(1)
      .optional(),
  })
  .strict();

/** A feature's drift bounds (`larder drift`): PSI above maxPsi or p below minPValue is drift. */
const DriftOptions = z
  .object({
    maxPsi: z.number().finite().positive('maxPsi is a positive number').optional(),
    minPValue: z
      .number()
      .gt(0, 'minPValue is a p-value in (0, 1]')
      .max(1, 'minPValue is a p-value in (0, 1]')
      .optional(),
  })
  .strict();

/** A feature's expectation: the value bounds and, for `larder drift`, its drift bounds. */
const FeatureExpectationOptions = ValueExpectationOptions.extend({
  drift: DriftOptions.optional(),
}).strict();

/** `expect` of a feature view: feature name → expectation. */
export const viewExpectOption = () => z.record(z.string(), FeatureExpectationOptions);

/** `expect` of a batch source. */
export const sourceExpectOption = () =>
  z
    .object({
      fields: z.record(z.string(), ValueExpectationOptions).default({}),
      maxRejectRate: rate().optional(),
      minRows: z
        .object({ count: z.number().int().positive(), per: z.string() })
        .strict()
        .optional(),
      freshness: z.string().optional(),
    })
    .strict();

export type ValueExpectationInput = z.input<typeof ValueExpectationOptions>;

type Report = (field: string, message: string, hint?: string) => void;

/** The spec of one value expectation for a value of `type`, or problems through `report`. */
function valueExpectation(
  o: z.output<typeof ValueExpectationOptions>,
  type: ValueType,
  field: string,
  report: Report,
): ValueExpectation {
  const out: ValueExpectation = {};
  if (o.notNull !== undefined && o.maxNullRate !== undefined)
    report(
      field,
      'notNull and maxNullRate exclude each other',
      'keep one (notNull is maxNullRate: 0)',
    );
  if (o.notNull) out.maxNullRate = 0;
  else if (o.maxNullRate !== undefined) out.maxNullRate = o.maxNullRate;
  const numeric = type === 'int64' || type === 'float64';
  if (o.min !== undefined || o.max !== undefined) {
    if (!numeric) report(field, `min and max apply to numbers, not to ${type}`);
    else if (o.min !== undefined && o.max !== undefined && o.min > o.max)
      report(field, `min ${o.min} is greater than max ${o.max}`);
    if (o.min !== undefined) out.min = o.min;
    if (o.max !== undefined) out.max = o.max;
  }
  if (o.allowed) {
    const ok = (v: string | number | boolean): boolean =>
      type === 'string'
        ? typeof v === 'string'
        : type === 'int64'
          ? typeof v === 'number' && Number.isInteger(v)
          : type === 'bool'
            ? typeof v === 'boolean'
            : false;
    if (type === 'float64' || !['string', 'int64', 'bool'].includes(type))
      report(
        field,
        `allowed applies to string, int64 and bool values, not to ${type}`,
        'use min and max for float64',
      );
    else {
      const bad = o.allowed.filter((v) => !ok(v));
      if (bad.length > 0)
        report(
          field,
          `allowed values ${bad.map((v) => JSON.stringify(v)).join(', ')} are not ${type}`,
        );
    }
    out.allowed = [...new Set(o.allowed)];
  }
  return out;
}

/** A scalar field's value type, or undefined for maps, arrays, records and unknown fields. */
function scalarField(schema: RecordType, name: string): ValueType | undefined {
  const f = schema.fields[name];
  return f &&
    (f.kind === 'string' || f.kind === 'int64' || f.kind === 'float64' || f.kind === 'bool')
    ? f.kind
    : undefined;
}

/** A batch source's `expect` as its spec; problems (unknown fields, wrong bounds) go to `problems`. */
export function sourceExpectations(
  o: z.output<ReturnType<typeof sourceExpectOption>>,
  schema: RecordType,
  where: Pick<Problem, 'at' | 'object'>,
  problems: Problem[],
): SourceExpectations {
  const report: Report = (field, message, hint) =>
    problems.push({ ...where, field: `expect.${field}`, message, ...(hint ? { hint } : {}) });
  const out: SourceExpectations = { fields: {} };
  for (const [name, e] of Object.entries(o.fields)) {
    const type = scalarField(schema, name);
    if (!type) {
      report(
        `fields.${name}`,
        name in schema.fields
          ? `"${name}" is ${schema.fields[name]!.kind === 'array' ? 'an' : 'a'} ${schema.fields[name]!.kind}; expectations apply to top-level string, int64, float64 and bool fields`
          : `the schema has no field "${name}"`,
        `fields: ${Object.keys(schema.fields).join(', ')}`,
      );
      continue;
    }
    out.fields[name] = valueExpectation(e, type, `fields.${name}`, report);
  }
  if (o.maxRejectRate !== undefined) out.maxRejectRate = o.maxRejectRate;
  if (o.minRows) {
    const per = parseDuration(o.minRows.per);
    if (typeof per === 'number') out.minRows = { count: o.minRows.count, perMs: per };
    else report('minRows.per', per.error);
  }
  if (o.freshness !== undefined) {
    const age = parseDuration(o.freshness);
    if (typeof age === 'number') out.maxAgeMs = age;
    else report('freshness', age.error);
  }
  return out;
}

/** A feature's drift bounds as its spec: on int64, float64, string and bool features only. */
function driftBounds(
  o: z.output<typeof DriftOptions>,
  type: ValueType,
  field: string,
  report: Report,
): DriftBounds | undefined {
  if (!['int64', 'float64', 'string', 'bool'].includes(type)) {
    report(
      `${field}.drift`,
      `drift applies to int64, float64, string and bool features, not to ${type}`,
      'larder drift does not compare list features',
    );
    return undefined;
  }
  if (o.maxPsi === undefined && o.minPValue === undefined) {
    report(`${field}.drift`, 'drift declares no bound', 'give maxPsi, minPValue or both');
    return undefined;
  }
  return {
    ...(o.maxPsi !== undefined ? { maxPsi: o.maxPsi } : {}),
    ...(o.minPValue !== undefined ? { minPValue: o.minPValue } : {}),
  };
}

/** A feature view's `expect` as its spec: every key must be one of `features` (name → type). */
export function featureExpectations(
  o: Record<string, z.output<typeof FeatureExpectationOptions>>,
  features: ReadonlyMap<string, ValueType>,
  where: Pick<Problem, 'at' | 'object'>,
  problems: Problem[],
): Record<string, ValueExpectation> {
  const report: Report = (field, message, hint) =>
    problems.push({ ...where, field: `expect.${field}`, message, ...(hint ? { hint } : {}) });
  const out: Record<string, ValueExpectation> = {};
  for (const [name, e] of Object.entries(o)) {
    const type = features.get(name);
    if (!type) {
      report(
        name,
        `the view has no feature "${name}"`,
        `features: ${[...features.keys()].join(', ')}`,
      );
      continue;
    }
    const { drift, ...bounds } = e;
    out[name] = valueExpectation(bounds, type, name, report);
    const d = drift && driftBounds(drift, type, name, report);
    if (d) out[name].drift = d;
  }
  return out;
}
