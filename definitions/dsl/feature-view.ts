import { z } from 'zod';
import { defaultHopMs, formatDuration, parseDuration } from '../../core/duration.ts';
import { DefinitionError, type Problem } from '../../core/errors.ts';
import { formatExpr, splitArrayPath, type Expr, type ExprNode } from '../expr/expr.ts';
import { compatible, inferExprType } from '../expr/expr-type.ts';
import { exprTypos } from '../expr/expr-typos.ts';
import type { FeatureSpec, FeatureViewSpec } from '../spec.ts';
import { MAX_LAST_N, listOf, type ScalarType, type ValueType } from '../../core/types.ts';
import { callSite } from './call-site.ts';
import {
  entitiesOption,
  exprOption,
  materializationOption,
  materializationSpec,
  sourceOption,
} from './view-options.ts';
import { NAME_HINT, NAME_RE, parseOptions } from './checks.ts';
import { makeDefinition, type Definition } from './definition.ts';
import type { EntityDef } from './entity.ts';
import type { FeatureDef } from './features.ts';
import { batchOf, type AnySourceDef } from './sources.ts';
import { isSequenceKind } from '../../core/sequence.ts';
import { checkOneSessionGap, sequenceFeatureSpec } from './sequence-spec.ts';
import { featureExpectations, viewExpectOption } from './expectations.ts';

const FeatureViewOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    entities: entitiesOption(),
    source: sourceOption(),
    keys: z.record(z.string(), exprOption('must be an expression such as col("userId")')),
    filter: exprOption('must be an expression such as col("userId").isNotNull()').optional(),
    ttl: z.string(),
    online: z.boolean().default(true),
    description: z.string().default(''),
    materialization: materializationOption(),
    expect: viewExpectOption().optional(),
    features: z.record(
      z.string(),
      z.custom<FeatureDef>(
        (v) => typeof v === 'object' && v !== null && 'aggregation' in v,
        'must be count(...), sum(...), avg(...), min(...), max(...), last(...), mode(...), countDistinct(...) or lastN(...)',
      ),
    ),
  })
  .strict();

export type FeatureViewDef<F extends string = string> = Definition<FeatureViewSpec> & {
  readonly source: AnySourceDef;
  readonly entityDefs: readonly EntityDef[];
  /** Feature names, for typed references (`feature(view, 'page_views_1h', 'int64')`). */
  readonly featureNames: readonly F[];
};

/**
 * A feature view: features of one or more entities, computed from one source.
 *
 * @example
 * export const userActivity = featureView({
 *   name: 'user_activity', entities: [user], source: userEvents,
 *   keys: { user_id: col('userId') }, filter: col('userId').isNotNull(), ttl: '30d',
 *   features: { page_views_1h: count({ where: col('eventType').eq('page_view'), window: '1h' }) },
 * });
 */
