/**
 * A served test repository: a temp LARDER_HOME, a SQLite online store, the HTTP server (and the
 * serving context, for the gRPC server and in-process reads).
 */
import type { FastifyInstance } from 'fastify';
import { KeyStore } from '../../api/auth/key-store.ts';
import { RateLimiter } from '../../api/auth/rate-limiter.ts';
import { buildServer } from '../../api/build-server.ts';
import {
  DefaultPushHandler,
  type PushLimits,
  type PushOfflineStore,
} from '../../api/push/default-push-handler.ts';
import type { ServerContext } from '../../api/server-context.ts';
import { ServerMetrics } from '../../api/server-metrics.ts';
import { ServingState } from '../../api/serving-state.ts';
import type { OnlineStoreConfig } from '../../config/config.ts';
import { createOnlineStore } from '../../online/create-online-store.ts';
import type { OnlineStore } from '../../online/online-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BASE_REPO, tempDir } from '../support/temp-repo.ts';

/** The base repository, its view fed by a push source (Feast's model of pushes). */
export const PUSH_REPO = BASE_REPO.replace(
  'import { batchSource,',
  'import { pushSource, batchSource,',
)
  .replace(
    'export const activity = featureView({',
    "export const eventsPush = pushSource({ name: 'events_push', batchSource: events });\nexport const activity = featureView({",
  )
  .replace('source: events,', 'source: eventsPush,');

export interface Served {
  app: FastifyInstance;
  ctx: ServerContext;
  repo: Repository;
  store: OnlineStore;
  home: string;
  close: () => Promise<void>;
}

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export async function serveRepo(
  repoDir: string,
  opts: {
    store?: OnlineStoreConfig;
    /** Default: a random one (give one to share a store between servers). */
    namespace?: string;
    clock?: () => number;
    /** The store's wall clock (default T0; Redis expires keys on its own clock: pass about now). */
    storeNow?: number;
    maxEntityRows?: number;
    push?: Partial<PushLimits>;
    /** Where offline pushes append (default: the DuckDB store's files in a temp data dir). */
    offline?: PushOfflineStore;
    /** A JSON log at level info written here (default: no log). */
    logStream?: { write(line: string): void };
  } = {},
): Promise<Served> {
  const tmp = tempDir();
  const repo = await loadRepository(repoDir);
  const store = createOnlineStore(
    opts.store ?? { type: 'sqlite', path: join(tmp.dir, 'online.sqlite') },
    {
      namespace: opts.namespace ?? `t${randomUUID().slice(0, 8)}`,
      views: [...repo.featureViews.values()].map((v) => v.spec),
      // The store's wall clock stays at T0 so test data never expires; reads use `ctx.clock`.
      clock: () => opts.storeNow ?? T0,
    },
  );
  await store.init();
  const clock = opts.clock ?? (() => T0);
  const ctx: ServerContext = {
    state: new ServingState({ repo, store, version: 1, loadedAt: Date.now() }),
    maxEntityRows: opts.maxEntityRows ?? 1000,
    keys: new KeyStore(tmp.dir),
    limiter: new RateLimiter(),
    pushHandler: new DefaultPushHandler(opts.offline ?? join(tmp.dir, 'data'), clock, opts.push),
    metrics: new ServerMetrics(),
    home: tmp.dir,
    clock,
  };
  const app = await buildServer(
    ctx,
    opts.logStream ? { logLevel: 'info', logStream: opts.logStream } : {},
  );
  return {
    app,
    ctx,
    repo,
    store,
    home: tmp.dir,
    close: async () => {
      await app.close();
      await store.teardown().catch(() => undefined);
      await store.close();
      tmp.cleanup();
    },
  };
}
