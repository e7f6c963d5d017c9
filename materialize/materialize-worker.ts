/**
 * A materialization worker thread (`materialize-workers.ts` starts it): it loads the
 * repository and opens stores of its own — its own DuckDB (over the same validated cache) and
 * its own online-store connection — then materializes the views it is handed one at a time,
 * each exactly as `materialize` does on one thread, and reports their progress and results.
 */
import { parentPort } from 'node:worker_threads';
import { LarderError } from '../core/errors.ts';
import { onlineViewSpecs } from '../definitions/batch/serving-view.ts';
import { loadRepository } from '../definitions/load.ts';
import { DuckDBOfflineStore } from '../offline/duckdb/duckdb-offline-store.ts';
import type { OfflineStore } from '../offline/offline-store.ts';
import { createOnlineStore } from '../online/create-online-store.ts';
import { materialize } from './materialize.ts';
import type { ToWorker, FromWorker } from './materialize-workers.ts';

const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);

type Opened = Awaited<ReturnType<typeof open>>;

async function open(m: Extract<ToWorker, { type: 'open' }>) {
  const repo = await loadRepository(m.setup.repo);
  const c = m.setup.config;
  // DuckDB's store without loading BigQuery's client library (~0.4 CPU-s per worker).
  const offline: OfflineStore =
    c.offlineStore.type === 'duckdb'
      ? new DuckDBOfflineStore(
          { ...c.offlineStore, dataDir: c.dataDir, home: c.home, trace: c.trace },
          c.ingest ? { maxFutureSkewMs: c.ingest.maxFutureSkewMs } : {},
        )
      : (await import('../offline/create-offline-store.ts')).createOfflineStore(c);
  const online = createOnlineStore(m.setup.config.onlineStore, {
    namespace: m.setup.config.namespace,
    views: onlineViewSpecs(repo),
  });
  try {
    await offline.init();
    await online.init();
  } catch (e) {
    await Promise.allSettled([offline.close(), online.close()]);
    throw e;
  }
  return { repo, offline, online };
}

function failure(e: unknown): Extract<FromWorker, { type: 'error' }>['error'] {
  if (e instanceof LarderError)
    return {
      message: e.message,
      code: e.code,
      ...(e.hint === undefined ? {} : { hint: e.hint }),
      ...(e.detail === undefined ? {} : { detail: e.detail }),
    };
  return { message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

let opened: Promise<Opened> | null = null;
// One message at a time: a view is handed over only once the previous one is done.
port.on('message', (m: ToWorker) => {
  void (async () => {
    try {
      if (m.type === 'open') {
        opened = open(m);
        await opened;
        post({ type: 'opened' });
      } else if (m.type === 'view') {
        const { repo, offline, online } = await opened!;
        const [result] = await materialize({
          repo,
          offline,
          online,
          views: [m.view],
          end: m.end,
          start: () => m.start,
          ...(m.batchSize === undefined ? {} : { batchSize: m.batchSize }),
          ...(m.retryForMs === undefined ? {} : { retryForMs: m.retryForMs }),
          onViewStart: (view) => post({ type: 'viewStart', view }),
          onComputed: (view) => post({ type: 'computed', view }),
          onValidate: (view, p) => post({ type: 'validate', view, p }),
          onProgress: (p) => post({ type: 'progress', p }),
          onRetry: (r) => post({ type: 'retry', r: { ...r, error: failure(r.error) } }),
        });
        post({ type: 'done', result: result! });
      } else {
        const o = await opened?.catch(() => null);
        await Promise.allSettled([o?.offline.close(), o?.online.close()]);
        post({ type: 'closed' });
      }
    } catch (e) {
      post({ type: 'error', error: failure(e) });
    }
  })();
});
