/**
 * Arbitrary feature definitions for the differential fuzzer, as plain JSON plans (so a case can
 * be printed, replayed and handed to a child process) and the DSL calls that build them.
 *
 * A plan is one or more feature views over the e-commerce sources (`features/sources.ts`), each
 * keyed by one entity or by both (user × product, one key expression each), an optional view filter, a TTL and 1–4 features drawn from
 * every aggregation × window × hop × `where`, lifetime `last` included; a third of the views
 * add one or two sequence features (gap sessions, previous-event relations) whose windows fit
 * the view's TTL. Expressions are typed against the source schemas, so every plan is a valid
 * repository.
 *
 * @example
 * const repo = buildRepository(fc.sample(plansArb(), 1)[0]!);
 */
import { resolve } from 'node:path';
import fc from 'fast-check';
import { product, user } from '../../examples/ecommerce/features/entities.ts';
import { transactions, userEvents } from '../../examples/ecommerce/features/sources.ts';
import {
  and,
  avg,
  batchView,
  col,
  count,
  countDistinct,
  countWhere,
  featureView,
  last,
  lastN,
  max,
  min,
  mode,
  not,
  onDemandFeatureView,
  or,
  previous,
  requestField,
  sessions,
  sum,
  type Expr,
} from '../../definitions/index.ts';
import { feature as odInput } from '../../definitions/dsl/on-demand.ts';
import { isListType, type ValueType } from '../../core/types.ts';
import type { FeatureDef } from '../../definitions/dsl/features.ts';
import { memoryHopMs, type SequenceKind } from '../../core/sequence.ts';
import type { FieldType } from '../../definitions/record-schema.ts';
import { Repository } from '../../definitions/repository.ts';
import { KEY_POOL, STRING_POOL, DECIMAL_POOL } from './schema-records.ts';

export type SourceName = 'user_events' | 'transactions';

/** A record expression as JSON (built with `col`, `and`, … by {@link toExpr}). */
export type ExprPlan =
  | { col: string; toNumber?: boolean }
  | { cmp: 'eq' | 'ne' | 'gt' | 'le'; arg: ExprPlan; value: string | number }
  | { in: ExprPlan; values: string[] }
  | { isNull: ExprPlan }
  | { isNotNull: ExprPlan }
  | { and: ExprPlan[] }
  | { or: ExprPlan[] }
  | { not: ExprPlan };

export interface FeaturePlan {
  name: string;
  aggregation:
    | 'count'
    | 'sum'
    | 'avg'
    | 'min'
    | 'max'
    | 'last'
    | 'mode'
    | 'count_distinct'
    | 'last_n'
    | SequenceKind;
  /** `count_previous`: the compared field of `previous.changed`, null for `gapBelow`. */
  input: ExprPlan | null;
  /** `count_previous` with `previous.gapBelow(ms)`. */
  gapBelowMs?: number;
  /** `last_n` only. */
  n?: number;
  distinct?: boolean;
  weight: ExprPlan | null;
  /** Whole minutes; null for a lifetime `last`. */
  windowMinutes: number | null;
  /** Whole minutes; null = the default hop. */
  hopMinutes: number | null;
  where: ExprPlan | null;
}

export interface ViewPlan {
  name: string;
  source: SourceName;
  /** `user_product`: keyed by both entities (`key` → user_id, `productKey` → product_id). */
  entity: 'user' | 'product' | 'user_product';
  key: ExprPlan;
  /** The product_id key of a `user_product` view. */
  productKey?: ExprPlan;
  filter: ExprPlan | null;
  ttlMinutes: number;
  /** The view's `sessions({ gap })`, when it has session features. */
  gapMinutes?: number;
  features: FeaturePlan[];
}

/** A batch view of a case: see `batch-plan.ts`. */
export interface BatchPlan {
  source: SourceName;
  entity: 'user' | 'product';
  key: ExprPlan;
  filter: ExprPlan | null;
  /** Whole minutes; null: every record before D. */
  windowMinutes: number | null;
  everyMinutes: number;
  offsetMinutes: number;
  ttlMinutes: number;
  /** The number `MAX` reads and the string `MIN` and `COUNT(DISTINCT …)` read. */
  num: ExprPlan;
  str: ExprPlan;
}

