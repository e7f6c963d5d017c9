/**
 * Per-(view, feature list) read plans, built once and cached, and the evaluation of one
 * entity's stored fields into feature values at `t` with the shared aggregation library.
 * Only tiles inside the window of some requested feature are JSON-parsed.
 */
import {
  aggregator,
  evaluateLifetime,
  evaluateTiles,
  windowHops,
  type Aggregator,
  type LastState,
} from '../registry/aggregation/index.ts';
import { LarderError } from '../registry/errors.ts';
import type { FeatureViewSpec } from '../registry/spec.ts';
import { isLifetimeField, lifetimeField } from './field-names.ts';
import type { FeatureValue, ReadRequest } from './online-store.ts';

interface WindowedFeature {
  index: number;
  name: string;
  agg: Aggregator<unknown>;
  windowMs: number;
  hopMs: number;
  /** First hop of this feature's window at the current `t`. */
  first: number;
}

interface HopGroup {
  hopMs: number;
  maxWindowMs: number;
  features: WindowedFeature[];
  /** Hop range of the widest requested window at the current `t`. */
  first: number;
  last: number;
  /** Scratch: hop indices and parsed tiles of the entity being evaluated. */
  ks: number[];
  tiles: Record<string, unknown>[];
}

interface LifetimeFeature {
  index: number;
  /** Position among the plan's lifetime features. */
  slot: number;
  field: string;
}

export class ReadPlan {
  readonly view: FeatureViewSpec;
  readonly features: readonly string[];
  readonly #windowed: WindowedFeature[] = [];
  readonly #lifetime: LifetimeFeature[] = [];
  /** `"<hopMs>"` → group, so a field's prefix finds its group without parsing a number. */
  readonly #groups = new Map<string, HopGroup>();
  readonly #lifetimeByField = new Map<string, LifetimeFeature>();
  readonly #notFoundRow: FeatureValue[];
  readonly #groupList: HopGroup[] = [];
  readonly #lifetimeStates: (LastState | null)[] = [];
  readonly #tuples: [number, unknown][] = [];
  readonly #picked: [number, unknown][] = [];
  #preparedT = NaN;

