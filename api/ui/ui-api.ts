/**
 * The JSON the dashboard polls (`GET /ui/api/*`), built from the serving snapshot, the registry
 * file's watermarks, the server's in-process windows and the stream worker's metrics. Shapes
 * are documented in `docs/dashboard.md`.
 */
import { LarderError } from '../../core/errors.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { encodeEntityKey } from '../../aggregation/tiles.ts';
import { resolveTopic } from '../../definitions/dsl/sources.ts';
import type { ServerContext } from '../server-context.ts';
import { scheduledJson } from './scheduled-runs.ts';
import { fetchStreamMetrics } from './stream-metrics.ts';

/** The real-time panel reads this feature for its top products. */
export const TOP_PRODUCTS = { view: 'product_engagement', feature: 'views_5m' } as const;
const MAX_ASKED = 100;

const sum = (xs: Iterable<number>): number => [...xs].reduce((a, b) => a + b, 0);

/** Per feature view: push writes, materialization watermark and stream-worker stats. */
export async function freshnessJson(ctx: ServerContext) {
  const { repo } = ctx.state.current;
  const now = ctx.clock();
  const wall = Date.now();
  const file = readRegistry(ctx.home);
  const watermarks = file?.watermarks ?? {};
  const ingest = new Map(ctx.metrics.ingest.views().map((v) => [v.view, v]));
  const stream = await fetchStreamMetrics(ctx.streamMetricsUrl);
  const views = [...repo.featureViews.values()].map(({ spec }) => {
    const src = repo.streamSources.get(spec.source)?.spec;
    const topic = src ? resolveTopic(src, ctx.topics) : null;
    const pushed = ingest.get(spec.name);
    const watermark = watermarks[spec.name] ?? null;
    const newest = Math.max(pushed?.newestEventTs ?? -Infinity, watermark ?? -Infinity);
    const t = stream.status === 'ok' && topic ? stream.metrics.topics[topic] : undefined;
    return {
      view: spec.name,
      source: spec.source,
      topic,
      online: spec.online,
      /** now − the newest value's event time (push or materialization), ms. */
      freshnessMs: Number.isFinite(newest) ? now - newest : null,
      lastWriteAt: pushed?.lastWriteAt ?? null,
      writeAgeMs: pushed ? wall - pushed.lastWriteAt : null,
      newestEventTs: pushed?.newestEventTs ?? null,
      recordsPushed: pushed?.records ?? 0,
      watermark,
      watermarkAgeMs: watermark === null ? null : now - watermark,
      stream: t
        ? {
            recordsPerSec: t.recordsPerSec,
            lag: sum(Object.values(t.lag)),
            lagByPartition: t.lag,
            dlq: t.dlq,
            freshnessP99Ms: t.freshnessP99Ms,
          }
        : null,
    };
  });
  const streamWorker = stream.status === 'ok' ? { status: 'ok', url: stream.url } : stream;
  const scheduled = scheduledJson(repo, ctx.home, now);
  return { now, registryVersion: file?.version ?? null, streamWorker, views, scheduled };
}

/** Request rate and latency per route over the last 60 s. */
export function servingJson(ctx: ServerContext) {
  return { windowSeconds: 60, routes: ctx.metrics.routes.stats() };
}

/**
 * The original pipeline's real-time view: top products by `views_5m` (over the product keys
 * pushed recently and `products`), events per minute over 30 minutes, conversion over an hour.
 */
export async function pipelineJson(ctx: ServerContext, products: readonly string[], limit = 10) {
  if (products.length > MAX_ASKED)
    throw new LarderError('LARDER_BAD_REQUEST', `products: at most ${MAX_ASKED} ids`, {
      detail: { reason: 'too_many_rows' },
      field: 'products',
    });
  const { repo, store } = ctx.state.current;
  const now = ctx.clock();
  const view = repo.featureViews.get(TOP_PRODUCTS.view)?.spec;
  let top: { productId: string; views5m: number | null }[] | null = null;
  if (view) {
    const keys = [
      ...new Set([
        ...products.map((p) => encodeEntityKey([p])),
        ...ctx.metrics.ingest.recentKeys(view.name),
      ]),
    ];
    const [res] =
      keys.length === 0
        ? [null]
        : await store.readMany([
            { view, features: [TOP_PRODUCTS.feature], entityKeys: keys, t: now },
          ]);
    top = keys
      .map((k, i) => ({
        productId: k.startsWith('[') ? (JSON.parse(k) as unknown[]).join(', ') : k,
        views5m: (res?.rows[i]?.[0]?.value as number | null) ?? null,
      }))
      .sort((a, b) => (b.views5m ?? -1) - (a.views5m ?? -1) || (a.productId < b.productId ? -1 : 1))
      .slice(0, limit);
  }
  return {
    now,
    topProducts: top,
    eventsPerMinute: ctx.metrics.ingest.eventsPerMinute(now, 30),
    conversion: ctx.metrics.ingest.conversion(now),
  };
}

/**
 * Real entity ids for the dashboard's placeholders: per join key, at most `limit` ids of the
 * views keyed by that entity alone (views in repository order) — first the ids this server
 * recently wrote through a push (most recent first), then ids sampled from the online store
 * (`OnlineStore.sampleEntityKeys`: materialized, streamed or pushed by any process). A store
 * that cannot be reached leaves the pushed ids only.
 */
export async function entityExamplesJson(ctx: ServerContext, limit = 5) {
  const { repo, store } = ctx.state.current;
  const examples: Record<string, string[]> = {};
  for (const { spec } of repo.entities.values()) examples[spec.joinKey] = [];
  const single = [...repo.featureViews.values()].flatMap(({ spec }) => {
    const entity = spec.entities.length === 1 ? repo.entities.get(spec.entities[0]!) : undefined;
    return entity && spec.online ? [{ view: spec.name, ids: examples[entity.spec.joinKey]! }] : [];
  });
  const add = (ids: string[], keys: Iterable<string>): void => {
    for (const k of keys) {
      if (ids.length >= limit) break;
      if (!k.startsWith('[') && !ids.includes(k)) ids.push(k);
    }
  };
  for (const { view, ids } of single) add(ids, ctx.metrics.ingest.recentKeys(view));
  for (const { view, ids } of single) {
    if (ids.length >= limit) continue;
    try {
      add(ids, (await store.sampleEntityKeys(view, limit)).sort());
    } catch {
      // The store is down: the dashboard still works, with the pushed ids only.
    }
  }
  return { examples };
}