const cols = (...paths: string[]): ExprPlan[] => paths.map((p) => ({ col: p }));

/** Typed inputs of each source: scalar numbers/strings, and per-element array paths. */
const INPUTS: Record<
  SourceName,
  { num: ExprPlan[]; str: ExprPlan[]; arrNum: ExprPlan[]; arrStr: ExprPlan[]; keys: ExprPlan[] }
> = {
  user_events: {
    num: [
      { col: 'timestamp' },
      { col: 'properties.price', toNumber: true },
      { col: 'properties.amount', toNumber: true },
    ],
    str: cols(
      'eventType',
      'userId',
      'sessionId',
      'context.platform',
      'context.referrer',
      'properties.category',
      'properties.productId',
      'properties.price',
    ),
    arrNum: [],
    arrStr: [],
    keys: cols('userId', 'sessionId', 'properties.productId', 'context.referrer'),
  },
  transactions: {
    num: cols('totalAmount', 'timestamp'),
    str: cols('status', 'currency', 'paymentMethod', 'userId'),
    arrNum: cols('orderItems[].price', 'orderItems[].quantity'),
    arrStr: cols('orderItems[].category', 'orderItems[].productId'),
    keys: cols('userId', 'currency', 'paymentMethod', 'status'),
  },
};

const strValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...STRING_POOL, ...KEY_POOL) },
  { weight: 1, arbitrary: fc.constantFrom(...DECIMAL_POOL) },
);
const numValue = fc.oneof(
  fc.constantFrom(0, -1, 1, 5, 10, 19.99, 100),
  fc.integer({ min: -1000, max: 1000 }),
);

/** The values of an enum field (`eventType`, `status`), or undefined for any other path. */
function enumOf(source: SourceName, arg: ExprPlan): string[] | undefined {
  if (!('col' in arg)) return undefined;
  let f: FieldType | undefined = (source === 'user_events' ? userEvents : transactions).batch.spec
    .schema;
  for (const part of arg.col.split('.')) f = f?.kind === 'record' ? f.fields[part] : undefined;
  return f?.kind === 'string' ? f.enum : undefined;
}

/**
 * Values compared with `arg`: an enum field's own values (comparing one with a value it never
 * takes is a definition error, a typo), any string otherwise.
 */
const valuesFor = (source: SourceName, arg: ExprPlan): fc.Arbitrary<string> => {
  const e = enumOf(source, arg);
  return e ? fc.constantFrom(...e) : strValue;
};

/** A bool expression over the source's columns: comparisons, `in`, null tests, and/or/not. */
export function predicateArb(source: SourceName): fc.Arbitrary<ExprPlan> {
  const { num, str } = INPUTS[source];
  const leaf: fc.Arbitrary<ExprPlan> = fc.oneof(
    fc.constantFrom(...str).chain((arg) =>
      fc.record({
        cmp: fc.constantFrom('eq' as const, 'ne' as const),
        arg: fc.constant(arg),
        value: valuesFor(source, arg),
      }),
    ),
    fc.record({
      cmp: fc.constantFrom('eq' as const, 'ne' as const, 'gt' as const, 'le' as const),
      arg: fc.constantFrom(...num),
      value: numValue,
    }),
    fc.constantFrom(...str).chain((arg) =>
      fc.record({
        in: fc.constant(arg),
        values: fc.uniqueArray(valuesFor(source, arg), { minLength: 1, maxLength: 3 }),
      }),
    ),
    fc.record({ isNull: fc.constantFrom(...str, ...num) }),
    fc.record({ isNotNull: fc.constantFrom(...str, ...num) }),
  );
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.record({ and: fc.array(leaf, { minLength: 2, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ or: fc.array(leaf, { minLength: 2, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ not: leaf }) },
  );
}

/** Null two times out of three: most features and views keep most records. */
const rarely = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** Hops (minutes) and window multiples: windows up to 60 days, at most 60 hops per window. */
const HOPS = [1, 5, 60, 24 * 60];
const windowArb: fc.Arbitrary<{ windowMinutes: number; hopMinutes: number | null }> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...HOPS), fc.constantFrom(1, 2, 3, 5, 7, 24, 60))
    .map(([h, k]) => ({ windowMinutes: h * k, hopMinutes: h })),
  // The default hop for the window (≤ 1h → 1m, ≤ 7d → 1h, else 1d).
  fc
    .constantFrom(1, 5, 60, 120, 24 * 60, 7 * 24 * 60, 30 * 24 * 60)
    .map((w) => ({ windowMinutes: w, hopMinutes: null })),
);

