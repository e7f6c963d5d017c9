/**
 * The reference for sequence features (previous-event relations and gap sessions): the spec's
 * "Version 2" definitions transcribed as naively as possible — sort the entity's remembered
 * events, walk them — and sharing no code with the tiled states (`session-state.ts`,
 * `previous-state.ts`) that the engines use. Not for production use.
 */
import type { Scalar } from '../core/types.ts';
import type { PreviousPredicate, SequenceKind, SequenceMemory } from '../core/sequence.ts';
import { compareEvents, valuesDiffer, type SequenceEvent } from './sequence-event.ts';

const windowStartOf = (t: number, windowMs: number, hopMs: number): number =>
  (Math.floor(t / hopMs) - windowMs / hopMs + 1) * hopMs;

/** The events that exist at `t`: inside the memory window, sorted by {@link compareEvents}. */
export function rememberedEvents(
  events: readonly SequenceEvent[],
  t: number,
  memory: SequenceMemory,
): SequenceEvent[] {
  const from = windowStartOf(t, memory.ttlMs, memory.hopMs);
  return events.filter((e) => from <= e.ts && e.ts <= t).sort(compareEvents);
}

/** A session at `t`: its events in order (at least one). */
export type Session = SequenceEvent[];

/** The sessions at `t`: remembered events split where the gap is strictly greater than `gapMs`. */
export function sessionsAt(
  events: readonly SequenceEvent[],
  t: number,
  gapMs: number,
  memory: SequenceMemory,
): Session[] {
  const out: Session[] = [];
  for (const e of rememberedEvents(events, t, memory)) {
    const cur = out[out.length - 1];
    if (cur && e.ts - cur[cur.length - 1]!.ts <= gapMs) cur.push(e);
    else out.push([e]);
  }
  return out;
}

/**
 * `count_previous` at `t`: the window's matching events whose previous remembered event exists
 * and satisfies `predicate` against them.
 */
export function bruteForcePrevious(
  predicate: PreviousPredicate,
  events: readonly SequenceEvent[],
  t: number,
  windowMs: number,
  hopMs: number,
  memory: SequenceMemory,
): number {
  const ws = windowStartOf(t, windowMs, hopMs);
  const known = rememberedEvents(events, t, memory);
  let n = 0;
  for (let i = 1; i < known.length; i++) {
    const e = known[i]!;
    const prev = known[i - 1]!;
    if (e.ts < ws || !e.match) continue;
    const holds =
      predicate.kind === 'gap_below'
        ? e.ts - prev.ts < predicate.ms
        : valuesDiffer(prev.value, e.value);
    if (holds) n++;
  }
  return n;
}

/** What a session feature needs besides its kind. */
export interface SessionFeature {
  kind: Exclude<SequenceKind, 'count_previous'>;
  gapMs: number;
  /** Window and hop of `session_count` / `session_avg_duration`; null for the current session. */
  windowMs: number | null;
  hopMs: number | null;
}

/**
 * A session feature at `t`:
 * - `session_count`: sessions whose start is in the window and that hold a matching event;
 * - `session_avg_duration`: the mean of their (end − start) / 1000, null when there are none;
 * - `current_session_count`: matching events of the current session (0 when there is none);
 * - `current_session_duration`: its (end − start) / 1000 (null when there is none).
 * The current session is the one holding the newest event, provided `t − its ts <= gapMs`.
 */
export function bruteForceSession(
  feature: SessionFeature,
  events: readonly SequenceEvent[],
  t: number,
  memory: SequenceMemory,
): Scalar | null {
  const sessions = sessionsAt(events, t, feature.gapMs, memory);
  const start = (s: Session): number => s[0]!.ts;
  const end = (s: Session): number => s[s.length - 1]!.ts;
  if (feature.kind === 'current_session_count' || feature.kind === 'current_session_duration') {
    const last = sessions[sessions.length - 1];
    const current = last && t - end(last) <= feature.gapMs ? last : undefined;
    if (feature.kind === 'current_session_count')
      return current ? current.filter((e) => e.match).length : 0;
    return current ? (end(current) - start(current)) / 1000 : null;
  }
  if (feature.windowMs === null || feature.hopMs === null)
    throw new RangeError(`${feature.kind} needs a window`);
  const ws = windowStartOf(t, feature.windowMs, feature.hopMs);
  const inWindow = sessions.filter((s) => start(s) >= ws && s.some((e) => e.match));
  if (feature.kind === 'session_count') return inWindow.length;
  if (inWindow.length === 0) return null;
  return inWindow.reduce((sum, s) => sum + (end(s) - start(s)) / 1000, 0) / inWindow.length;
}
