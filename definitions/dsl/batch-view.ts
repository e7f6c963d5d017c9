import { z } from 'zod';
import { parseDuration } from '../../core/duration.ts';
import { DefinitionError, type Problem } from '../../core/errors.ts';
import { VALUE_TYPES, type ValueType } from '../../core/types.ts';
import { formatExpr, type ExprNode } from '../expr/expr.ts';
import { compatible, inferExprType } from '../expr/expr-type.ts';
import { exprTypos } from '../expr/expr-typos.ts';
import {
  BATCH_TS_COLUMN,
  type BatchViewFeatureSpec,
  type BatchViewSpec,
} from '../batch/batch-view-spec.ts';
import { portableSqlProblems } from '../batch/portable-sql.ts';
import { parseCron } from '../batch/cron.ts';
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
import { batchOf, type AnySourceDef, type BatchSourceDef } from './sources.ts';

const FeatureType = z.union([
  z.enum(VALUE_TYPES),
  z.object({ type: z.enum(VALUE_TYPES), description: z.string().default('') }).strict(),
]);

const BatchViewOptions = z
  .object({
    name: z.string().regex(NAME_RE, NAME_HINT),
    entities: entitiesOption(),
    source: sourceOption(),
    columns: z.record(z.string(), exprOption('must be an expression such as col("userId")')),
    filter: exprOption('must be an expression such as col("status").eq("completed")').optional(),
    window: z.string().optional(),
    every: z.string().optional(),
    offset: z.string().optional(),
    cron: z.string().optional(),
    query: z.string().min(1),
    features: z.record(z.string(), FeatureType),
    ttl: z.string(),
    online: z.boolean().default(true),
    description: z.string().default(''),
    materialization: materializationOption(),
  })
  .strict();

export type BatchViewDef<F extends string = string> = Definition<BatchViewSpec> & {
  readonly source: AnySourceDef;
  readonly batch: BatchSourceDef;
  readonly entityDefs: readonly EntityDef[];
  readonly featureNames: readonly F[];
};

/**
 * A batch view: a SQL query over a source, run as a snapshot at D = offset + k · every (or at
 * the times of a fixed-period `cron`, UTC: `'30 2 * * *'`), that
 * returns one row per entity (its join keys, then its features). The snapshot at D reads the
 * records with `D − window <= ts < D`; at t the latest snapshot with `D <= t` applies, and an
 * entity without a row in it has null features. The query is portable SQL (DuckDB and
 * BigQuery) over the relation `source`: the declared `columns` plus `ts`; `@snapshot_ms` is D.
 *
 * @example
 * export const userSegments = batchView({
 *   name: 'user_segments', entities: [user], source: transactions,
 *   columns: { user_id: col('userId'), amount: col('totalAmount') },
 *   filter: col('status').eq('completed'), window: '30d', every: '1d', ttl: '2d',
 *   query: 'SELECT user_id, count(*) AS orders FROM source GROUP BY user_id',
 *   features: { orders: 'int64' },
 * });
 */
