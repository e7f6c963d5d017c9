import { aggregator, tileExpiresAt, type Aggregator } from '../aggregation/index.ts';
import { LarderError } from '../core/errors.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import { tileKind } from '../aggregation/tile-kind.ts';
import { sequenceTiles } from '../aggregation/sequence-tiles.ts';
import { isSequenceKind } from '../core/sequence.ts';

/** A feature of a view as the write path needs it. */
export interface WriteFeature {
  /** The feature's name, or a sequence feature's state key (`aggregation/sequence-tiles.ts`). */
  name: string;
  /** Writes only merge states. */
  agg: Pick<Aggregator<unknown>, 'merge'>;
  /** Null for a lifetime feature. */
  windowMs: number | null;
  hopMs: number | null;
}

/** What writes need to know about a view: aggregations, hop sizes, expiry rules. */
export interface ViewWritePlan {
  spec: FeatureViewSpec;
  features: Map<string, WriteFeature>;
  /** hopMs → the largest window among the view's features with that hop (drives tile expiry). */
  maxWindowByHop: Map<number, number>;
  /**
   * `hopMs:retainMs;…`, what the Redis pruning script reads: the tile of hop `k` expires at
   * `k * hopMs + retainMs` (`retainMs = tileExpiry(plan, hopMs, 0)`, so the script applies the
   * same rule as {@link tileExpiry}, whatever it becomes, as long as it is `k * H` plus a constant).
   */
  pruneSpec: string;
  /**
   * Session state keys that hold the same state by definition, each → its group, the stored
   * key first ({@link sameStateGroups}); keys without a twin are absent.
   */
  sameStates: Map<string, readonly string[]>;
}

/**
 * Epoch ms from which a tile is never needed by any read at or after it: `tileExpiresAt(hop, W,
 * hopMs)` with `W` the view's largest window of that hop. With {@link tileServes} it is the ONE
 * retention rule of tiles: what materialization, the stream worker and push write, the expiry
 * every store records, what the Redis prune (`pruneSpec`, derived from it) and the SQLite purge
 * delete. A new state that must be kept longer changes it here, nowhere else.
 */
export function tileExpiry(plan: ViewWritePlan, hopMs: number, hop: number): number {
  const w = plan.maxWindowByHop.get(hopMs);
  if (w === undefined) {
    throw new LarderError(
      'LARDER_BAD_REQUEST',
      `feature view "${plan.spec.name}" has no feature with a ${hopMs} ms hop`,
      {
        hint: `hops of "${plan.spec.name}": ${[...plan.maxWindowByHop.keys()].join(', ') || '(none: lifetime features only)'}`,
        detail: { reason: 'not_in_view' },
      },
    );
  }
  return inRange(plan, tileExpiresAt(hop, w, hopMs), `hop ${hop} of ${hopMs} ms`);
}

/**
 * Whether the tile of hop `hop` (hop size `hopMs`) can still serve a read at some time `>= at`:
 * its {@link tileExpiry} is after `at`. Tiles that cannot are never written (materialization
 * passes its `end`, the stream and push paths the store clock).
 */
export function tileServes(plan: ViewWritePlan, hopMs: number, hop: number, at: number): boolean {
  return tileExpiry(plan, hopMs, hop) > at;
}

/**
 * The bound on live fields per entity of a view: per hop size `H` with largest window `W`, the
 * `W/H` hops of that window plus the one of slack in {@link tileExpiry} (tiles of hops that have
 * begun, `hop <= floor(now / H)`, and can still serve at `now`), plus one field per lifetime
 * feature. docs/online-store-format.md states it; the online conformance suite checks it.
 */
export function maxLiveFields(plan: ViewWritePlan): number {
  let n = 0;
  for (const [hopMs, windowMs] of plan.maxWindowByHop) n += windowMs / hopMs + 1;
  for (const f of plan.features.values()) if (f.windowMs === null) n += 1;
  return n;
}

/** A lifetime state expires one ms after it leaves the TTL; a null state lives one TTL from now. */
export function lifetimeExpiry(plan: ViewWritePlan, ts: number | null, now: number): number {
  return inRange(plan, (ts ?? now) + plan.spec.ttlMs + 1, `event time ${ts}`);
}

/**
 * Every store must be able to keep the expiry (Redis needs an integer): beyond 2^53 ms (a
 * JSON-valid int64 event time such as 1e21) the write is refused before anything is written.
 */
function inRange(plan: ViewWritePlan, expiresAt: number, what: string): number {
  if (Number.isSafeInteger(expiresAt)) return expiresAt;
  throw new LarderError(
    'LARDER_BAD_REQUEST',
    `feature view "${plan.spec.name}": ${what} is out of range (its expiry ${expiresAt} is beyond 2^53 ms)`,
    {
      hint: 'event times are epoch milliseconds; check the producer of this record',
      detail: { reason: 'out_of_range' },
    },
  );
}

