/**
 * Applies raw source records to the online store, the way the stream worker and `POST /push`
 * do: every feature view fed by the source filters the records, reads their entity keys, folds
 * them into per-hop tiles (one partial state per feature, per (entity, hop size, hop)) and
 * lifetime `last` states with the shared aggregation library, then merges those into the
 * store (`mergeTiles` / `mergeLifetime`, atomic per entity key).
 */
import { aggregator, hopIndex, isAggregableNumber, type Aggregator } from '../aggregation/index.ts';
import {
  compileExpr,
  compileFilter,
  compileMulti,
  type Value,
} from '../definitions/expr/expr-eval.ts';
import { splitArrayPath, type ExprNode } from '../definitions/expr/expr.ts';
import type { OnlineStore } from '../online/online-store.ts';
import type { Repository } from '../definitions/repository.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import { encodeEntityKey, type LifetimeWrite, type TileWrite } from '../aggregation/tiles.ts';
import type { Scalar } from '../core/types.ts';
import { tileKind } from '../aggregation/tile-kind.ts';
import { sequenceTiles, type SequenceTile } from '../aggregation/sequence-tiles.ts';
import { isSequenceKind } from '../core/sequence.ts';
import { sameStateGroups } from '../online/view-catalog.ts';

type Rec = Record<string, unknown>;

interface CompiledFeature {
  name: string;
  agg: Aggregator<unknown>;
  where: (r: Rec) => boolean;
  /** Inputs (one per array element for `a[].b`); null for count. */
  input: ((r: Rec) => Value[]) | null;
  weight: ((r: Rec) => Value[]) | null;
  /**
   * When neither the input nor the weight reads an array path: the one input (and weight), read
   * without the one-element list `input` / `weight` return (no allocation per record).
   */
  one: { input: (r: Rec) => Value; weight: ((r: Rec) => Value) | null } | null;
  /** Index of the feature's hop size in `CompiledView.hopSizes`; -1 for a lifetime feature. */
  slot: number;
}

/** A sequence feature: every record of the view is an event; `where` only marks it. */
interface CompiledSequence {
  /** Each tile with the index of its hop size in `CompiledView.hopSizes`. */
  tiles: { tile: SequenceTile; slot: number }[];
  match: (r: Rec) => boolean;
  /** The compared field of `changed`. */
  value: ((r: Rec) => Value) | null;
}

interface CompiledView {
  spec: FeatureViewSpec;
  filter: (r: Rec) => boolean;
  keys: ((r: Rec) => Value)[];
  features: CompiledFeature[];
  sequences: CompiledSequence[];
  /** The distinct hop sizes of the view's tiles (features and sequence tiles). */
  hopSizes: number[];
}

const compiled = new WeakMap<Repository, Map<string, CompiledView[]>>();

function compileView(spec: FeatureViewSpec, keys: CompiledView['keys']): CompiledView {
  const hopSizes: number[] = [];
  const slotOf = (hopMs: number): number => {
    let i = hopSizes.indexOf(hopMs);
    if (i === -1) i = hopSizes.push(hopMs) - 1;
    return i;
  };
  // A session state identical by definition to an earlier feature's (`sameStateGroups`: the
  // store keeps only the group's first) is not folded: the first member's state is the one
  // every store writes (`encodeTile`) and every read takes.
  const same = sameStateGroups(spec);
  const sequences: CompiledSequence[] = [];
  for (const f of spec.features) {
    if (!isSequenceKind(f.aggregation)) continue;
    const tiles = sequenceTiles({ ...f, aggregation: f.aggregation }, spec.ttlMs)
      .filter((tile) => (same.get(tile.key)?.[0] ?? tile.key) === tile.key)
      .map((tile) => ({ tile, slot: slotOf(tile.hopMs) }));
    if (tiles.length === 0) continue;
    sequences.push({
      tiles,
      match: compileFilter(f.where ?? undefined),
      value: f.input ? compileExpr(f.input) : null,
    });
  }
  const features = spec.features
    .filter((f) => !isSequenceKind(f.aggregation))
    .map((f) => ({
      name: f.name,
      agg: aggregator(tileKind(f, 'the stream worker and push'), f),
      where: compileFilter(f.where ?? undefined),
      input: f.aggregation === 'count' || !f.input ? null : compileMulti(f.input),
      weight: f.weight ? compileMulti(f.weight) : null,
      one:
        f.aggregation === 'count' || !f.input || readsArray(f.input) || readsArray(f.weight)
          ? null
          : { input: compileExpr(f.input), weight: f.weight ? compileExpr(f.weight) : null },
      slot: f.hopMs === null ? -1 : slotOf(f.hopMs),
    }));
  return {
    spec,
    filter: compileFilter(spec.filter ?? undefined),
    keys,
    features,
    sequences,
    hopSizes,
  };
}

