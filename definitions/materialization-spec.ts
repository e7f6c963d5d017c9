/**
 * A view's materialization schedule (`materialization: { every: '1h' }` on `featureView` or
 * `batchView`), run by `larder scheduler`. See docs/operations.md "Scheduler".
 */
export interface MaterializationSpec {
  /** Runs at the slots D = offsetMs + k · everyMs (epoch ms, UTC), each up to `end = D`. */
  everyMs: number;
  offsetMs: number;
  /** The cron it was written as (fixed-period crons only, UTC), or null. */
  cron: string | null;
  /** Further attempts after a failed one (0: none). */
  retries: number;
  /** Wait before retry n (1-based): retryDelayMs, or retryDelayMs · 2^(n−1) with `exponential`. */
  retryDelayMs: number;
  backoff: 'fixed' | 'exponential';
  /** An attempt still running after this is killed and counts as failed; null: no limit. */
  timeoutMs: number | null;
  /** Run every slot missed since the last run (true), or only the latest (false). */
  catchUp: boolean;
}
