/**
 * The reference evaluator: feature values straight from the spec, as naively as possible. For
 * every entity row and feature it filters the raw records of the view's batch source
 * (view filter, keys, the feature's `where`), turns them into aggregation events and hands
 * them to the aggregation library's `bruteForceWindow` / `bruteForceLifetime` (with the view's
 * TTL). On-demand features run the repository's own transforms over the rows' columns.
 * Offline stores, the online store and the stream worker are all tested against it.
 *
 * Record expressions are interpreted by its own evaluator (`reference-expr.ts`), which shares
 * no code with the engines' `definitions/expr/expr-eval.ts`.
 *
 * Conventions shared with the engines: a record whose key expression is null never matches;
 * an array path input (`orderItems[].category`) contributes one event per element, paired with
 * the weight of the same element; null values and null weights are skipped (`count` counts
 * records and ignores its input).
 *
 * @example
 * const rows = referenceFeatures(repo, { user_events_batch: events, transactions_batch: txs },
 *   [{ user_id: 'u1', product_id: 'p1', event_timestamp: t }], repo.resolveFeatures({ service: 'recommendation_v1' }));
 */
import {
  bruteForceLifetime,
  bruteForceModeTotals,
  bruteForcePrevious,
  bruteForceSession,
  bruteForceWindow,
  type AggregationEvent,
  type SequenceEvent,
} from '../aggregation/index.ts';
import { isSequenceKind, memoryHopMs, type SequenceKind } from '../core/sequence.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository, ResolvedFeature } from '../definitions/repository.ts';
import type { FeatureSpec, FeatureViewSpec } from '../definitions/spec.ts';
import type { FeatureValue, Scalar } from '../core/types.ts';
import { refEval, refKeep, refValues, type RefValue } from './reference-expr.ts';

type Rec = Record<string, unknown>;

/** An entity row: join keys, `event_timestamp` (epoch ms) and any request fields. */
export type EntityRow = Record<string, unknown> & { event_timestamp: number };

export interface ReferenceOptions {
  /** Name output columns `view__feature` (default: `feature`). */
  fullFeatureNames?: boolean;
}

interface ViewData {
  view: FeatureViewSpec;
  joinKeys: string[];
  /** Records passing the view filter, grouped by their key tuple (JSON). */
  byKey: Map<string, Rec[]>;
  ts: (r: Rec) => number;
  id: (r: Rec) => string;
}

function prepareView(
  repo: Repository,
  name: string,
  records: Record<string, readonly Rec[]>,
): ViewData {
  const def = repo.featureViews.get(name);
  if (!def) throw new LarderError('LARDER_NOT_FOUND', `unknown feature view "${name}"`);
  const batch = 'batch' in def.source ? def.source.batch : def.source;
  const src = batch.spec;
  const joinKeys = def.entityDefs.map((e) => e.spec.joinKey);
  const keyExprs = joinKeys.map((k) => def.spec.keys[k]!);
  const byKey = new Map<string, Rec[]>();
  for (const r of records[src.name] ?? []) {
    if (!refKeep(def.spec.filter, r)) continue;
    const key = keyExprs.map((e) => refEval(e, r));
    if (key.some((k) => k === null)) continue;
    const k = JSON.stringify(key.map(String));
    const list = byKey.get(k) ?? [];
    list.push(r);
    byKey.set(k, list);
  }
  const tsField = src.timestampField;
  const idField = src.idField;
  return {
    view: def.spec,
    joinKeys,
    byKey,
    ts: (r) => Number(r[tsField]),
    id: (r) => String(r[idField]),
  };
}

function events(data: ViewData, f: FeatureSpec, recs: readonly Rec[]): AggregationEvent[] {
  const out: AggregationEvent[] = [];
  for (const r of recs) {
    if (!refKeep(f.where, r)) continue;
    const ts = data.ts(r);
    const id = data.id(r);
    if (!f.input) {
      out.push({ ts, id, value: null });
      continue;
    }
    const values = refValues(f.input, r);
    const weights = f.weight ? refValues(f.weight, r) : null;
    values.forEach((value, i) => {
      const w: RefValue | undefined = weights
        ? weights.length === values.length
          ? weights[i]
          : weights[0]
        : 1;
      if (weights && (typeof w !== 'number' || !(Math.abs(w) <= 1e300))) return;
      out.push({ ts, id, value, weight: w as number });
    });
  }
  return out;
}

/**
 * A sequence feature (previous-event relations, sessions): every record of the entity is an
 * event of the order; `where` only marks events; `input` is the compared field of `changed`.
 */
function evaluateSequence(
  data: ViewData,
  f: FeatureSpec & { aggregation: SequenceKind },
  recs: readonly Rec[],
  t: number,
): Scalar | null {
  const seq: SequenceEvent[] = recs.map((r) => ({
    ts: data.ts(r),
    id: data.id(r),
    value: f.input ? refEval(f.input, r) : null,
    match: refKeep(f.where, r),
  }));
  const memory = { ttlMs: data.view.ttlMs, hopMs: memoryHopMs(data.view.ttlMs) };
  if (f.aggregation === 'count_previous')
    return bruteForcePrevious(f.sequence!.previous!, seq, t, f.windowMs!, f.hopMs!, memory);
  const feature = {
    kind: f.aggregation,
    gapMs: f.sequence!.gapMs!,
    windowMs: f.windowMs,
    hopMs: f.hopMs,
  };
  return bruteForceSession(feature, seq, t, memory);
}