function featureArb(
  source: SourceName,
  name: string,
  options: PlanOptions,
): fc.Arbitrary<FeaturePlan> {
  const { num, str, arrNum, arrStr } = INPUTS[source];
  const arrays = options.arrayInputsOutsideMode ?? false;
  // `toNumber` of a map value is null when the key is missing or not a decimal.
  const weights = options.nullModeWeights ? num : num.filter((e) => !('col' in e && e.toNumber));
  const where = rarely(predicateArb(source));
  const windowed = (
    aggregation: FeaturePlan['aggregation'],
    input: fc.Arbitrary<ExprPlan | null>,
    weight: fc.Arbitrary<ExprPlan | null> = fc.constant(null),
  ): fc.Arbitrary<FeaturePlan> =>
    fc
      .record({ input, weight, w: windowArb, where })
      .map(({ input, weight, w, where }) => ({ name, aggregation, input, weight, where, ...w }));
  const numInput = fc.constantFrom(...num, ...(arrays ? arrNum : []));
  const anyInput = fc.constantFrom(...num, ...str, ...(arrays ? [...arrNum, ...arrStr] : []));
  const modeInput: fc.Arbitrary<{ input: ExprPlan; weight: ExprPlan | null }> = fc.oneof(
    fc.record({ input: fc.constantFrom(...str), weight: fc.option(fc.constantFrom(...weights)) }),
    ...(arrStr.length > 0
      ? [
          fc.record({
            input: fc.constantFrom(...arrStr),
            weight: fc.option(fc.constantFrom(...arrNum)),
          }),
        ]
      : []),
  );
  return fc.oneof(
    windowed('count', fc.constant(null)),
    windowed('sum', numInput),
    windowed('avg', numInput),
    windowed('min', anyInput),
    windowed('max', anyInput),
    windowed('last', anyInput),
    windowed('count_distinct', anyInput),
    fc
      .record({
        f: windowed('last_n', fc.constantFrom(...num, ...str)),
        n: fc.constantFrom(1, 2, 3, 10),
        distinct: fc.boolean(),
      })
      .map(({ f, n, distinct }) => ({ ...f, n, distinct })),
    fc
      .record({ m: modeInput, w: windowArb, where })
      .map(({ m, w, where }) => ({ name, aggregation: 'mode' as const, ...m, where, ...w })),
    // Lifetime `last`: no window, the view's TTL applies.
    fc.record({ input: anyInput, where }).map(({ input, where }) => ({
      name,
      aggregation: 'last' as const,
      input,
      weight: null,
      where,
      windowMinutes: null,
      hopMinutes: null,
    })),
  );
}

/**
 * One or two sequence features for a view of TTL `ttlMinutes`, with the view's session gap:
 * the current session's count / duration always fit; `countWhere` needs TTL ≥ W + M and a hop
 * dividing the memory hop M, session counts and averages TTL ≥ W + G + H + M
 * (`definitions/dsl/sequence-spec.ts`), so windows are drawn among those that fit.
 */
