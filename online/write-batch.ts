/**
 * Turns TileWrite / LifetimeWrite batches into per-entity field operations, the form every
 * store writes: field name, JSON value (or merge delta) and expiry. Also the merge of one
 * field's stored JSON with a delta, with the shared aggregation library.
 */
import { lastAggregator, type LastState } from '../aggregation/index.ts';
import type { LifetimeWrite, TileWrite } from '../aggregation/tiles.ts';
import { lifetimeField, tileField } from './field-names.ts';
import {
  lifetimeExpiry,
  tileExpiry,
  tileServes,
  type ViewCatalog,
  type ViewWritePlan,
} from './view-catalog.ts';

/** One field to overwrite. */
export interface FieldSet {
  field: string;
  value: string;
  expiresAt: number;
}

/** One field to merge: a tile's partial states, or a lifetime `last` state. */
export type FieldDelta =
  | { kind: 'tile'; field: string; states: Record<string, unknown>; expiresAt: number }
  | { kind: 'lifetime'; field: string; state: LastState; expiresAt: number };

export interface EntityOps<F> {
  view: string;
  entityKey: string;
  plan: ViewWritePlan;
  fields: Map<string, F>;
  /** The latest expiry among the fields. */
  expiresAt: number;
}

const entityId = (view: string, entityKey: string): string => `${view}\u0000${entityKey}`;

function entityOps<F>(
  groups: Map<string, EntityOps<F>>,
  catalog: ViewCatalog,
  view: string,
  entityKey: string,
): EntityOps<F> {
  const id = entityId(view, entityKey);
  let g = groups.get(id);
  if (!g) {
    g = { view, entityKey, plan: catalog.get(view), fields: new Map(), expiresAt: -Infinity };
    groups.set(id, g);
  }
  return g;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * Overwrites: the last write of a field in the batch wins. Tiles that can no longer serve at
 * `now` (the store clock) are checked, then left out (`tileServes`); so is an entity left
 * without any field.
 */
export function overwriteOps(
  catalog: ViewCatalog,
  tiles: readonly TileWrite[],
  lifetimes: readonly LifetimeWrite[],
  now: number,
): EntityOps<FieldSet>[] {
  const groups = new Map<string, EntityOps<FieldSet>>();
  for (const t of tiles) {
    const plan = catalog.get(t.view);
    catalog.checkTile(plan, t.hopMs, t.states);
    if (!tileServes(plan, t.hopMs, t.hop, now)) continue;
    const expiresAt = tileExpiry(plan, t.hopMs, t.hop);
    const g = entityOps(groups, catalog, t.view, t.entityKey);
    const field = tileField(t.hopMs, t.hop);
    g.fields.set(field, { field, value: encodeTile(plan, t.states), expiresAt });
    if (expiresAt > g.expiresAt) g.expiresAt = expiresAt;
  }
  for (const l of lifetimes) {
    const g = entityOps(groups, catalog, l.view, l.entityKey);
    catalog.checkLifetime(g.plan, l.states);
    for (const [name, state] of Object.entries(l.states)) {
      const field = lifetimeField(name);
      const expiresAt = lifetimeExpiry(g.plan, state?.ts ?? null, now);
      g.fields.set(field, { field, value: JSON.stringify(state), expiresAt });
      if (expiresAt > g.expiresAt) g.expiresAt = expiresAt;
    }
  }
  return [...groups.values()].filter((g) => g.fields.size > 0);
}

/**
 * Merges: deltas of the same field in one batch are combined first. Caller states are not
 * mutated. Tiles that can no longer serve at `now` (the store clock: a late event whose hop
 * has left every window) are checked, then left out (`tileServes`). Null lifetime states carry
 * nothing to merge, and an entity left without any field (a record with its entity key but none
 * of the view's inputs) is not in the result: stores must never be asked to read or write zero
 * fields of a key.
 */
export function mergeOps(
  catalog: ViewCatalog,
  tiles: readonly TileWrite[],
  lifetimes: readonly LifetimeWrite[],
  now: number,
): EntityOps<FieldDelta>[] {
  const groups = new Map<string, EntityOps<FieldDelta>>();
  // A tile delta holds the caller's states until a second write of its field merges into it:
  // only then is it copied (`owned`), so the caller's states are never mutated.
  const owned = new Set<FieldDelta>();
  for (const t of tiles) {
    const plan = catalog.get(t.view);
    catalog.checkTile(plan, t.hopMs, t.states);
    if (!tileServes(plan, t.hopMs, t.hop, now)) continue;
    const expiresAt = tileExpiry(plan, t.hopMs, t.hop);
    const g = entityOps(groups, catalog, t.view, t.entityKey);
    const field = tileField(t.hopMs, t.hop);
    const prev = g.fields.get(field);
    if (prev?.kind === 'tile') {
      if (!owned.has(prev)) {
        prev.states = clone(prev.states);
        keepStoredKeys(g.plan, prev.states);
        owned.add(prev);
      }
      mergeStates(g.plan, prev.states, t.states, true);
    } else {
      g.fields.set(field, { kind: 'tile', field, states: t.states, expiresAt });
      if (expiresAt > g.expiresAt) g.expiresAt = expiresAt;
    }
  }
  for (const l of lifetimes) {
    const g = entityOps(groups, catalog, l.view, l.entityKey);
    catalog.checkLifetime(g.plan, l.states);
    for (const [name, state] of Object.entries(l.states)) {
      if (state === null) continue;
      const field = lifetimeField(name);
      const prev = g.fields.get(field);
      const merged =
        prev?.kind === 'lifetime' ? (lastAggregator.merge(prev.state, state) as LastState) : state;
      const expiresAt = lifetimeExpiry(g.plan, merged.ts, 0);
      g.fields.set(field, { kind: 'lifetime', field, state: merged, expiresAt });
      if (expiresAt > g.expiresAt) g.expiresAt = expiresAt;
    }
  }
  return [...groups.values()].filter((g) => g.fields.size > 0);
}

/**
 * The key a tile stores a state under: the first of its group of identical session states
 * (`sameStates`), else its own.
 */
function storedKey(plan: ViewWritePlan, name: string): string {
  const group = plan.sameStates.get(name);
  return group === undefined ? name : group[0]!;
}

/**
 * A tile's stored JSON: each group of identical session states (`sameStates`) once, under the
 * group's first key (the state of whichever member `states` holds: all are equal). States
 * that hold first members only (the fold's) are stringified as they are.
 */
export function encodeTile(plan: ViewWritePlan, states: Record<string, unknown>): string {
  if (plan.sameStates.size === 0) return JSON.stringify(states);
  const names = Object.keys(states);
  let rename = false;
  for (let i = 0; i < names.length && !rename; i++)
    rename = storedKey(plan, names[i]!) !== names[i];
  if (!rename) return JSON.stringify(states);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const key = storedKey(plan, name);
    if (!Object.hasOwn(out, key)) out[key] = states[Object.hasOwn(states, key) ? key : name];
  }
  return JSON.stringify(out);
}