  constructor(view: FeatureViewSpec, features: readonly string[]) {
    this.view = view;
    this.features = features;
    features.forEach((name, index) => {
      const f = view.features.find((x) => x.name === name);
      if (!f) {
        throw new LarderError(
          'LARDER_NOT_FOUND',
          `feature view "${view.name}" has no feature "${name}"`,
          { hint: `"${view.name}" has: ${view.features.map((x) => x.name).join(', ')}` },
        );
      }
      if (f.windowMs === null || f.hopMs === null) {
        const lf = { index, slot: this.#lifetime.length, field: lifetimeField(name) };
        this.#lifetime.push(lf);
        this.#lifetimeByField.set(lf.field, lf);
        return;
      }
      const wf: WindowedFeature = {
        index,
        name,
        agg: aggregator(f.aggregation),
        windowMs: f.windowMs,
        hopMs: f.hopMs,
        first: 0,
      };
      this.#windowed.push(wf);
      const key = String(f.hopMs);
      const g = this.#groups.get(key) ?? {
        hopMs: f.hopMs,
        maxWindowMs: 0,
        features: [],
        first: 0,
        last: 0,
        ks: [],
        tiles: [],
      };
      g.maxWindowMs = Math.max(g.maxWindowMs, f.windowMs);
      g.features.push(wf);
      this.#groups.set(key, g);
    });
    // An unknown entity has empty windows: count and sum are 0 there, as offline (one semantics).
    this.#notFoundRow = features.map((name) => {
      const agg = view.features.find((x) => x.name === name)?.aggregation;
      const empty =
        (agg === 'count' || agg === 'sum') &&
        view.features.find((x) => x.name === name)?.windowMs !== null;
      return { value: empty ? 0 : null, status: 'NOT_FOUND', eventTs: null };
    });
    this.#groupList.push(...this.#groups.values());
    this.#lifetimeStates.length = this.#lifetime.length;
  }

  /** Window ranges at `t`, computed once per evaluation time rather than per entity. */
  #prepare(t: number): void {
    for (const g of this.#groupList) {
      const r = windowHops(t, g.maxWindowMs, g.hopMs);
      g.first = r.first;
      g.last = r.last;
      for (const f of g.features) f.first = windowHops(t, f.windowMs, f.hopMs).first;
    }
    this.#preparedT = t;
  }

  /** A fresh NOT_FOUND row (callers may mutate rows they get). */
  notFoundRow(): FeatureValue[] {
    return this.#notFoundRow.map((v) => ({ ...v }));
  }

  /**
   * Evaluates one entity at `t` from its stored fields (`fields[i]` → `values[i]`), or returns a
   * NOT_FOUND row when there are none. Synchronous, so the plan's scratch state is safe to share.
   */
  evaluate(t: number, fields: ArrayLike<string>, values: ArrayLike<string>): FeatureValue[] {
    const n = fields.length;
    if (n === 0) return this.notFoundRow();
    if (t !== this.#preparedT) this.#prepare(t);
    const out: FeatureValue[] = new Array(this.features.length);
    const lifetimeStates = this.#lifetimeStates;
    lifetimeStates.fill(null);
    for (const g of this.#groupList) {
      g.ks.length = 0;
      g.tiles.length = 0;
    }
    for (let i = 0; i < n; i++) {
      const field = fields[i] as string;
      if (isLifetimeField(field)) {
        const lf = this.#lifetimeByField.get(field);
        if (lf) lifetimeStates[lf.slot] = JSON.parse(values[i] as string) as LastState | null;
        continue;
      }
      const colon = field.indexOf(':');
      const g = this.#groups.get(field.slice(0, colon));
      if (!g) continue;
      const k = +field.slice(colon + 1);
      if (k < g.first || k > g.last) continue;
      g.ks.push(k);
      g.tiles.push(JSON.parse(values[i] as string) as Record<string, unknown>);
    }
    const picked = this.#picked;
    for (const g of this.#groupList) {
      const { ks, tiles } = g;
      for (const f of g.features) {
        picked.length = 0;
        let newest = -Infinity;
        for (let i = 0; i < ks.length; i++) {
          const k = ks[i] as number;
          const tile = tiles[i] as Record<string, unknown>;
          if (k < f.first || !Object.hasOwn(tile, f.name)) continue;
          // Reused tuples: evaluateTiles reads them synchronously and keeps none.
          const tuple = (this.#tuples[picked.length] ??= [0, null]);
          tuple[0] = k;
          tuple[1] = tile[f.name];
          picked.push(tuple);
          if (k > newest) newest = k;
        }
        const value = evaluateTiles(f.agg, picked, t, f.windowMs, f.hopMs);
        out[f.index] = {
          value,
          status: value === null ? 'NULL_VALUE' : 'PRESENT',
          eventTs: newest === -Infinity ? null : newest * f.hopMs,
        };
      }
    }
    for (const lf of this.#lifetime) {
      const state = lifetimeStates[lf.slot] ?? null;
      if (state === null || state.ts > t) {
        out[lf.index] = { value: null, status: 'NULL_VALUE', eventTs: null };
        continue;
      }
      const value = evaluateLifetime(state, t, this.view.ttlMs);
      out[lf.index] =
        value === null
          ? { value: null, status: 'OUTSIDE_MAX_AGE', eventTs: state.ts }
          : { value, status: 'PRESENT', eventTs: state.ts };
    }
    return out;
  }
}

const plans = new WeakMap<FeatureViewSpec, Map<string, ReadPlan>>();

/** The cached plan of a request's view and feature list. */
export function readPlan(request: ReadRequest): ReadPlan {
  let byFeatures = plans.get(request.view);
  if (!byFeatures) {
    byFeatures = new Map();
    plans.set(request.view, byFeatures);
  }
  const key = request.features ? request.features.join('\u0000') : '\u0001*';
  let plan = byFeatures.get(key);
  if (!plan) {
    plan = new ReadPlan(request.view, request.features ?? request.view.features.map((f) => f.name));
    byFeatures.set(key, plan);
  }
  return plan;
}