export function featureView<F extends string>(
  options: Omit<z.input<typeof FeatureViewOptions>, 'features'> & {
    features: Record<F, FeatureDef>;
  },
): FeatureViewDef<F> {
  const at = callSite();
  const o = parseOptions(FeatureViewOptions, options, 'feature view', at);
  const object = `feature view "${o.name}"`;
  const problems: Problem[] = [];
  const problem = (field: string, message: string, hint?: string): void => {
    problems.push({ at, object, field, message, ...(hint ? { hint } : {}) });
  };
  const batch = batchOf(o.source).spec;
  const schema = batch.schema;
  /** Reports the typos of an expression that type-checks (an enum value, a map key). */
  const typos = (field: string, node: ExprNode, prefix = ''): void => {
    for (const t of exprTypos(schema, node, batch.name))
      problem(field, `${prefix}${t.message}`, t.hint);
  };

  const ttl = parseDuration(o.ttl);
  if (typeof ttl !== 'number') problem('ttl', ttl.error);

  const keys: Record<string, ExprNode> = {};
  for (const e of o.entities) {
    const k = e.spec.joinKey;
    const expr = o.keys[k];
    if (!expr) {
      problem(
        `keys.${k}`,
        `no expression for the join key "${k}" of entity "${e.spec.name}"`,
        `add keys: { ${k}: col('<field of the source record>') }`,
      );
      continue;
    }
    const t = inferExprType(schema, expr.node);
    if ('error' in t) problem(`keys.${k}`, t.error);
    else if (t.multi)
      problem(`keys.${k}`, `a join key cannot read an array path (${formatExpr(expr.node)})`);
    else if (!compatible(t.type, e.spec.valueType)) {
      problem(
        `keys.${k}`,
        `${formatExpr(expr.node)} is ${t.type} but entity "${e.spec.name}" keys are ${e.spec.valueType}`,
      );
    } else typos(`keys.${k}`, expr.node);
    keys[k] = expr.node;
  }
  for (const k of Object.keys(o.keys)) {
    if (!o.entities.some((e) => e.spec.joinKey === k)) {
      problem(
        `keys.${k}`,
        `"${k}" is not the join key of any of this view's entities (${o.entities.map((e) => e.spec.joinKey).join(', ')})`,
      );
    }
  }
  if (o.filter) {
    const t = inferExprType(schema, o.filter.node);
    if ('error' in t) problem('filter', t.error);
    else if (t.type !== 'bool')
      problem('filter', `${formatExpr(o.filter.node)} is ${t.type}, not bool`);
    else typos('filter', o.filter.node);
  }

  const features: FeatureSpec[] = [];
  const names = Object.keys(o.features);
  if (names.length === 0) problem('features', 'a feature view needs at least one feature');
  for (const name of names) {
    const f = o.features[name] as FeatureDef;
    const field = `features.${name}`;
    const before = problems.length;
    if (!NAME_RE.test(name)) problem(field, `"${name}" is not a valid feature name`, NAME_HINT);
    if (o.entities.some((e) => e.spec.joinKey === name))
      problem(field, `"${name}" is also a join key`);
    const report = (msg: string, hint?: string): void => problem(field, msg, hint);
    const spec = isSequenceKind(f.aggregation)
      ? sequenceFeatureSpec(name, f, schema, typeof ttl === 'number' ? ttl : null, report)
      : featureSpec(name, f, schema, report);
    if (spec && problems.length === before) {
      if (spec.input) typos(field, spec.input, 'input: ');
      if (spec.weight) typos(field, spec.weight, 'weight: ');
      if (spec.where) typos(field, spec.where, 'where: ');
    }
    if (spec && problems.length === before) features.push(spec);
  }
  checkOneSessionGap(features, (feature, msg, hint) => problem(`features.${feature}`, msg, hint));
  const materialization = o.materialization && materializationSpec(o.materialization, problem);
  const expect =
    o.expect &&
    featureExpectations(
      o.expect,
      new Map(features.map((f) => [f.name, f.type])),
      { at, object },
      problems,
    );
  if (problems.length > 0) throw new DefinitionError(problems);
  const spec: FeatureViewSpec = {
    kind: 'feature_view',
    name: o.name,
    entities: o.entities.map((e) => e.spec.name),
    keys,
    source: o.source.spec.name,
    filter: o.filter?.node ?? null,
    ttlMs: ttl as number,
    online: o.online,
    features,
    description: o.description,
    ...(materialization ? { materialization } : {}),
    ...(expect ? { expect } : {}),
  };
  return makeDefinition(spec, at, {
    source: o.source,
    entityDefs: o.entities,
    featureNames: names as F[],
  });
}