/**
 * Merges `delta` into `into` (mutated) feature by feature; `delta` is not mutated. A state
 * `into` lacks is copied from `delta` when `copy` (`into` is merged into again later), else
 * shared (`into` is serialized at once and dropped). A group of identical session states is
 * merged once, into its stored key; `into` must hold no other member's key.
 */
function mergeStates(
  plan: ViewWritePlan,
  into: Record<string, unknown>,
  delta: Record<string, unknown>,
  copy: boolean,
): void {
  for (const name of Object.keys(delta)) {
    const key = storedKey(plan, name);
    if (key !== name && Object.hasOwn(delta, key)) continue; // merged as `key`
    const agg = plan.features.get(key)!.agg;
    if (Object.hasOwn(into, key)) into[key] = agg.merge(into[key], delta[name]);
    else into[key] = copy ? clone(delta[name]) : delta[name];
  }
}

/**
 * A stored tile with each group of identical session states under its stored key only (`tile`
 * mutated): a tile written before `sameStates` holds every member.
 */
function keepStoredKeys(plan: ViewWritePlan, tile: Record<string, unknown>): void {
  if (plan.sameStates.size === 0) return;
  for (const name of Object.keys(tile)) {
    const key = storedKey(plan, name);
    if (key === name) continue;
    if (!Object.hasOwn(tile, key)) tile[key] = tile[name];
    delete tile[name];
  }
}

/**
 * The new stored JSON of a field: `current` (stored JSON, or null when absent) merged with the
 * delta. Pure: neither argument is mutated, so it can be retried after a conflict.
 */
export function mergeField(
  plan: ViewWritePlan,
  current: string | null,
  delta: FieldDelta,
): { value: string; expiresAt: number } {
  if (delta.kind === 'lifetime') {
    const old = current === null ? null : (JSON.parse(current) as LastState | null);
    const merged = lastAggregator.merge(old, delta.state) as LastState;
    return {
      value: merged === old ? (current as string) : JSON.stringify(merged),
      expiresAt: lifetimeExpiry(plan, merged.ts, 0),
    };
  }
  if (current === null)
    return { value: encodeTile(plan, delta.states), expiresAt: delta.expiresAt };
  const old = JSON.parse(current) as Record<string, unknown>;
  keepStoredKeys(plan, old);
  mergeStates(plan, old, delta.states, false);
  return { value: JSON.stringify(old), expiresAt: delta.expiresAt };
}
