/**
 * The slots of a materialization schedule: D = offset + k · every (epoch ms, UTC). The run for
 * slot D materializes up to `end = D`, so a re-run of a slot loads the same history.
 */
import type { MaterializationSpec } from '../definitions/spec.ts';

type Schedule = Pick<MaterializationSpec, 'everyMs' | 'offsetMs' | 'catchUp'>;

/** Catch-up runs at most this many missed slots per tick; the rest follow on later ticks. */
export const MAX_CATCH_UP = 100;

/** The latest slot at or before `t`. */
export const slotAt = (s: Schedule, t: number): number =>
  Math.floor((t - s.offsetMs) / s.everyMs) * s.everyMs + s.offsetMs;

/** The first slot after `t`. */
export const nextSlot = (s: Schedule, t: number): number => slotAt(s, t) + s.everyMs;

/**
 * The slots to run at `now`, oldest first, when `last` is the latest slot already done (null:
 * none): nothing when it is the latest slot; with catch-up, every slot after it (at most
 * MAX_CATCH_UP of them, the oldest); else only the latest.
 */
export function dueSlots(s: Schedule, now: number, last: number | null): number[] {
  const latest = slotAt(s, now);
  if (last !== null && latest <= last) return [];
  if (!s.catchUp || last === null) return [latest];
  const out: number[] = [];
  for (
    let d = slotAt(s, last) + s.everyMs;
    d <= latest && out.length < MAX_CATCH_UP;
    d += s.everyMs
  )
    out.push(d);
  return out;
}
