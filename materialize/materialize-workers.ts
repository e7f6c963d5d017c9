/**
 * Materialization on several threads (`materialize`'s `workers`: N threads, this one and N − 1
 * worker threads): each worker loads the repository and opens stores of its own (its own DuckDB
 * over the same validated cache, its own online-store connection; ~1.5 CPU-s to start) and
 * materializes whole views, one at a time, exactly as one thread does; this thread does the same
 * with the caller's stores. The views go out biggest first (`byCost`), the first to this thread
 * while the workers start. A view that reads a source no
 * view has read yet in this run waits while another view reads (and, on a first run,
 * validates) that source, so its raw files are validated once. Results come back in the views'
 * order. Nothing here commits anything: the caller commits the watermarks once every view is
 * done, as after a run on one thread, so a crash loses nothing that was committed.
 *
 * @example
 * const results = await materializeOnWorkers({ setup, views, sourceOf, end, start: () => undefined });
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LarderConfig } from '../config/config.ts';
import { LarderError, type ErrorCode } from '../core/errors.ts';
import type { FeatureViewSpec } from '../definitions/spec.ts';
import { isSequenceKind } from '../core/sequence.ts';
import type { RejectReport, ValidationProgress } from '../offline/offline-store.ts';

export interface MaterializeProgress {
  view: string;
  /** Tiles written. */
  tiles: number;
  /** Tiles computed but not written: no feature can read them at a time ≥ `end`. */
  skipped: number;
  lifetime: number;
  /** Records expected for this view, when the offline store can tell. */
  total: number | null;
  seconds: number;
  done: boolean;
}

export interface ViewMaterialization {
  view: string;
  /** The event range loaded: [start, end] (epoch ms, both inclusive). */
  start: number;
  end: number;
  tiles: number;
  /** Tiles computed but not written: no feature can read them at a time ≥ `end`. */
  skipped: number;
  lifetime: number;
  seconds: number;
  rowsPerSecond: number;
  rejects: RejectReport[];
}

export interface MaterializeRetry {
  view: string;
  attempt: number;
  delayMs: number;
  error: LarderError;
}

/** What each worker thread opens for itself. */
export interface MaterializeWorkers {
  /** Threads: the calling one and `count − 1` workers (< 2, or one view: the views in turn there). */
  count: number;
  /** The feature repository's folder (each worker loads it). */
  repo: string;
  /** Each worker's own offline and online stores are made from this (plain data). */
  config: Pick<LarderConfig, 'offlineStore' | 'dataDir' | 'home' | 'onlineStore' | 'namespace'> &
    Partial<Pick<LarderConfig, 'ingest' | 'trace'>>;
}

interface WorkerError {
  message: string;
  code?: ErrorCode;
  hint?: string;
  detail?: unknown;
}

/** Messages to a worker (`materialize-worker.ts`). */
export type ToWorker =
  | { type: 'open'; setup: MaterializeWorkers }
  | {
      type: 'view';
      view: string;
      end: number;
      start: number | undefined;
      batchSize?: number;
      retryForMs?: number;
    }
  | { type: 'close' };

/** Messages from a worker. */
export type FromWorker =
  | { type: 'opened' }
  | { type: 'viewStart'; view: string }
  | { type: 'computed'; view: string }
  | { type: 'validate'; view: string; p: ValidationProgress }
  | { type: 'progress'; p: MaterializeProgress }
  | { type: 'retry'; r: Omit<MaterializeRetry, 'error'> & { error: WorkerError } }
  | { type: 'done'; result: ViewMaterialization }
  | { type: 'error'; error: WorkerError }
  | { type: 'closed' };

export interface WorkerRun {
  setup: MaterializeWorkers;
  /** The views, in the order results are returned. */
  views: readonly FeatureViewSpec[];
  /** The source a view reads (views of one source share its validation). */
  sourceOf: (view: string) => string;
  end: number;
  start: (view: FeatureViewSpec) => number | undefined;
  batchSize?: number;
  retryForMs?: number;
  onViewStart?: (view: string) => void;
  onValidate?: (view: string, p: ValidationProgress) => void;
  onProgress?: (p: MaterializeProgress) => void;
  onRetry?: (r: MaterializeRetry) => void;
  /**
   * Materializes one view on this thread, with the caller's stores (`onComputed` once its
   * source is read): this thread is one of the `count`, so `count - 1` workers start.
   */
  here: (view: FeatureViewSpec, onComputed: () => void) => Promise<ViewMaterialization>;
}

const toError = (e: WorkerError): Error =>
  e.code === undefined
    ? new Error(e.message)
    : new LarderError(e.code, e.message, {
        ...(e.hint === undefined ? {} : { hint: e.hint }),
        ...(e.detail === undefined ? {} : { detail: e.detail as never }),
      } as never);

/**
 * Views biggest first, as far as the definitions tell: more entities (one key per entity
 * combination), then sequence features (folded in JavaScript), then more features.
 */
export function byCost(views: readonly FeatureViewSpec[]): FeatureViewSpec[] {
  const cost = (v: FeatureViewSpec): number[] => [
    Object.keys(v.keys).length,
    v.features.filter((f) => isSequenceKind(f.aggregation)).length > 0 ? 1 : 0,
    v.features.length,
  ];
  return [...views].sort((a, b) => {
    const x = cost(a);
    const y = cost(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i]! - x[i]!;
    return 0;
  });
}

