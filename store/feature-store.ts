/**
 * The in-process feature store: what `feast.FeatureStore` is to Python users. One object over a
 * project's configuration and feature repository that reads online features (the same
 * retrieval as `POST /get-online-features`), exports point-in-time training data as an Arrow
 * table, pushes records (the same path as `POST /push`) and materializes the offline store into
 * the online store (the same as `larder materialize`, which calls it). The stores open on first
 * use; `close()` closes them.
 *
 * @example
 * import { openFeatureStore } from 'larder/store';
 *
 * const store = await openFeatureStore({ root: '/path/to/project' }); // its larder.config.ts
 * await store.materialize({ end: Date.now() });
 * const res = await store.getOnlineFeatures({
 *   service: 'customer_stats',
 *   entities: { customer_id: ['c1', 'c2'] },
 * });
 * res.columns.map((c) => [c.name, c.values]);
 * await store.close();
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { badRequest, LarderError } from '../core/errors.ts';
import {
  loadConfig,
  resolveConfig,
  type LarderConfig,
  type LarderConfigInput,
} from '../config/config.ts';
import { loadRepository } from '../definitions/load.ts';
import { onlineViewSpecs } from '../definitions/batch/serving-view.ts';
import type { Repository } from '../definitions/repository.ts';
import {
  materialize as materializeViews,
  selectViews,
  type MaterializeRequest,
  type ViewMaterialization,
} from '../materialize/materialize.ts';
import { materializeBatchViews, selectBatchViews } from '../materialize/materialize-batch.ts';
import { createOfflineStore } from '../offline/create-offline-store.ts';
import type {
  EntitySource,
  ExportProgress,
  ExportSummary,
  OfflineStore,
  TimestampUnit,
} from '../offline/offline-store.ts';
import { createOnlineStore, initOrClose } from '../online/create-online-store.ts';
import type { OnlineStore } from '../online/online-store.ts';
import { readRegistry } from '../registry/registry-file.ts';
import { commitWatermarks } from '../registry/watermark-commit.ts';
import { incrementalStarts } from '../materialize/incremental-start.ts';
import { getOnlineFeatures, type OnlineFeaturesResponse } from '../retrieval/index.ts';
import { DefaultPushHandler } from '../api/push/default-push-handler.ts';
import type { PushResult, PushTarget } from '../api/push/push-handler.ts';

export interface OpenFeatureStoreOptions {
  /** Project root: where `larder.config.ts` is read and relative paths resolve (default: cwd). */
  root?: string;
  /** Feature repository folder; wins over the config's `repo` (as `--repo` does). */
  repo?: string;
  /**
   * The configuration itself (what `larder.config.ts` exports), used as is: neither
   * `larder.config.ts` nor `LARDER_*` variables are read. Without it: `larder.config.ts` in
   * `root` and the environment, as the CLI reads them.
   */
  config?: LarderConfigInput;
}

/** A feature list (`view:feature`) or a feature service, as the REST API takes them. */
export type FeatureSelection = { features: readonly string[] } | { service: string };

export type OnlineFeaturesQuery = FeatureSelection & {
  /** Column-wise entity rows: join keys and request-data fields, all of one length. */
  entities: Readonly<Record<string, readonly unknown[]>>;
  /** Name columns `view__feature` (default false). */
  fullFeatureNames?: boolean;
  /** Evaluation time, epoch ms (default: now). */
  t?: number;
};

export type HistoricalFeaturesQuery = FeatureSelection & {
  /**
   * Entity rows (the join keys and `event_timestamp`: epoch ms or ISO-8601), or the path
   * of a CSV, JSON Lines or Parquet file of them (as `larder export --entities`).
   */
  entities: readonly Record<string, unknown>[] | string;
  /** Keep the Arrow IPC file here (it must end in `.arrow`); default: a temporary file, removed. */
  out?: string;
  /** Unit of numeric `event_timestamp` values (default ms). */
  timestampUnit?: TimestampUnit;
  fullFeatureNames?: boolean;
};

