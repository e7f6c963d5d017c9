/**
 * The Freshness tab's scheduled materialization: per view with a `materialization` schedule, its
 * next slot and its last run (`larder scheduler`'s history in `$LARDER_HOME/runs.jsonl`).
 */
import type { Repository } from '../../definitions/repository.ts';
import { readRuns, type RunRecord } from '../../scheduler/run-history.ts';
import { scheduledViews } from '../../scheduler/scheduler.ts';
import { nextSlot } from '../../scheduler/slots.ts';

export interface ScheduledViewJson {
  view: string;
  kind: 'feature_view' | 'batch_view';
  everyMs: number;
  offsetMs: number;
  cron: string | null;
  /** The next slot after `now` (epoch ms). */
  nextRun: number;
  /** The latest attempt, whatever its outcome; null before the first. */
  lastRun: Pick<
    RunRecord,
    'slot' | 'attempt' | 'attempts' | 'start' | 'end' | 'outcome' | 'rows' | 'error'
  > | null;
  /** When the latest successful attempt ended; null before the first. */
  lastSuccessAt: number | null;
}

export function scheduledJson(repo: Repository, home: string, now: number): ScheduledViewJson[] {
  const views = scheduledViews(repo);
  if (views.length === 0) return [];
  const runs = readRuns(home);
  return views.map((v) => {
    const mine = runs.filter((r) => r.view === v.name);
    const last = mine.at(-1);
    const success = mine.findLast((r) => r.outcome === 'success');
    return {
      view: v.name,
      kind: v.kind,
      everyMs: v.schedule.everyMs,
      offsetMs: v.schedule.offsetMs,
      cron: v.schedule.cron,
      nextRun: nextSlot(v.schedule, now),
      lastRun: last
        ? {
            slot: last.slot,
            attempt: last.attempt,
            attempts: last.attempts,
            start: last.start,
            end: last.end,
            outcome: last.outcome,
            rows: last.rows,
            error: last.error,
          }
        : null,
      lastSuccessAt: success?.end ?? null,
    };
  });
}
