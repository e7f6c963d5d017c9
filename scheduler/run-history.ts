/**
 * Scheduler run history: `$LARDER_HOME/runs.jsonl`, next to the registry. Each attempt appends
 * a `start` line when it begins and an `end` line when it ends; `readRuns` joins them. Only the
 * holder of a view's lease appends lines for that view, so one view's runs never interleave.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type RunOutcome = 'running' | 'success' | 'failed' | 'timeout' | 'cancelled' | 'killed';

export interface RunRecord {
  id: string;
  view: string;
  /** The slot D the run materializes up to (epoch ms). */
  slot: number;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** The last attempt the schedule allows (retries + 1). */
  attempts: number;
  /** The scheduler process that ran it (`host:pid:random`). */
  scheduler: string;
  start: number;
  end: number | null;
  /**
   * `running` until the attempt ends; `killed` when a later attempt of the view started
   * without this one ending (its scheduler died: the lease expired and another took over).
   */
  outcome: RunOutcome;
  rows: number | null;
  error: string | null;
}

type Line =
  | ({ type: 'start' } & Pick<
      RunRecord,
      'id' | 'view' | 'slot' | 'attempt' | 'attempts' | 'scheduler' | 'start'
    >)
  | ({ type: 'end' } & Pick<RunRecord, 'id' | 'end' | 'outcome' | 'rows' | 'error'>);

export const runsPath = (home: string): string => join(home, 'runs.jsonl');

function append(home: string, line: Line): void {
  mkdirSync(home, { recursive: true });
  appendFileSync(runsPath(home), `${JSON.stringify(line)}\n`);
}

export function recordStart(
  home: string,
  r: Pick<RunRecord, 'id' | 'view' | 'slot' | 'attempt' | 'attempts' | 'scheduler' | 'start'>,
): void {
  append(home, { type: 'start', ...r });
}

export function recordEnd(
  home: string,
  r: Pick<RunRecord, 'id' | 'end' | 'outcome' | 'rows' | 'error'>,
): void {
  append(home, { type: 'end', ...r });
}

/** Every run, oldest first (of `view` only when given). A torn last line is skipped. */
export function readRuns(home: string, view?: string): RunRecord[] {
  const p = runsPath(home);
  if (!existsSync(p)) return [];
  const runs = new Map<string, RunRecord>();
  for (const text of readFileSync(p, 'utf8').split('\n')) {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      continue;
    }
    if (line.type === 'start') {
      const { id, view, slot, attempt, attempts, scheduler, start } = line;
      runs.set(id, {
        ...{ id, view, slot, attempt, attempts, scheduler, start },
        ...{ end: null, outcome: 'running', rows: null, error: null },
      });
    } else {
      const r = runs.get(line.id);
      if (r)
        Object.assign(r, {
          end: line.end,
          outcome: line.outcome,
          rows: line.rows,
          error: line.error,
        });
    }
  }
  const all = [...runs.values()].filter((r) => view === undefined || r.view === view);
  const latest = new Map<string, number>();
  for (let i = all.length - 1; i >= 0; i--) {
    const r = all[i]!;
    if (r.outcome === 'running' && latest.has(r.view)) r.outcome = 'killed';
    latest.set(r.view, i);
  }
  return all;
}

/**
 * The latest slot of `view` that is done: its run succeeded, or its last allowed attempt
 * failed or timed out. A killed or cancelled run leaves its slot to run again.
 */
export function lastDoneSlot(runs: readonly RunRecord[], view: string): number | null {
  let last: number | null = null;
  for (const r of runs) {
    if (r.view !== view) continue;
    const done =
      r.outcome === 'success' ||
      ((r.outcome === 'failed' || r.outcome === 'timeout') && r.attempt >= r.attempts);
    if (done && (last === null || r.slot > last)) last = r.slot;
  }
  return last;
}
