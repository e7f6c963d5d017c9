/**
 * Test-only crash injection: `LARDER_TEST_CRASH_AT=<point>:<n>` (validated by the config, armed
 * once at the start of `larder stream`) makes the process kill itself with SIGKILL the n-th time
 * it reaches `<point>`, after writing `LARDER_TEST_CRASH <point> <n>` on stderr, so a test knows
 * exactly where the kill happened. Unarmed, a crash point is a no-op.
 *
 * - `after-sink-append`: the offline sink's lines are appended, the batch not yet applied.
 * - `after-pending-mark`: Redis Cluster: the partition's `pending` mark is written, no slot
 *   script has run yet.
 * - `after-slot-scripts`: Redis Cluster: every per-slot script has applied the batch, the
 *   partition's checkpoint has not moved.
 * - `after-store-write`: the store has applied the batch with its checkpoint, the Kafka offset
 *   is not resolved or committed.
 */
import { writeSync } from 'node:fs';

export const CRASH_POINTS = [
  'after-sink-append',
  'after-pending-mark',
  'after-slot-scripts',
  'after-store-write',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface CrashAt {
  point: CrashPoint;
  /** Crash the n-th time the point is reached (1-based). */
  n: number;
}

/** Parses `<point>:<n>`. */
export function parseCrashAt(text: string): CrashAt | { error: string } {
  const m = /^([a-z-]+):(\d+)$/.exec(text);
  const point = m?.[1] as CrashPoint | undefined;
  if (!m || !point || !CRASH_POINTS.includes(point) || Number(m[2]) < 1)
    return {
      error: `LARDER_TEST_CRASH_AT="${text}": write <point>:<n>, n ≥ 1, point one of ${CRASH_POINTS.join(', ')}`,
    };
  return { point, n: Number(m[2]) };
}

let armed: CrashAt | null = null;
let hits = 0;
/** In-process tests: what to do instead of SIGKILL (e.g. throw). */
let action: ((at: CrashAt) => void) | null = null;

/** Arms (or, with null, disarms) the crash injection; `onCrash` replaces SIGKILL (in-process tests). */
export function armCrash(at: CrashAt | null, onCrash?: (at: CrashAt) => void): void {
  armed = at;
  hits = 0;
  action = onCrash ?? null;
}

/** A crash point: kills the process (or runs the test's action) on the armed hit. */
export function crashPoint(point: CrashPoint): void {
  if (armed === null || armed.point !== point || ++hits !== armed.n) return;
  if (action) return action(armed);
  writeSync(2, `LARDER_TEST_CRASH ${point} ${armed.n}\n`);
  process.kill(process.pid, 'SIGKILL');
}
