/**
 * The unit of exchange between the engines that compute features (offline store, stream
 * worker, push path) and the online store: partial aggregate states per hop ("tiles") and
 * lifetime `last` states, both in the aggregation library's JSON encodings.
 */
import type { LastState } from './index.ts';
import type { Scalar } from '../core/types.ts';

/** Partial states of one view's features that share a hop size, for one entity and one hop. */
export interface TileWrite {
  view: string;
  /** Encoded entity key, see {@link encodeEntityKey}. */
  entityKey: string;
  hopMs: number;
  /** Hop index: floor(ts / hopMs) of the events it holds. */
  hop: number;
  /** Feature name → partial state; only features whose hop is `hopMs`. */
  states: Record<string, unknown>;
}

/** Lifetime `last` states of one view's lifetime features, for one entity. */
export interface LifetimeWrite {
  view: string;
  entityKey: string;
  states: Record<string, LastState | null>;
}

/**
 * Encodes an entity's join-key values (in the view's entity order) as one string: the value
 * itself for a single string key, JSON for anything else. Stable across processes.
 */
export function encodeEntityKey(values: readonly Scalar[]): string {
  if (values.length === 1 && typeof values[0] === 'string') return values[0];
  return JSON.stringify(values);
}