/** Whether `node` is a column path through an array (`a[].b`: one value per element). */
function readsArray(node: ExprNode | null | undefined): boolean {
  return node?.op === 'col' && splitArrayPath(node.path) !== null;
}

/** The compiled feature views fed by `source` (cached per repository). */
function viewsOf(repo: Repository, source: string): CompiledView[] {
  let bySource = compiled.get(repo);
  if (!bySource) compiled.set(repo, (bySource = new Map()));
  let views = bySource.get(source);
  if (!views) {
    views = [...repo.featureViews.values()]
      .filter((v) => v.spec.source === source && v.spec.online)
      .map((v) =>
        compileView(
          v.spec,
          v.entityDefs.map((e) => compileExpr(v.spec.keys[e.spec.joinKey]!)),
        ),
      );
    bySource.set(source, views);
  }
  return views;
}

/** One entity's writes of one view during a fold: its lifetime state and, per hop size, its tiles by hop. */
interface EntityWrites {
  lifetime: LifetimeWrite | null;
  tiles: Map<number, TileWrite>[];
}

/** Tiles and lifetime states folded from a batch of records, not yet written. */
export interface FoldedRecords {
  tiles: TileWrite[];
  lifetime: LifetimeWrite[];
  /** Views that received at least one record. */
  views: string[];
  /** Per view: what the fold touched (for observers). */
  applied: AppliedView[];
}

/** What one `applyRecords` call wrote to one view (for observers: dashboards, metrics). */
export interface AppliedView {
  view: string;
  /** Records that passed the view's filter and had every entity key. */
  records: number;
  /** Encoded entity keys written (distinct). */
  entityKeys: string[];
  /** Greatest event time among those records, epoch ms. */
  newestEventTs: number;
}

/** Called once per `applyRecords` call, after the store merge succeeded. */
export type ApplyObserver = (event: {
  source: string;
  records: readonly Rec[];
  views: AppliedView[];
}) => void;

export interface ApplyResult {
  /** Views that received at least one record. */
  views: string[];
  tiles: number;
  lifetimeStates: number;
}

/**
 * Folds validated records of `source` (a stream or push source name) into tiles and lifetime
 * states and merges them into the store. `timestampField` / `idField` come from the source's
 * batch source. `observer`, if given, hears what was written once the merge succeeded.
 *
 * @example
 * await applyRecords(repo, store, 'user_events', events, { timestampField: 'timestamp', idField: 'eventId' });
 */
export async function applyRecords(
  repo: Repository,
  store: Pick<OnlineStore, 'mergeTiles' | 'mergeLifetime'>,
  source: string,
  records: readonly Rec[],
  fields: { timestampField: string; idField: string },
  observer?: ApplyObserver,
): Promise<ApplyResult> {
  const {
    tiles: tileList,
    lifetime: lifetimeList,
    views,
    applied,
  } = foldRecords(repo, source, records, fields, observer !== undefined);
  if (tileList.length > 0) await store.mergeTiles(tileList);
  if (lifetimeList.length > 0) await store.mergeLifetime(lifetimeList);
  observer?.({ source, records, views: applied });
  return { views, tiles: tileList.length, lifetimeStates: lifetimeList.length };
}