/**
 * The worker's bootstrap: tsx's loader registered in the worker itself (a loader registered
 * with `register()` in the main thread, as `bin/larder.js` does, is not inherited), then the
 * TypeScript module.
 */
function bootstrap(): string {
  // The ESM build (its CommonJS twin registers a path that does not resolve in a worker).
  const tsx =
    typeof import.meta.resolve === 'function'
      ? import.meta.resolve('tsx/esm/api')
      : pathToFileURL(
          createRequire(import.meta.url)
            .resolve('tsx/esm/api')
            .replace(/\.cjs$/, '.mjs'),
        ).href;
  const worker = new URL('./materialize-worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(worker)}); });`;
}

/**
 * Materializes `run.views` on `run.setup.count` threads, this one and `count - 1` workers; see
 * the module comment.
 */
export async function materializeOnWorkers(run: WorkerRun): Promise<ViewMaterialization[]> {
  const queue = byCost(run.views);
  const count = Math.min(run.setup.count, queue.length);
  /** Sources read by a view whose `computeTiles` returned (validated, if they had to be). */
  const ready = new Set<string>();
  /** Sources a running view is reading for the first time. */
  const reading = new Set<string>();
  const results = new Map<string, ViewMaterialization>();
  const code = bootstrap();
  let failed: Error | null = null;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  interface Lane {
    /** null: this thread (`run.here`). */
    worker: Worker | null;
    view: string | null;
    open: boolean;
    closed: Promise<void>;
  }
  const lanes: Lane[] = [];

  const settle = (): void => {
    if (lanes.every((l) => l.view === null) && (failed !== null || queue.length === 0)) finish();
  };
  /** Hands each idle worker the biggest view it may start now. */
  const dispatch = (): void => {
    for (const lane of lanes) {
      if (failed || !lane.open || lane.view !== null) continue;
      const i = queue.findIndex((v) => {
        const s = run.sourceOf(v.name);
        return ready.has(s) || !reading.has(s);
      });
      if (i < 0) continue;
      const [view] = queue.splice(i, 1);
      const s = run.sourceOf(view!.name);
      if (!ready.has(s)) reading.add(s);
      lane.view = view!.name;
      if (!lane.worker) {
        run
          .here(view!, () => {
            read(view!.name);
            dispatch();
          })
          .then(
            (result) => {
              read(result.view);
              results.set(result.view, result);
              lane.view = null;
              dispatch();
            },
            (e: unknown) => fail(lane, e instanceof Error ? e : new Error(String(e))),
          );
        continue;
      }
      lane.worker.postMessage({
        type: 'view',
        view: view!.name,
        end: run.end,
        start: run.start(view!),
        ...(run.batchSize === undefined ? {} : { batchSize: run.batchSize }),
        ...(run.retryForMs === undefined ? {} : { retryForMs: run.retryForMs }),
      } satisfies ToWorker);
    }
    settle();
  };
  /** `view` has read its source (validated, if it had to be). */
  const read = (view: string): void => {
    const s = run.sourceOf(view);
    ready.add(s);
    reading.delete(s);
  };
  const fail = (lane: Lane, e: Error): void => {
    failed ??= e;
    lane.view = null;
    lane.open = false;
    settle();
  };

  // This thread takes the first view at once (the biggest): the workers are still starting.
  lanes.push({ worker: null, view: null, open: true, closed: Promise.resolve() });
  for (let n = 1; n < count; n++) {
    const worker = new Worker(code, { eval: true, execArgv: [] });
    let closedResolve!: () => void;
    const lane: Lane = {
      worker,
      view: null,
      open: false,
      closed: new Promise<void>((resolve) => (closedResolve = resolve)),
    };
    lanes.push(lane);
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'opened':
          lane.open = true;
          dispatch();
          break;
        case 'viewStart':
          run.onViewStart?.(m.view);
          break;
        case 'computed':
          read(m.view);
          dispatch();
          break;
        case 'validate':
          run.onValidate?.(m.view, m.p);
          break;
        case 'progress':
          run.onProgress?.(m.p);
          break;
        case 'retry':
          run.onRetry?.({ ...m.r, error: toError(m.r.error) as LarderError });
          break;
        case 'done':
          read(m.result.view);
          results.set(m.result.view, m.result);
          lane.view = null;
          dispatch();
          break;
        case 'error':
          fail(lane, toError(m.error));
          break;
        case 'closed':
          closedResolve();
          break;
      }
    });
    worker.on('error', (e) => fail(lane, e));
    worker.on('exit', () => {
      closedResolve();
      if (lane.view !== null || !lane.open)
        fail(lane, new Error('materialize worker exited before its view was done'));
    });
    worker.postMessage({ type: 'open', setup: run.setup } satisfies ToWorker);
  }

  dispatch();
  await finished;
  // Each worker closes its stores, then ends.
  await Promise.all(
    lanes.map(async (l) => {
      if (!l.worker) return;
      l.worker.postMessage({ type: 'close' } satisfies ToWorker);
      await Promise.race([l.closed, new Promise((r) => setTimeout(r, 10_000))]);
      await l.worker.terminate();
    }),
  );
  if (failed) throw failed;
  return run.views.map((v) => results.get(v.name)!);
}