/** An export to a file in any output format (`larder export`). */
export type ExportQuery = FeatureSelection & {
  entities: EntitySource;
  /** `.parquet`, `.arrow`, `.csv` or `.jsonl`; the folder must exist. */
  out: string;
  fullFeatureNames?: boolean;
  onProgress?: (p: ExportProgress) => void;
};

export interface MaterializeOptions {
  /** End of the loaded history, epoch ms: reads at any time ≥ `end` are served. */
  end: number;
  /**
   * First event loaded into tiles, epoch ms (default: the first hop the longest window at `end`
   * reads). Ignored with `incremental`.
   */
  start?: number;
  /** Continue from each view's watermark in the registry (`larder materialize-incremental`). */
  incremental?: boolean;
  /** Feature views (default: every online view). */
  views?: readonly string[];
  /**
   * Called for each view whose watermark is after `end`, before anything runs: with
   * `incremental` the view is skipped (watermark, arrival mark and online values unchanged);
   * without, it is materialized to `end` and its watermark moves back to `end` (a batch view's:
   * to the latest snapshot at `end`).
   */
  onBehindWatermark?: (b: { view: string; watermark: number }) => void;
  /**
   * Called when another run committed a view while this one ran (two runs outside the
   * scheduler's lease): their tiles may have overwritten each other, so the view is
   * materialized again over this run's range, `start` to `end` (the watermark now stored).
   */
  onOverlap?: (o: { view: string; start: number; end: number }) => void;
  /**
   * Threads computing and writing views at once (default 1: the views in turn). With N ≥ 2, this
   * one and N − 1 worker threads, each worker with its own offline and online stores, take whole
   * views, biggest first; each view is materialized as on one thread, and the watermarks are
   * committed once every view is done, as on one thread.
   */
  workers?: number;
  /** Called as a view starts: it reads and validates its source records first. */
  onViewStart?: MaterializeRequest['onViewStart'];
  onValidate?: MaterializeRequest['onValidate'];
  onProgress?: MaterializeRequest['onProgress'];
  onRetry?: MaterializeRequest['onRetry'];
}

export interface PushOptions {
  /** `online` (default), `offline` (appended as JSON Lines) or `online_and_offline`. */
  to?: PushTarget;
  /** As the `Idempotency-Key` header: a repeat within 24 h applies nothing. */
  idempotencyKey?: string;
}

export interface FeatureStore {
  readonly config: LarderConfig;
  readonly repo: Repository;
  getOnlineFeatures(query: OnlineFeaturesQuery): Promise<OnlineFeaturesResponse>;
  /** Point-in-time correct feature values for the entity rows, in their order. */
  getHistoricalFeatures(query: HistoricalFeaturesQuery): Promise<Table>;
  /** Exports to a file and returns the summary (rows, columns, rejected raw records). */
  exportHistoricalFeatures(query: ExportQuery): Promise<ExportSummary>;
  /** Records of a push or stream source's batch source, validated as `POST /push` does. */
  push(
    source: string,
    records: readonly Record<string, unknown>[],
    opts?: PushOptions,
  ): Promise<PushResult>;
  /** Offline → online for each view; needs an applied registry; records the watermarks. */
  materialize(opts: MaterializeOptions): Promise<ViewMaterialization[]>;
  close(): Promise<void>;
}

/** Opens a project's feature store: its config and repository now, the stores on first use. */
export async function openFeatureStore(opts: OpenFeatureStoreOptions = {}): Promise<FeatureStore> {
  const root = opts.root ?? process.cwd();
  let config: LarderConfig;
  if (opts.config) {
    const input = opts.repo ? { ...opts.config, repo: opts.repo } : opts.config;
    config = resolveConfig(input, root, {});
  } else config = await loadConfig(root, undefined, opts.repo ? { repo: opts.repo } : {});
  return new LocalFeatureStore(config, await loadRepository(config.repo));
}

/**
 * A lazily opened store: the promise is dropped when opening fails, so a later call retries
 * with a new store; the failed one is closed (a Redis client whose connect failed keeps
 * reconnecting, and kept a CLI process that had reported the error from exiting).
 */
class Lazy<T extends { init(): Promise<void>; close(): Promise<void> }> {
  #opening: Promise<T> | null = null;
  readonly #create: () => T;

  constructor(create: () => T) {
    this.#create = create;
  }