function evaluate(data: ViewData, f: FeatureSpec, row: EntityRow): FeatureValue | null {
  const key = data.joinKeys.map((k) => row[k]);
  const zero = [
    'count',
    'sum',
    'count_distinct',
    'count_previous',
    'session_count',
    'current_session_count',
  ];
  const empty = zero.includes(f.aggregation) ? 0 : f.aggregation === 'last_n' ? [] : null;
  if (key.some((k) => k === null || k === undefined)) return empty;
  const recs = data.byKey.get(JSON.stringify(key.map(String))) ?? [];
  if (isSequenceKind(f.aggregation))
    return evaluateSequence(data, { ...f, aggregation: f.aggregation }, recs, row.event_timestamp);
  const evs = events(data, f, recs);
  if (f.windowMs === null || f.hopMs === null)
    return bruteForceLifetime(evs, row.event_timestamp, data.view.ttlMs);
  return bruteForceWindow(f.aggregation, evs, row.event_timestamp, f.windowMs, f.hopMs, f);
}

/**
 * Feature values for each entity row (same order): an object per row with the requested
 * features (named `feature` or `view__feature`), and nothing else.
 */
export function referenceFeatures(
  repo: Repository,
  records: Record<string, readonly Rec[]>,
  entityRows: readonly EntityRow[],
  features: readonly ResolvedFeature[],
  options: ReferenceOptions = {},
): Record<string, FeatureValue | null>[] {
  const views = new Map<string, ViewData>();
  const view = (name: string): ViewData => {
    let v = views.get(name);
    if (!v) views.set(name, (v = prepareView(repo, name, records)));
    return v;
  };
  const value = (viewName: string, feature: string, row: EntityRow): FeatureValue | null => {
    const data = view(viewName);
    const f = data.view.features.find((x) => x.name === feature);
    if (!f)
      throw new LarderError(
        'LARDER_NOT_FOUND',
        `feature view "${viewName}" has no feature "${feature}"`,
      );
    return evaluate(data, f, row);
  };
  const name = (f: ResolvedFeature): string =>
    options.fullFeatureNames ? `${f.view}__${f.feature}` : f.feature;
  const out: Record<string, FeatureValue | null>[] = entityRows.map(() => ({}));
  const timestamps = entityRows.map((r) => r.event_timestamp);
  const odCache = new Map<string, Record<string, unknown[]>>();
  for (const f of features) {
    if (!f.onDemand) {
      entityRows.forEach((row, i) => (out[i]![name(f)] = value(f.view, f.feature, row)));
      continue;
    }
    let result = odCache.get(f.view);
    if (!result) {
      const od = repo.onDemandViews.get(f.view)!;
      const inputs: Record<string, unknown[]> = {};
      for (const [k, input] of Object.entries(od.spec.inputs)) {
        inputs[k] = entityRows.map((row) =>
          input.from === 'feature'
            ? value(input.view, input.feature, row)
            : (row[input.field] ?? null),
        );
      }
      result = od.transform(inputs, { size: entityRows.length, timestamps });
      odCache.set(f.view, result);
    }
    const col = result[f.feature]!;
    // The documented output rule (docs/definitions.md), written out here rather than shared
    // with definitions/on-demand-eval.ts: undefined, NaN and ±Infinity are null.
    const normal = (v: unknown): FeatureValue | null =>
      v === undefined || (typeof v === 'number' && !Number.isFinite(v))
        ? null
        : (v as FeatureValue | null);
    entityRows.forEach((_, i) => (out[i]![name(f)] = normal(col[i])));
  }
  return out;
}

/**
 * The total weight per value of a windowed `mode` feature for one entity row (null for another
 * kind of feature), as the reference ranks them: `mode` totals add in float, so where two
 * values' totals agree to the last bits, which one a path returns depends on the order of its
 * additions (docs/definitions.md, `mode`); a judge accepts either.
 */
export function referenceModeTotals(
  repo: Repository,
  records: Record<string, readonly Rec[]>,
  row: EntityRow,
  viewName: string,
  feature: string,
): Map<string, number> | null {
  const data = prepareView(repo, viewName, records);
  const f = data.view.features.find((x) => x.name === feature);
  if (!f || f.aggregation !== 'mode' || f.windowMs === null || f.hopMs === null) return null;
  const key = data.joinKeys.map((k) => row[k]);
  if (key.some((k) => k === null || k === undefined)) return new Map();
  const recs = data.byKey.get(JSON.stringify(key.map(String))) ?? [];
  return bruteForceModeTotals(events(data, f, recs), row.event_timestamp, f.windowMs, f.hopMs);
}