function sequenceArb(
  source: SourceName,
  ttlMinutes: number,
): fc.Arbitrary<{ gapMinutes: number; features: FeaturePlan[] }> {
  const M = memoryHopMs(ttlMinutes * 60_000) / 60_000;
  const windows = (fits: (w: number, h: number) => boolean) =>
    HOPS.flatMap((h) =>
      [1, 2, 3, 5, 7, 24, 60].map((k) => ({ windowMinutes: h * k, hopMinutes: h })),
    ).filter((w) => fits(w.windowMinutes, w.hopMinutes));
  const where = rarely(predicateArb(source));
  const plan = (aggregation: SequenceKind, rest: Partial<FeaturePlan>): FeaturePlan => ({
    name: '',
    aggregation,
    input: null,
    weight: null,
    where: null,
    windowMinutes: null,
    hopMinutes: null,
    ...rest,
  });
  return fc.constantFrom(1, 5, 30).chain((g) => {
    const previousWindows = windows((w, h) => M % h === 0 && ttlMinutes >= w + M);
    const sessionWindows = windows((w, h) => ttlMinutes >= w + g + h + M);
    const kinds: fc.Arbitrary<FeaturePlan>[] = [
      where.map((where) => plan('current_session_count', { where })),
      fc.constant(plan('current_session_duration', {})),
    ];
    if (previousWindows.length > 0)
      kinds.push(
        fc
          .record({
            w: fc.constantFrom(...previousWindows),
            where,
            relation: fc.oneof(
              fc.record({ gapBelowMs: fc.constantFrom(1, 100, 60_000, 5 * 60_000) }),
              fc.record({ input: fc.constantFrom(...INPUTS[source].str) }),
            ),
          })
          .map(({ w, where, relation }) => plan('count_previous', { ...w, where, ...relation })),
      );
    if (sessionWindows.length > 0)
      kinds.push(
        fc
          .record({
            kind: fc.constantFrom('session_count' as const, 'session_avg_duration' as const),
            w: fc.constantFrom(...sessionWindows),
            where,
          })
          .map(({ kind, w, where }) => plan(kind, { ...w, where })),
      );
    return fc
      .array(fc.oneof(...kinds), { minLength: 1, maxLength: 2 })
      .map((fs) => ({ gapMinutes: g, features: fs.map((f, i) => ({ ...f, name: `s${i}` })) }));
  });
}

export interface PlanOptions {
  /**
   * Add an unconditioned `count` to every view, so each record a view accepts changes at least
   * one of its features (see `KNOWN_DEFECTS.recordChangingNoFeature`).
   */
  everyRecordCounts?: boolean;
  /** Array paths as inputs of every aggregation, not only `mode` (`KNOWN_DEFECTS.arrayInputsOutsideMode`). */
  arrayInputsOutsideMode?: boolean;
  /** `mode` weights that may be null (`KNOWN_DEFECTS.nullModeWeights`). */
  nullModeWeights?: boolean;
}

function viewArb(i: number, options: PlanOptions): fc.Arbitrary<ViewPlan> {
  return fc.constantFrom<SourceName>('user_events', 'transactions').chain((source) =>
    fc
      .record({
        entity: fc.constantFrom('user' as const, 'product' as const, 'user_product' as const),
        key: fc.constantFrom(...INPUTS[source].keys),
        productKey: fc.constantFrom(...INPUTS[source].keys),
        filter: rarely(predicateArb(source)),
        ttlMinutes: fc.constantFrom(1, 60, 24 * 60, 7 * 24 * 60, 30 * 24 * 60, 90 * 24 * 60),
        features: fc.oneof(
          fc.tuple(
            ...[0, 1, 2, 3].map((j) =>
              fc.option(featureArb(source, `f${j}`, options), { freq: 4 }),
            ),
          ),
          // Only lifetime values of nullable inputs: many records change none of them.
          ...(options.everyRecordCounts || source !== 'user_events'
            ? []
            : [
                fc.tuple(
                  ...[0, 1].map((j) =>
                    fc
                      .constantFrom(
                        ...cols('context.referrer', 'properties.category', 'properties.price'),
                      )
                      .map((input): FeaturePlan | null => ({
                        name: `f${j}`,
                        aggregation: 'last',
                        input,
                        weight: null,
                        where: null,
                        windowMinutes: null,
                        hopMinutes: null,
                      })),
                  ),
                ),
              ]),
        ),
      })
      .chain((v) => rarely(sequenceArb(source, v.ttlMinutes)).map((seq) => ({ ...v, seq })))
      .map(({ features, seq, productKey, ...v }) => {
        const list = features.filter((f): f is FeaturePlan => f !== null);
        if (list.length === 0 || options.everyRecordCounts)
          list.push({
            name: 'n',
            aggregation: 'count',
            input: null,
            weight: null,
            windowMinutes: 60,
            hopMinutes: null,
            where: null,
          });
        if (seq) list.push(...seq.features);
        return {
          name: `v${i}`,
          source,
          ...v,
          ...(v.entity === 'user_product' ? { productKey } : {}),
          ...(seq ? { gapMinutes: seq.gapMinutes } : {}),
          features: list,
        };
      }),
  );
}