export function batchView<F extends string>(
  options: Omit<z.input<typeof BatchViewOptions>, 'features'> & {
    features: Record<F, ValueType | { type: ValueType; description?: string }>;
  },
): BatchViewDef<F> {
  const at = callSite();
  const o = parseOptions(BatchViewOptions, options, 'batch view', at);
  const object = `batch view "${o.name}"`;
  const problems: Problem[] = [];
  const problem = (field: string, message: string, hint?: string): void => {
    problems.push({ at, object, field, message, ...(hint ? { hint } : {}) });
  };
  const batch = batchOf(o.source);
  const schema = batch.spec.schema;
  const duration = (field: string, text: string | undefined): number | null => {
    if (text === undefined) return null;
    const d = parseDuration(text);
    if (typeof d === 'number') return d;
    problem(field, d.error);
    return null;
  };
  const ttl = duration('ttl', o.ttl);
  const windowMs = duration('window', o.window);
  let every: number | null = null;
  let offset: number | null = 0;
  if (o.cron !== undefined) {
    if (o.every !== undefined || o.offset !== undefined)
      problem('cron', 'give either cron or every (with an optional offset), not both');
    const c = parseCron(o.cron);
    if ('error' in c) problem('cron', c.error, "or use every: '1d' with offset: '2h'");
    else ({ everyMs: every, offsetMs: offset } = c);
  } else if (o.every === undefined) {
    problem('every', 'a batch view needs a schedule', "add every: '1d' (or a cron)");
  } else {
    every = duration('every', o.every);
    offset = o.offset === undefined || o.offset === '0m' ? 0 : duration('offset', o.offset);
    if (every !== null && offset !== null && offset >= every)
      problem('offset', `offset ${o.offset} must be shorter than every ${o.every}`);
  }

  const columns: Record<string, ExprNode> = {};
  for (const [name, expr] of Object.entries(o.columns)) {
    const field = `columns.${name}`;
    if (!NAME_RE.test(name)) problem(field, `"${name}" is not a valid column name`, NAME_HINT);
    if (name === BATCH_TS_COLUMN)
      problem(field, `"${BATCH_TS_COLUMN}" is the event time, always a column of source`);
    const t = inferExprType(schema, expr.node);
    if ('error' in t) problem(field, t.error);
    else if (t.multi)
      problem(field, `a column cannot read an array path (${formatExpr(expr.node)})`);
    else
      for (const x of exprTypos(schema, expr.node, batch.spec.name))
        problem(field, x.message, x.hint);
    columns[name] = expr.node;
  }
  for (const e of o.entities) {
    const k = e.spec.joinKey;
    const node = columns[k];
    if (!node) {
      problem(
        'columns',
        `no column for the join key "${k}" of entity "${e.spec.name}"`,
        `add columns: { ${k}: col('<field of the source record>') } and select it`,
      );
      continue;
    }
    const t = inferExprType(schema, node);
    if (!('error' in t) && !compatible(t.type, e.spec.valueType))
      problem(
        `columns.${k}`,
        `${formatExpr(node)} is ${t.type} but entity "${e.spec.name}" keys are ${e.spec.valueType}`,
      );
  }
  if (o.filter) {
    const t = inferExprType(schema, o.filter.node);
    if ('error' in t) problem('filter', t.error);
    else if (t.type !== 'bool')
      problem('filter', `${formatExpr(o.filter.node)} is ${t.type}, not bool`);
  }
  const features: BatchViewFeatureSpec[] = [];
  const names = Object.keys(o.features);
  if (names.length === 0) problem('features', 'a batch view needs at least one feature');
  for (const name of names) {
    const f = o.features[name]!;
    if (!NAME_RE.test(name))
      problem(`features.${name}`, `"${name}" is not a valid feature name`, NAME_HINT);
    if (o.entities.some((e) => e.spec.joinKey === name))
      problem(`features.${name}`, `"${name}" is also a join key`);
    features.push(
      typeof f === 'string'
        ? { name, type: f, description: '' }
        : { name, type: f.type, description: f.description },
    );
  }
  for (const p of portableSqlProblems(o.query)) problem('query', p.message, p.hint);
  const snapshots =
    every === null || offset === null
      ? null
      : { everyMs: every, offsetMs: offset, cron: o.cron ?? null };
  const materialization =
    o.materialization && materializationSpec(o.materialization, problem, snapshots);
  if (problems.length > 0) throw new DefinitionError(problems);
  const spec: BatchViewSpec = {
    kind: 'batch_view',
    name: o.name,
    entities: o.entities.map((e) => e.spec.name),
    source: o.source.spec.name,
    columns,
    filter: o.filter?.node ?? null,
    windowMs,
    schedule: { everyMs: every!, offsetMs: offset!, cron: o.cron ?? null },
    query: o.query.trim(),
    ttlMs: ttl!,
    online: o.online,
    features,
    description: o.description,
    ...(materialization ? { materialization } : {}),
  };
  return makeDefinition(spec, at, {
    source: o.source,
    batch,
    entityDefs: o.entities,
    featureNames: names as F[],
  });
}