/**
 * Session states (`session_*`, `current_session_*`) that are the same state by definition: the
 * runs of one hop's events with one gap, counting the events one `where` (and input) marks, so
 * features agreeing on the tile hop, gap, where and input keep identical states (as
 * `session_count_7d` and `avg_session_duration_7d_s` do). Each key of a group of two or more →
 * the group, in the view's feature order: the first is the one stored (`encodeTile`); reads take
 * whichever member a tile holds (tiles written before this rule hold every member).
 */
export function sameStateGroups(spec: FeatureViewSpec): Map<string, readonly string[]> {
  const groups = new Map<string, string[]>();
  for (const f of spec.features) {
    if (!isSequenceKind(f.aggregation) || f.aggregation === 'count_previous') continue;
    for (const t of sequenceTiles({ ...f, aggregation: f.aggregation }, spec.ttlMs)) {
      const id = JSON.stringify([t.hopMs, f.sequence?.gapMs ?? null, f.where, f.input]);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = []));
      g.push(t.key);
    }
  }
  const out = new Map<string, readonly string[]>();
  for (const g of groups.values()) if (g.length > 1) for (const key of g) out.set(key, g);
  return out;
}

function buildPlan(spec: FeatureViewSpec): ViewWritePlan {
  const features = new Map<string, WriteFeature>();
  const maxWindowByHop = new Map<number, number>();
  for (const f of spec.features) {
    if (isSequenceKind(f.aggregation)) {
      for (const t of sequenceTiles({ ...f, aggregation: f.aggregation }, spec.ttlMs)) {
        features.set(t.key, { name: t.key, agg: t, windowMs: t.windowMs, hopMs: t.hopMs });
        maxWindowByHop.set(t.hopMs, Math.max(maxWindowByHop.get(t.hopMs) ?? 0, t.windowMs));
      }
      continue;
    }
    features.set(f.name, {
      name: f.name,
      agg: aggregator(tileKind(f, 'the online store'), f),
      windowMs: f.windowMs,
      hopMs: f.hopMs,
    });
    if (f.windowMs !== null && f.hopMs !== null) {
      maxWindowByHop.set(f.hopMs, Math.max(maxWindowByHop.get(f.hopMs) ?? 0, f.windowMs));
    }
  }
  const plan: ViewWritePlan = {
    spec,
    features,
    maxWindowByHop,
    pruneSpec: '',
    sameStates: sameStateGroups(spec),
  };
  plan.pruneSpec = [...maxWindowByHop.keys()]
    .map((h) => `${h}:${tileExpiry(plan, h, 0)}`)
    .join(';');
  return plan;
}

const plans = new WeakMap<FeatureViewSpec, ViewWritePlan>();

/** The write plan of one view, built once per spec object (for writers outside a store). */
export function viewWritePlan(spec: FeatureViewSpec): ViewWritePlan {
  let plan = plans.get(spec);
  if (!plan) plans.set(spec, (plan = buildPlan(spec)));
  return plan;
}

/** The views a store writes, by name, with their write plans built once. */
export class ViewCatalog {
  readonly #plans = new Map<string, ViewWritePlan>();

  constructor(views: Iterable<FeatureViewSpec>) {
    for (const v of views) this.#plans.set(v.name, viewWritePlan(v));
  }

  get(view: string): ViewWritePlan {
    const plan = this.#plans.get(view);
    if (!plan) {
      throw new LarderError(
        'LARDER_NOT_FOUND',
        `feature view "${view}" is not known to the online store`,
        {
          hint: `pass it in the store's views option (known: ${[...this.#plans.keys()].join(', ') || '(none)'})`,
        },
      );
    }
    return plan;
  }

  /** Checks that a tile's features all belong to the view with that hop size. */
  checkTile(plan: ViewWritePlan, hopMs: number, states: Record<string, unknown>): void {
    for (const name of Object.keys(states)) {
      const f = plan.features.get(name);
      if (!f || f.hopMs !== hopMs) {
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `tile of "${plan.spec.name}" with hop ${hopMs} ms holds "${name}", which is not a feature of that view with that hop`,
          { detail: { reason: 'not_in_view' } },
        );
      }
    }
  }

  checkLifetime(plan: ViewWritePlan, states: Record<string, unknown>): void {
    for (const name of Object.keys(states)) {
      const f = plan.features.get(name);
      if (!f || f.windowMs !== null) {
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `"${name}" is not a lifetime feature of "${plan.spec.name}"`,
          { detail: { reason: 'not_in_view' } },
        );
      }
    }
  }
}

/** Namespaces prefix keys: `[a-zA-Z0-9_-]+` only, so prefixes never overlap or need escaping. */
export function checkNamespace(namespace: string): string {
  if (!/^[a-zA-Z0-9_-]+$/.test(namespace)) {
    throw new LarderError(
      'LARDER_CONFIG_INVALID',
      `online store namespace "${namespace}" is invalid`,
      { hint: 'use letters, digits, "_" and "-" only (LARDER_NAMESPACE)' },
    );
  }
  return namespace;
}