/** One to three views (views of the same source share its records). */
export const plansArb = (options: PlanOptions = {}): fc.Arbitrary<ViewPlan[]> =>
  fc
    .integer({ min: 1, max: 3 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => viewArb(i, options))));

export function toExpr(p: ExprPlan): Expr {
  if ('col' in p) return p.toNumber ? col(p.col).toNumber() : col(p.col);
  if ('cmp' in p) return toExpr(p.arg)[p.cmp](p.value);
  if ('in' in p) return toExpr(p.in).in(p.values);
  if ('isNull' in p) return toExpr(p.isNull).isNull();
  if ('isNotNull' in p) return toExpr(p.isNotNull).isNotNull();
  if ('and' in p) return and(...p.and.map(toExpr));
  if ('or' in p) return or(...p.or.map(toExpr));
  return not(toExpr(p.not));
}

const duration = (minutes: number): string => `${minutes}m`;

function toFeature(f: FeaturePlan, gapMinutes: number | undefined): FeatureDef {
  const opts = {
    ...(f.windowMinutes !== null ? { window: duration(f.windowMinutes) } : {}),
    ...(f.hopMinutes !== null ? { hop: duration(f.hopMinutes) } : {}),
    ...(f.where ? { where: toExpr(f.where) } : {}),
  };
  const input = f.input ? toExpr(f.input) : null;
  const w = opts as { window: string };
  switch (f.aggregation) {
    case 'count':
      return count(w);
    case 'sum':
      return sum(input!, w);
    case 'avg':
      return avg(input!, w);
    case 'min':
      return min(input!, w);
    case 'max':
      return max(input!, w);
    case 'last':
      return last(input!, opts);
    case 'mode':
      return mode(input!, { ...w, ...(f.weight ? { weight: toExpr(f.weight) } : {}) });
    case 'count_distinct':
      return countDistinct(input!, w);
    case 'last_n':
      return lastN(input!, { ...w, n: f.n!, distinct: f.distinct! });
    case 'count_previous':
      return countWhere(
        f.gapBelowMs !== undefined ? previous.gapBelow(f.gapBelowMs) : previous.changed(input!),
        w,
      );
  }
  const visits = sessions({ gap: duration(gapMinutes!) });
  const containing = f.where ? { containing: toExpr(f.where) } : {};
  switch (f.aggregation) {
    case 'session_count':
      return visits.count({
        window: w.window,
        ...(opts.hop ? { hop: opts.hop } : {}),
        ...containing,
      });
    case 'session_avg_duration':
      return visits.avgDuration({
        window: w.window,
        ...(opts.hop ? { hop: opts.hop } : {}),
        ...containing,
      });
    case 'current_session_count':
      return visits.current.count(f.where ? { where: toExpr(f.where) } : {});
    case 'current_session_duration':
      return visits.current.duration();
  }
}

/**
 * An on-demand view `od` keyed by user × product (so it may read every planned view) over 1–3
 * features of the planned views and, optionally, the request field `req`. Its transform shows
 * what it was given: `nulls` counts the null inputs of each row, `i<k>` passes input k through
 * (a list: its length), `r` passes the request value through — so a NULL feature (no events, an
 * expired TTL, a key never seen) or a null request value must reach it as null on every path.
 */
export interface OnDemandPlan {
  inputs: { view: string; feature: string }[];
  /** The type of the request field `req`, or null: no request input. */
  request: 'float64' | 'string' | null;
}

/** An on-demand plan over `plans`' features (null a third of the time: no on-demand view). */
export const onDemandArb = (plans: readonly ViewPlan[]): fc.Arbitrary<OnDemandPlan | null> => {
  const refs = plans.flatMap((v) => v.features.map((f) => ({ view: v.name, feature: f.name })));
  return fc.option(
    fc.record({
      inputs: fc.uniqueArray(fc.constantFrom(...refs), {
        minLength: 1,
        maxLength: 3,
        selector: (r) => `${r.view}:${r.feature}`,
      }),
      request: fc.constantFrom('float64' as const, 'string' as const, null),
    }),
    { freq: 2 },
  );
};

