/**
 * Sequence features: aggregations that depend on the order of an entity's events rather than on
 * a fold of each event alone — previous-event relations and gap sessions (spec "Version 2").
 * They are kinds of their own (never `count` with an option) so an engine that does not know
 * them can refuse them instead of computing a plain count.
 */

/**
 * - `count_previous`: window events whose relation to their previous event holds;
 * - `session_count` / `session_avg_duration`: over sessions whose start is in the window;
 * - `current_session_count` / `current_session_duration`: the current session at `t`.
 */
export const SEQUENCE_KINDS = [
  'count_previous',
  'session_count',
  'session_avg_duration',
  'current_session_count',
  'current_session_duration',
] as const;
export type SequenceKind = (typeof SEQUENCE_KINDS)[number];

export const isSequenceKind = (kind: string): kind is SequenceKind =>
  (SEQUENCE_KINDS as readonly string[]).includes(kind);

/**
 * A relation between an event and its previous event:
 * - `gap_below`: `ts - previous.ts < ms`;
 * - `changed`: the feature's input is non-null on both events and differs.
 */
export type PreviousPredicate = { kind: 'gap_below'; ms: number } | { kind: 'changed' };

/**
 * How far back a sequence feature remembers an entity's events: at `t` only events with
 * `windowStart(t, ttlMs, hopMs) <= ts <= t` exist (the version 1 window rule with W = the view's
 * TTL). `hopMs` is {@link memoryHopMs}`(ttlMs)`.
 */
export interface SequenceMemory {
  ttlMs: number;
  hopMs: number;
}

/** The memory hop of a TTL: the largest of 1d, 1h, 1m that divides it. */
export function memoryHopMs(ttlMs: number): number {
  for (const h of [86_400_000, 3_600_000, 60_000]) if (ttlMs % h === 0) return h;
  throw new RangeError(`TTL ${ttlMs} ms is not whole minutes`);
}
