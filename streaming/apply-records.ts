/**
 * Applies raw source records to the online store, the way the stream worker and `POST /push`
 * do: every feature view fed by the source filters the records, reads their entity keys, folds
 * them into per-hop tiles (one partial state per feature, per (entity, hop size, hop)) and
 * lifetime `last` states with the shared aggregation library, then merges those into the
 * store (`mergeTiles` / `mergeLifetime`, atomic per entity key).
 */
import { aggregator, hopIndex, type Aggregator, type LastState } from '../aggregation/index.ts';
import {
  compileExpr,
  compileFilter,
  compileMulti,
  type Value,
} from '../definitions/expr/expr-eval.ts';
import type { OnlineStore } from '../online/online-store.ts';
import type { Repository } from '../definitions/repository.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import { encodeEntityKey, type LifetimeWrite, type TileWrite } from '../aggregation/tiles.ts';
import type { Scalar } from '../core/types.ts';
import { tileKind } from '../aggregation/tile-kind.ts';
import { sequenceTiles, type SequenceTile } from '../aggregation/sequence-tiles.ts';
import { isSequenceKind } from '../core/sequence.ts';

type Rec = Record<string, unknown>;

interface CompiledFeature {
  name: string;
  agg: Aggregator<unknown>;
  where: (r: Rec) => boolean;
  /** Inputs (one per array element for `a[].b`); null for count. */
  input: ((r: Rec) => Value[]) | null;
  weight: ((r: Rec) => Value[]) | null;
  hopMs: number | null;
}

/** A sequence feature: every record of the view is an event; `where` only marks it. */
interface CompiledSequence {
  tiles: SequenceTile[];
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
}

const compiled = new WeakMap<Repository, Map<string, CompiledView[]>>();

/** The compiled feature views fed by `source` (cached per repository). */
function viewsOf(repo: Repository, source: string): CompiledView[] {
  let bySource = compiled.get(repo);
  if (!bySource) compiled.set(repo, (bySource = new Map()));
  let views = bySource.get(source);
  if (!views) {
    views = [...repo.featureViews.values()]
      .filter((v) => v.spec.source === source && v.spec.online)
      .map((v) => ({
        spec: v.spec,
        filter: compileFilter(v.spec.filter ?? undefined),
        keys: v.entityDefs.map((e) => compileExpr(v.spec.keys[e.spec.joinKey]!)),
        features: v.spec.features
          .filter((f) => !isSequenceKind(f.aggregation))
          .map((f) => ({
            name: f.name,
            agg: aggregator(tileKind(f, 'the stream worker and push'), f),
            where: compileFilter(f.where ?? undefined),
            input: f.aggregation === 'count' || !f.input ? null : compileMulti(f.input),
            weight: f.weight ? compileMulti(f.weight) : null,
            hopMs: f.hopMs,
          })),
        sequences: v.spec.features.flatMap((f) =>
          isSequenceKind(f.aggregation)
            ? [
                {
                  tiles: sequenceTiles({ ...f, aggregation: f.aggregation }, v.spec.ttlMs),
                  match: compileFilter(f.where ?? undefined),
                  value: f.input ? compileExpr(f.input) : null,
                },
              ]
            : [],
        ),
      }));
    bySource.set(source, views);
  }
  return views;
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
  const tiles = new Map<string, TileWrite>();
  const lifetime = new Map<string, LifetimeWrite>();
  const touched = new Set<string>();
  const applied: AppliedView[] = [];
  for (const view of viewsOf(repo, source)) {
    const seen = track ? { keys: new Set<string>(), records: 0, newest: -Infinity } : null;
    for (const r of records) {
      if (!view.filter(r)) continue;
      const keyValues: Scalar[] = [];
      for (const k of view.keys) {
        const v = k(r);
        if (v === null) break;
        keyValues.push(v);
      }
      if (keyValues.length !== view.keys.length) continue;
      touched.add(view.spec.name);
      const entityKey = encodeEntityKey(keyValues);
      const ts = r[fields.timestampField] as number;
      const id = String(r[fields.idField]);
      if (seen) {
        seen.keys.add(entityKey);
        seen.records++;
        if (ts > seen.newest) seen.newest = ts;
      }
      const tileOf = (hopMs: number, hop: number): Record<string, unknown> => {
        const k = `${view.spec.name}\u0000${entityKey}\u0000${hopMs}\u0000${hop}`;
        let w = tiles.get(k);
        if (!w) tiles.set(k, (w = { view: view.spec.name, entityKey, hopMs, hop, states: {} }));
        return w.states;
      };
      for (const sq of view.sequences) {
        const event = { ts, id, value: sq.value ? sq.value(r) : null, match: sq.match(r) };
        for (const t of sq.tiles) {
          const states = tileOf(t.hopMs, hopIndex(ts, t.hopMs));
          states[t.key] = t.add(Object.hasOwn(states, t.key) ? states[t.key] : t.init(), event);
        }
      }
      for (const f of view.features) {
        if (!f.where(r)) continue;
        let state: unknown;
        let save: (s: unknown) => void;
        if (f.hopMs === null) {
          const k = `${view.spec.name}\u0000${entityKey}`;
          let w = lifetime.get(k);
          if (!w) lifetime.set(k, (w = { view: view.spec.name, entityKey, states: {} }));
          const states = w.states;
          state = states[f.name] ?? f.agg.init();
          save = (s) => (states[f.name] = s as LastState | null);
        } else {
          const hop = hopIndex(ts, f.hopMs);
          const k = `${view.spec.name}\u0000${entityKey}\u0000${f.hopMs}\u0000${hop}`;
          let w = tiles.get(k);
          if (!w)
            tiles.set(
              k,
              (w = { view: view.spec.name, entityKey, hopMs: f.hopMs, hop, states: {} }),
            );
          const states = w.states;
          state = Object.hasOwn(states, f.name) ? states[f.name] : f.agg.init();
          save = (s) => (states[f.name] = s);
        }
        if (!f.input) state = f.agg.add(state, null, ts, id, 1);
        else {
          const values = f.input(r);
          const weights = f.weight ? f.weight(r) : null;
          for (let i = 0; i < values.length; i++) {
            const w = weights ? weights[i] : 1;
            // A null weight skips the value, as in the offline engines and the reference.
            if (typeof w !== 'number') continue;
            state = f.agg.add(state, values[i] ?? null, ts, id, w);
          }
        }
        save(state);
      }
    }
    if (seen && seen.records > 0)
      applied.push({
        view: view.spec.name,
        records: seen.records,
        entityKeys: [...seen.keys],
        newestEventTs: seen.newest,
      });
  }
  return {
    tiles: [...tiles.values()],
    lifetime: [...lifetime.values()],
    views: [...touched],
    applied,
  };
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