/**
 * The fold half of {@link applyRecords}: one partial state per (view, entity, hop) tile and
 * per (view, entity) lifetime state for the whole batch, nothing written. The stream worker
 * hands the result to `OnlineStore.applyStreamBatch` with its checkpoint.
 *
 * @example
 * const { tiles, lifetime } = foldRecords(repo, 'user_events', events, { timestampField: 'timestamp', idField: 'eventId' });
 */
export function foldRecords(
  repo: Repository,
  source: string,
  records: readonly Rec[],
  fields: { timestampField: string; idField: string },
  /** Also report, per view, the records, entity keys and newest event time folded. */
  track = false,
): FoldedRecords {
  const tiles: TileWrite[] = [];
  const lifetime: LifetimeWrite[] = [];
  const touched = new Set<string>();
  const applied: AppliedView[] = [];
  // Per record, once for every view: event time and id.
  const tsOf: number[] = new Array(records.length);
  const idOf: string[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    tsOf[i] = records[i]![fields.timestampField] as number;
    idOf[i] = String(records[i]![fields.idField]);
  }
  for (const view of viewsOf(repo, source)) {
    const viewName = view.spec.name;
    const seen = track ? { keys: new Set<string>(), records: 0, newest: -Infinity } : null;
    const entities = new Map<string, EntityWrites>();
    const slots = view.hopSizes.length;
    // The record's tile per hop size (found once per record, when a state first needs it).
    const recordTiles: (TileWrite | undefined)[] = new Array(slots);
    const keyValues: Scalar[] = [];
    for (let ri = 0; ri < records.length; ri++) {
      const r = records[ri]!;
      if (!view.filter(r)) continue;
      keyValues.length = 0;
      // Indexed loops in this function: the for-of iterators were a tenth of the fold's garbage.
      for (let ki = 0; ki < view.keys.length; ki++) {
        const v = view.keys[ki]!(r);
        if (v === null) break;
        keyValues.push(v);
      }
      if (keyValues.length !== view.keys.length) continue;
      touched.add(viewName);
      const entityKey = encodeEntityKey(keyValues);
      const ts = tsOf[ri]!;
      const id = idOf[ri]!;
      if (seen) {
        seen.keys.add(entityKey);
        seen.records++;
        if (ts > seen.newest) seen.newest = ts;
      }
      let ent = entities.get(entityKey);
      if (!ent) {
        ent = { lifetime: null, tiles: [] };
        for (let i = 0; i < slots; i++) ent.tiles.push(new Map());
        entities.set(entityKey, ent);
      }
      recordTiles.fill(undefined);
      for (let si = 0; si < view.sequences.length; si++) {
        const sq = view.sequences[si]!;
        const event = { ts, id, value: sq.value ? sq.value(r) : null, match: sq.match(r) };
        for (let ti = 0; ti < sq.tiles.length; ti++) {
          const { tile: t, slot } = sq.tiles[ti]!;
          const states = (recordTiles[slot] ??= tileAt(
            ent,
            slot,
            t.hopMs,
            ts,
            viewName,
            entityKey,
            tiles,
          )).states;
          // The fold's own states (from `init()`, not yet handed on): updated in place.
          states[t.key] = t.addOwned(
            Object.hasOwn(states, t.key) ? states[t.key] : t.init(),
            event,
          );
        }
      }
      for (let fi = 0; fi < view.features.length; fi++) {
        const f = view.features[fi]!;
        if (!f.where(r)) continue;
        let states: Record<string, unknown>;
        let state: unknown;
        if (f.slot === -1) {
          let w = ent.lifetime;
          if (!w) lifetime.push((w = ent.lifetime = { view: viewName, entityKey, states: {} }));
          states = w.states;
          state = states[f.name] ?? f.agg.init();
        } else {
          states = (recordTiles[f.slot] ??= tileAt(
            ent,
            f.slot,
            view.hopSizes[f.slot]!,
            ts,
            viewName,
            entityKey,
            tiles,
          )).states;
          state = Object.hasOwn(states, f.name) ? states[f.name] : f.agg.init();
        }
        if (!f.input) state = f.agg.add(state, null, ts, id, 1);
        else if (f.one) {
          // The same as below for a one-element list of values and weights.
          const w = f.one.weight ? f.one.weight(r) : 1;
          if (typeof w === 'number' && isAggregableNumber(w))
            state = f.agg.add(state, f.one.input(r) ?? null, ts, id, w);
        } else {
          const values = f.input(r);
          const weights = f.weight ? f.weight(r) : null;
          for (let i = 0; i < values.length; i++) {
            const w = weights ? weights[i] : 1;
            // A null weight skips the value, as in the offline engines and the reference; so does
            // a weight above 1e300 in magnitude (docs/concepts.md "Nulls").
            if (typeof w !== 'number' || !isAggregableNumber(w)) continue;
            state = f.agg.add(state, values[i] ?? null, ts, id, w);
          }
        }
        states[f.name] = state;
      }
    }
    if (seen && seen.records > 0)
      applied.push({
        view: viewName,
        records: seen.records,
        entityKeys: [...seen.keys],
        newestEventTs: seen.newest,
      });
  }
  return { tiles, lifetime, views: [...touched], applied };
}