  get(): Promise<T> {
    if (!this.#opening) {
      this.#opening = initOrClose(this.#create()).catch((e: unknown) => {
        this.#opening = null;
        throw e;
      });
    }
    return this.#opening;
  }

  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = null;
    if (opening) await (await opening.catch(() => null))?.close();
  }
}

class LocalFeatureStore implements FeatureStore {
  readonly config: LarderConfig;
  readonly repo: Repository;
  readonly #online: Lazy<OnlineStore>;
  readonly #offline: Lazy<OfflineStore>;

  constructor(config: LarderConfig, repo: Repository) {
    this.config = config;
    this.repo = repo;
    this.#online = new Lazy(() =>
      createOnlineStore(config.onlineStore, {
        namespace: config.namespace,
        views: onlineViewSpecs(repo),
      }),
    );
    this.#offline = new Lazy(() => createOfflineStore(config));
  }

  async getOnlineFeatures(q: OnlineFeaturesQuery): Promise<OnlineFeaturesResponse> {
    const store = await this.#online.get();
    return getOnlineFeatures(
      { repo: this.repo, store, maxEntityRows: Infinity },
      {
        ref: selection(q),
        entities: q.entities,
        fullFeatureNames: q.fullFeatureNames ?? false,
        ...(q.t === undefined ? {} : { t: q.t }),
      },
    );
  }

  async exportHistoricalFeatures(q: ExportQuery): Promise<ExportSummary> {
    const features = this.repo.resolveFeatures(selection(q));
    const store = await this.#offline.get();
    return store.exportPointInTime({
      repo: this.repo,
      features,
      entities: q.entities,
      out: { type: 'file', path: q.out },
      fullFeatureNames: q.fullFeatureNames ?? false,
      ...(q.onProgress ? { onProgress: q.onProgress } : {}),
    });
  }

  async getHistoricalFeatures(q: HistoricalFeaturesQuery): Promise<Table> {
    if (q.out !== undefined && extname(q.out) !== '.arrow')
      throw badRequest('out', `out "${q.out}" must end in .arrow`, 'name an Arrow IPC file');
    const unit = q.timestampUnit ? { timestampUnit: q.timestampUnit } : {};
    const entities: EntitySource =
      typeof q.entities === 'string'
        ? { type: 'file', path: q.entities, ...unit }
        : { type: 'rows', rows: q.entities, ...unit };
    const tmp = q.out === undefined ? mkdtempSync(join(tmpdir(), 'larder-historical-')) : null;
    const out = q.out ?? join(tmp!, 'features.arrow');
    try {
      await this.exportHistoricalFeatures({
        ...selection(q),
        entities,
        out,
        fullFeatureNames: q.fullFeatureNames ?? false,
      });
      return tableFromIPC(readFileSync(out));
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  }

  async push(
    source: string,
    records: readonly Record<string, unknown>[],
    opts: PushOptions = {},
  ): Promise<PushResult> {
    const columns: Record<string, unknown[]> = {};
    records.forEach((r, i) => {
      for (const k of Object.keys(r)) (columns[k] ??= new Array<unknown>(records.length))[i] = r[k];
    });
    const handler = new DefaultPushHandler(createOfflineStore(this.config), Date.now, {
      ...this.config.ingest,
      maxPushRows: Infinity,
    });
    const store = await this.#online.get();
    return handler.push(
      { repo: this.repo, store, version: 0, loadedAt: Date.now() },
      {
        source,
        columns,
        to: opts.to ?? 'online',
        ...(opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey }),
      },
    );
  }

  async materialize(opts: MaterializeOptions): Promise<ViewMaterialization[]> {
    const registry = readRegistry(this.config.home);
    if (!registry)
      throw new LarderError('LARDER_REGISTRY_NOT_APPLIED', 'no registry yet', {
        hint: 'run `larder apply` first',
      });
    const marks = registry.watermarks ?? {};
    // Read with the watermarks: a commit that finds a view's count changed overlapped a run.
    const readCommits = registry.commits ?? {};
    // A view already materialized past `end`: an incremental run skips it (a watermark never
    // moves back by itself, and an older batch snapshot never replaces a newer one); an explicit
    // `materialize` reloads it to `end`. Either way the caller is told.
    const behind = (v: string): boolean => {
      const mark = marks[v];
      if (mark === undefined || mark <= opts.end) return false;
      opts.onBehindWatermark?.({ view: v, watermark: mark });
      return opts.incremental === true;
    };
    const named = opts.views?.filter((n) => !this.repo.batchViews.has(n));
    const selected =
      opts.views && opts.views.length > 0 && named!.length === 0
        ? []
        : selectViews(this.repo, named).map((s) => s.name);
    const views = selected.filter((v) => !behind(v));
    const batch = selectBatchViews(this.repo, opts.views).filter((v) => !behind(v));
    // Records appended from now on are the next incremental run's (by arrival time).
    const runAt = Date.now();
    const [offline, online] = await Promise.all([this.#offline.get(), this.#online.get()]);
    const starts = opts.incremental
      ? await incrementalStarts(this.repo, offline, views, marks, registry.arrivalMarks ?? {})
      : {};
    const c = this.config;
    const workers =
      (opts.workers ?? 1) > 1
        ? {
            count: opts.workers!,
            repo: c.repo,
            // Plain data each worker opens its own stores from.
            config: {
              offlineStore: c.offlineStore,
              dataDir: c.dataDir,
              home: c.home,
              onlineStore: c.onlineStore,
              namespace: c.namespace,
              ingest: c.ingest,
              trace: c.trace,
            },
          }
        : null;
    const run = (views: readonly string[], end: number, start: (v: string) => number | undefined) =>
      // An empty list would mean every view to materializeViews: only batch views were named,
      // or every feature view was skipped.
      views.length === 0
        ? Promise.resolve([])
        : materializeViews({
            repo: this.repo,
            offline,
            online,
            views,
            end,
            start: (v) => start(v.name),
            ...(workers ? { workers } : {}),
            ...(opts.onViewStart ? { onViewStart: opts.onViewStart } : {}),
            ...(opts.onValidate ? { onValidate: opts.onValidate } : {}),
            ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
            ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
          });
    const runBatch = (views: readonly string[], end: number) =>
      // Batch views: the latest snapshot at end (its time D is the view's watermark).
      materializeBatchViews({
        repo: this.repo,
        offline,
        online,
        views,
        end,
        ...(opts.onViewStart ? { onViewStart: opts.onViewStart } : {}),
      });
    const results = await run(views, opts.end, (v) => (opts.incremental ? starts[v] : opts.start));
    results.push(...(await runBatch(batch, opts.end)));
    // Commit; a view another run committed meanwhile is materialized again over this run's
    // range up to the watermark now stored, from a fresh read of the offline store (which holds
    // every record either run read), and committed again, until no run overlaps the last pass.
    let pending = results;
    let read: Record<string, number> = readCommits;
    while (pending.length > 0) {
      const committed = await commitWatermarks(this.config.home, {
        marks: Object.fromEntries(pending.map((r) => [r.view, r.end])),
        // Arrival marks stay this run's start: records appended since may be late for tiles
        // either pass wrote.
        arrivalMarks: Object.fromEntries(
          pending.filter((r) => views.includes(r.view)).map((r) => [r.view, runAt]),
        ),
        readCommits: read,
        forwardOnly: opts.incremental === true,
      });
      read = Object.fromEntries(committed.map((c) => [c.view, c.commits]));
      const again: ViewMaterialization[] = [];
      for (const c of committed.filter((x) => x.overlapped)) {
        const i = results.findIndex((r) => r.view === c.view);
        const first = results[i]!;
        opts.onOverlap?.({ view: c.view, start: first.start, end: c.watermark });
        const [redo] = views.includes(c.view)
          ? await run([c.view], c.watermark, () => first.start)
          : await runBatch([c.view], c.watermark);
        results[i] = redo!;
        again.push(redo!);
      }
      pending = again;
    }
    return results;
  }

  async close(): Promise<void> {
    await Promise.all([this.#online.close(), this.#offline.close()]);
  }
}

function selection(q: FeatureSelection): FeatureSelection {
  return 'service' in q ? { service: q.service } : { features: q.features };
}
