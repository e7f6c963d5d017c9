/**
 * `larder scheduler`: runs each scheduled view (`materialization` on a feature or batch view)
 * at its slots. Per due view and tick: take the view's lease (one active run per view across
 * every scheduler process), re-read the run history (another scheduler may have done the slot
 * meanwhile), then run each due slot with retries, renewing the lease while it runs; a lost
 * lease kills the attempt. Every attempt is recorded in the run history; a final failure calls
 * `onFailure` (the webhook).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Repository } from '../definitions/repository.ts';
import type { MaterializationSpec } from '../definitions/spec.ts';
import { FileLeases } from './lease-file.ts';
import { lastDoneSlot, readRuns, recordEnd, recordStart, type RunRecord } from './run-history.ts';
import { createSchedulerMetrics, type SchedulerMetrics } from './scheduler-metrics.ts';
import { dueSlots, nextSlot } from './slots.ts';
import { RunTimeoutError, type ViewRunner } from './view-runner.ts';

export interface ScheduledView {
  name: string;
  kind: 'feature_view' | 'batch_view';
  schedule: MaterializationSpec;
}

/** The views of `repo` that declare `materialization`, by name. */
export function scheduledViews(repo: Repository): ScheduledView[] {
  const out: ScheduledView[] = [];
  for (const v of repo.featureViews.values())
    if (v.spec.materialization)
      out.push({ name: v.spec.name, kind: 'feature_view', schedule: v.spec.materialization });
  for (const v of repo.batchViews.values())
    if (v.spec.materialization)
      out.push({ name: v.spec.name, kind: 'batch_view', schedule: v.spec.materialization });
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export type SchedulerEvent =
  | { type: 'start'; run: RunRecord }
  | { type: 'end'; run: RunRecord }
  | { type: 'busy'; view: string };

export interface SchedulerOptions {
  /** `$LARDER_HOME`: the registry, its run history and the leases. */
  home: string;
  views: readonly ScheduledView[];
  runner: ViewRunner;
  /** A lease not renewed for this long is free (default 30 s; renewed every third of it). */
  leaseTtlMs?: number;
  onEvent?: (e: SchedulerEvent) => void;
  /** Called once per slot whose last allowed attempt failed. */
  onFailure?: (run: RunRecord) => Promise<void>;
  metrics?: SchedulerMetrics;
  /** Waits between attempts (tests shorten it). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

export class Scheduler {
  /** This process in the run history and the leases: `host:pid:random`. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly metrics: SchedulerMetrics;
  readonly #o: SchedulerOptions;
  readonly #leases: FileLeases;
  readonly #ttl: number;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #stop = new AbortController();

  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.#leases = new FileLeases(o.home);
    this.#ttl = o.leaseTtlMs ?? 30_000;
    this.metrics = o.metrics ?? createSchedulerMetrics();
  }

  /**
   * Starts the due runs of every view not already running in this process at `now`; resolves
   * when they have ended.
   */
  async tick(now: number): Promise<void> {
    const started: Promise<void>[] = [];
    for (const v of this.#o.views) {
      this.metrics.nextRun.set({ view: v.name }, nextSlot(v.schedule, now) / 1000);
      if (this.#inFlight.has(v.name) || this.#stop.signal.aborted) continue;
      const p = this.#runView(v, now).finally(() => this.#inFlight.delete(v.name));
      this.#inFlight.set(v.name, p);
      started.push(p);
    }
    await Promise.all(started);
  }

  /** Kills running attempts (recorded as `cancelled`, their slots run again) and waits for them. */
  async stop(): Promise<void> {
    this.#stop.abort('the scheduler stopped');
    await Promise.all(this.#inFlight.values());
  }

  async #runView(v: ScheduledView, now: number): Promise<void> {
    const home = this.#o.home;
    if (dueSlots(v.schedule, now, lastDoneSlot(readRuns(home, v.name), v.name)).length === 0)
      return;
    const token = await this.#leases.acquire(v.name, this.id, this.#ttl);
    if (token === null) {
      this.metrics.leaseBusy.inc({ view: v.name });
      this.#o.onEvent?.({ type: 'busy', view: v.name });
      return;
    }
    const lost = new AbortController();
    const renewal = setInterval(() => {
      this.#leases.renew(v.name, token, this.#ttl).then(
        (held) => held || lost.abort('the view lease was lost to another scheduler'),
        (e: unknown) => lost.abort(`the view lease could not be renewed: ${String(e)}`),
      );
    }, this.#ttl / 3);
    const signal = AbortSignal.any([lost.signal, this.#stop.signal]);
    this.metrics.running.set({ view: v.name }, 1);
    try {
      // Under the lease the history of v is stable: read it again.
      const last = lastDoneSlot(readRuns(home, v.name), v.name);
      for (const slot of dueSlots(v.schedule, now, last)) {
        if (signal.aborted) break;
        await this.#runSlot(v, slot, signal);
      }
    } finally {
      clearInterval(renewal);
      this.metrics.running.set({ view: v.name }, 0);
      await this.#leases.release(v.name, token);
    }
  }

  async #runSlot(v: ScheduledView, slot: number, signal: AbortSignal): Promise<void> {
    const s = v.schedule;
    const attempts = s.retries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const run: RunRecord = {
        id: randomUUID(),
        view: v.name,
        slot,
        attempt,
        attempts,
        scheduler: this.id,
        start: Date.now(),
        end: null,
        outcome: 'running',
        rows: null,
        error: null,
      };
      recordStart(this.#o.home, run);
      this.#o.onEvent?.({ type: 'start', run: { ...run } });
      try {
        const r = await this.#o.runner(
          { view: v.name, end: slot },
          { timeoutMs: s.timeoutMs, signal },
        );
        Object.assign(run, { outcome: 'success', rows: r.rows });
      } catch (e) {
        const outcome = signal.aborted
          ? 'cancelled'
          : e instanceof RunTimeoutError
            ? 'timeout'
            : 'failed';
        Object.assign(run, { outcome, error: e instanceof Error ? e.message : String(e) });
      }
      run.end = Date.now();
      recordEnd(this.#o.home, run);
      this.#o.onEvent?.({ type: 'end', run: { ...run } });
      this.metrics.runs.inc({ view: v.name, outcome: run.outcome });
      this.metrics.lastDuration.set({ view: v.name }, (run.end - run.start) / 1000);
      if (run.outcome === 'success') {
        this.metrics.rows.inc({ view: v.name }, run.rows ?? 0);
        this.metrics.lastSuccess.set({ view: v.name }, run.end / 1000);
        return;
      }
      if (run.outcome === 'cancelled') return;
      if (attempt === attempts) {
        // The notice is best effort: a failing webhook must not stop the scheduler.
        await this.#o.onFailure?.(run).catch(() => undefined);
        return;
      }
      const delay = s.retryDelayMs * (s.backoff === 'exponential' ? 2 ** (attempt - 1) : 1);
      await (this.#o.sleep ?? abortableSleep)(delay, signal);
      if (signal.aborted) return;
    }
  }
}