/** A request value of `type`, or null (for the rows of a case with a request input). */
export const requestValueArb = (type: 'float64' | 'string'): fc.Arbitrary<number | string | null> =>
  fc.option<number | string>(type === 'float64' ? numValue : strValue, { freq: 3 });

function onDemandView(
  od: OnDemandPlan,
  views: readonly ReturnType<typeof featureView>[],
): ReturnType<typeof onDemandFeatureView> {
  const typeOf = (r: OnDemandPlan['inputs'][number]): ValueType =>
    views.find((v) => v.spec.name === r.view)!.spec.features.find((f) => f.name === r.feature)!
      .type;
  const types = od.inputs.map(typeOf);
  const inputs = Object.fromEntries([
    ...od.inputs.map((r, k) => [`i${k}`, odInput(r.view, r.feature, types[k]!)] as const),
    ...(od.request ? [['req', requestField('req', od.request)] as const] : []),
  ]);
  const features: Record<string, ValueType> = { nulls: 'int64' };
  types.forEach((t, k) => (features[`i${k}`] = isListType(t) ? 'int64' : t));
  if (od.request) features.r = od.request;
  return onDemandFeatureView({
    name: 'od',
    entities: [user, product],
    inputs,
    features,
    transform: (cols, { size }) => {
      type Col = (typeof cols)[string];
      const out: Record<string, Col> = {};
      const names = Object.keys(cols);
      out.nulls = Array.from({ length: size }, (_, i) =>
        names.reduce((n, k) => n + (cols[k]![i] === null ? 1 : 0), 0),
      );
      types.forEach((t, k) => {
        const col = cols[`i${k}`]!;
        out[`i${k}`] = isListType(t)
          ? col.map((v) => (v === null ? null : (v as unknown[]).length))
          : col;
      });
      if (od.request) out.r = cols.req!;
      return out;
    },
  });
}

/** The repository of the e-commerce entities and sources plus the planned views. */
export function buildRepository(
  plans: readonly ViewPlan[],
  onDemand: OnDemandPlan | null = null,
  batch: BatchPlan | null = null,
): Repository {
  const views = plans.map((v) => {
    const entities =
      v.entity === 'user_product' ? [user, product] : [v.entity === 'user' ? user : product];
    const keys = [v.key, v.productKey!];
    return featureView({
      name: v.name,
      entities,
      source: v.source === 'user_events' ? userEvents : transactions,
      keys: Object.fromEntries(entities.map((e, i) => [e.spec.joinKey, toExpr(keys[i]!)])),
      ...(v.filter ? { filter: toExpr(v.filter) } : {}),
      ttl: duration(v.ttlMinutes),
      features: Object.fromEntries(v.features.map((f) => [f.name, toFeature(f, v.gapMinutes)])),
    });
  });
  return Repository.from(
    [
      user,
      product,
      userEvents,
      transactions,
      userEvents.batch,
      transactions.batch,
      ...views,
      ...(onDemand ? [onDemandView(onDemand, views)] : []),
      ...(batch ? [fuzzBatchView(batch)] : []),
    ],
    resolve(import.meta.dirname, '../../examples/ecommerce/features'),
  );
}

/** The batch view `b` of a plan (`batch-plan.ts`): one query shape, its value brute-forced. */
function fuzzBatchView(b: BatchPlan): ReturnType<typeof batchView> {
  const entity = b.entity === 'user' ? user : product;
  const k = entity.spec.joinKey;
  return batchView({
    name: 'b',
    entities: [entity],
    source: b.source === 'user_events' ? userEvents : transactions,
    columns: { [k]: toExpr(b.key), x: toExpr(b.num), y: toExpr(b.str) },
    ...(b.filter ? { filter: toExpr(b.filter) } : {}),
    ...(b.windowMinutes === null ? {} : { window: duration(b.windowMinutes) }),
    every: duration(b.everyMinutes),
    ...(b.offsetMinutes > 0 ? { offset: duration(b.offsetMinutes) } : {}),
    ttl: duration(b.ttlMinutes),
    query: `SELECT ${k}, COUNT(*) AS n, MAX(x) AS mx, MIN(y) AS mn, COUNT(DISTINCT y) AS nd FROM source GROUP BY ${k}`,
    features: { n: 'int64', mx: 'float64', mn: 'string', nd: 'int64' },
  });
}
