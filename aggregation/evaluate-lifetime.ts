import type { Scalar } from '../core/types.ts';
import type { LastState } from './last-aggregator.ts';

/**
 * A lifetime (unwindowed) `last` feature at `t` from its state: the value, or null when there
 * is none, when it is older than the TTL (`t - ts > ttlMs`, strict: exactly `ttlMs` old is
 * still valid), or when it is newer than `t` (a read in the past must not see it).
 *
 * @example
 * evaluateLifetime({ v: 'ios', ts: 1_000, id: 'e1' }, 1_000 + ttl, ttl)     // 'ios'
 * evaluateLifetime({ v: 'ios', ts: 1_000, id: 'e1' }, 1_000 + ttl + 1, ttl) // null
 */
export function evaluateLifetime(state: LastState | null, t: number, ttlMs: number): Scalar | null {
  if (state === null || state.ts > t || t - state.ts > ttlMs) return null;
  return state.v;
}