/** The entity's tile of hop size `hopMs` (slot `slot`) holding `ts`, created and listed in `out` when new. */
function tileAt(
  ent: EntityWrites,
  slot: number,
  hopMs: number,
  ts: number,
  view: string,
  entityKey: string,
  out: TileWrite[],
): TileWrite {
  const hop = hopIndex(ts, hopMs);
  const byHop = ent.tiles[slot]!;
  let w = byHop.get(hop);
  if (!w) {
    byHop.set(hop, (w = { view, entityKey, hopMs, hop, states: {} }));
    out.push(w);
  }
  return w;
}

/**
 * How old a record of `source` may be and still change a served value (0 if nothing is
 * served): the largest of the windows of the online views it feeds and of the TTLs of those
 * views that have lifetime features (a lifetime value is served until it is older than the
 * TTL, so a late record within the TTL can still be the newest one).
 */
export function maxRecordAgeMs(repo: Repository, source: string): number {
  let max = 0;
  for (const v of viewsOf(repo, source))
    for (const f of v.spec.features) {
      // A sequence feature's state reaches back up to the TTL (previous events, sessions).
      const age = isSequenceKind(f.aggregation) ? v.spec.ttlMs : (f.windowMs ?? v.spec.ttlMs);
      if (age > max) max = age;
    }
  return max;
}

/**
 * Record paths (`userId`, `properties.productId`) the entity keys of the views fed by `source`
 * read: what `ingest.maxKeyBytes` checks (`offline/validate-record.ts`). Array paths are left
 * out (no key reads one).
 */
export function joinKeyPaths(repo: Repository, source: string): Set<string> {
  const out = new Set<string>();
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    const node = n as Record<string, unknown>;
    if (node.op === 'col' && typeof node.path === 'string' && !node.path.includes('['))
      out.add(node.path);
    for (const v of Object.values(node)) if (typeof v === 'object') walk(v);
  };
  for (const v of viewsOf(repo, source)) for (const k of Object.values(v.spec.keys)) walk(k);
  return out;
}

/** Top-level record fields read by the entity keys of the views fed by `source`. */
export function joinKeyFields(repo: Repository, source: string): Set<string> {
  const out = new Set<string>();
  const walk = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    const node = n as Record<string, unknown>;
    if (node.op === 'col' && typeof node.path === 'string') out.add(node.path.split(/[.[]/)[0]!);
    for (const v of Object.values(node)) if (typeof v === 'object') walk(v);
  };
  for (const v of viewsOf(repo, source)) for (const k of Object.values(v.spec.keys)) walk(k);
  return out;
}