function featureSpec(
  name: string,
  f: FeatureDef,
  schema: Parameters<typeof inferExprType>[0],
  problem: (message: string, hint?: string) => void,
): FeatureSpec | null {
  const opts = f.options;
  let windowMs: number | null = null;
  let hopMs: number | null = null;
  if (opts.window !== undefined) {
    const w = parseDuration(opts.window);
    if (typeof w !== 'number') return (problem(`window: ${w.error}`), null);
    windowMs = w;
    if (opts.hop !== undefined) {
      const h = parseDuration(opts.hop);
      if (typeof h !== 'number') return (problem(`hop: ${h.error}`), null);
      hopMs = h;
    } else hopMs = defaultHopMs(w);
    if (windowMs % hopMs !== 0) {
      const lower = formatDuration(Math.floor(windowMs / hopMs) * hopMs || hopMs);
      return (
        problem(
          `window ${formatDuration(windowMs)} is not a multiple of hop ${formatDuration(hopMs)}`,
          `use a window of ${lower} or a hop that divides ${formatDuration(windowMs)}`,
        ),
        null
      );
    }
  } else if (opts.hop !== undefined) {
    return (
      problem('hop without a window', 'give a window, or drop the hop for a lifetime value'),
      null
    );
  } else if (f.aggregation !== 'last') {
    return (
      problem(
        `${f.aggregation} needs a window`,
        `add { window: '1h' } (only last(...) can be a lifetime value)`,
      ),
      null
    );
  }

  let type: ValueType;
  let inputMulti = false;
  if (f.aggregation === 'count') {
    type = 'int64';
  } else {
    const t = inferExprType(schema, (f.input as Expr).node);
    if ('error' in t) return (problem(`input: ${t.error}`), null);
    if (t.type === 'null') return (problem('input is always null'), null);
    inputMulti = t.multi;
    const numeric = t.type === 'int64' || t.type === 'float64';
    if ((f.aggregation === 'sum' || f.aggregation === 'avg') && !numeric) {
      return (
        problem(
          `${f.aggregation} needs a number, but ${formatExpr((f.input as Expr).node)} is ${t.type}`,
          `use .toNumber() on a decimal string`,
        ),
        null
      );
    }
    if (f.aggregation === 'mode' && t.type !== 'string') {
      return (
        problem(
          `mode needs a string input, but ${formatExpr((f.input as Expr).node)} is ${t.type}`,
        ),
        null
      );
    }
    if (f.aggregation === 'last_n' && t.type === 'bool') {
      return (
        problem(
          `lastN needs a string or number input, but ${formatExpr((f.input as Expr).node)} is bool`,
          'there is no list of bool: count the true values with count({ where }) instead',
        ),
        null
      );
    }
    if (t.multi && f.aggregation !== 'mode') {
      // The offline engines (DuckDB, BigQuery) unnest arrays for mode only; refusing the rest
      // here keeps one semantics instead of a view that streams but cannot export.
      return (
        problem(
          `${f.aggregation} of ${formatExpr((f.input as Expr).node)} reads one value per array element; only mode takes per-element inputs`,
          `use mode(...) with an optional weight, or aggregate a per-record field (e.g. totalAmount)`,
        ),
        null
      );
    }
    type =
      f.aggregation === 'avg'
        ? 'float64'
        : f.aggregation === 'count_distinct'
          ? 'int64'
          : f.aggregation === 'last_n'
            ? (listOf(t.type as ScalarType) as ValueType)
            : t.type;
  }
  const { n, distinct } = f.params;
  if (f.aggregation === 'last_n') {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LAST_N) {
      return (
        problem(
          `n must be an integer from 1 to ${MAX_LAST_N}, got ${JSON.stringify(n) ?? String(n)}`,
          `use e.g. lastN(input, { n: 10, window: '7d' }); the state keeps n values per hop`,
        ),
        null
      );
    }
    if (typeof distinct !== 'boolean')
      return (problem(`distinct must be true or false, got ${JSON.stringify(distinct)}`), null);
  }
  if (f.weight) {
    const w = inferExprType(schema, f.weight.node);
    if ('error' in w) return (problem(`weight: ${w.error}`), null);
    if (w.type !== 'int64' && w.type !== 'float64')
      return (problem(`weight must be a number, not ${w.type}`), null);
    const inArr = f.input?.node.op === 'col' ? splitArrayPath(f.input.node.path)?.array : undefined;
    const wArr = f.weight.node.op === 'col' ? splitArrayPath(f.weight.node.path)?.array : undefined;
    if (w.multi !== inputMulti || inArr !== wArr) {
      return (
        problem(
          'weight and input must read the same array (e.g. orderItems[].category weighted by orderItems[].quantity)',
        ),
        null
      );
    }
  }
  if (f.options.where) {
    const w = inferExprType(schema, f.options.where.node);
    if ('error' in w) return (problem(`where: ${w.error}`), null);
    if (w.type !== 'bool')
      return (problem(`where: ${formatExpr(f.options.where.node)} is ${w.type}, not bool`), null);
  }
  if (opts.type !== undefined && opts.type !== type) {
    return (
      problem(`declared type ${opts.type} but ${f.aggregation} of this input is ${type}`),
      null
    );
  }
  return {
    name,
    type,
    aggregation: f.aggregation,
    input: f.input?.node ?? null,
    weight: f.weight?.node ?? null,
    where: opts.where?.node ?? null,
    windowMs,
    hopMs,
    ...(f.aggregation === 'last_n' ? { n: n as number, distinct: distinct as boolean } : {}),
    description: opts.description ?? '',
  };
}
