/**
 * The failure notice of `larder scheduler`: a JSON POST to `scheduler.webhookUrl`
 * (`LARDER_SCHEDULER_WEBHOOK_URL`) when a slot's last allowed attempt fails, retried after a
 * network error or a non-2xx answer (1 s, 2 s, 4 s … apart).
 */
import { postJson } from '../core/post-json.ts';
import type { RunRecord } from './run-history.ts';

export interface FailureNotice {
  event: 'larder.scheduler.run_failed';
  view: string;
  /** The slot D (ISO-8601, UTC) the run materializes up to. */
  slot: string;
  attempt: number;
  attempts: number;
  outcome: RunRecord['outcome'];
  error: string | null;
  start: string;
  end: string | null;
  scheduler: string;
}

export function failureNotice(run: RunRecord): FailureNotice {
  return {
    event: 'larder.scheduler.run_failed',
    view: run.view,
    slot: new Date(run.slot).toISOString(),
    attempt: run.attempt,
    attempts: run.attempts,
    outcome: run.outcome,
    error: run.error,
    start: new Date(run.start).toISOString(),
    end: run.end === null ? null : new Date(run.end).toISOString(),
    scheduler: run.scheduler,
  };
}

/** POSTs the notice; true once an attempt got a 2xx, false after `retries` more failed. */
export function postFailure(
  url: string,
  run: RunRecord,
  opts: { retries: number; baseDelayMs?: number; timeoutMs?: number },
): Promise<boolean> {
  return postJson(url, failureNotice(run), opts);
}
