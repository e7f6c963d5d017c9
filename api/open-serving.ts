/**
 * Opens what the server serves from, and reloads it: the repository applied in
 * `$LARDER_HOME/registry.json` (its `repo` folder; `config.repo` before any apply) and an online
 * store initialised for its views. A reload builds the new snapshot completely, swaps it in,
 * and closes the old store after a grace period, so requests in flight finish on the old one.
 */
import type { LarderConfig } from '../config/config.ts';
import { closeModelSet, loadModelSet } from '../models/model-set.ts';
import { createOnlineStore, initOrClose } from '../online/create-online-store.ts';
import { loadRepository } from '../definitions/load.ts';
import { onlineViewSpecs } from '../definitions/batch/serving-view.ts';
import { readRegistry } from '../registry/registry-file.ts';
import type { ServingSnapshot, ServingState } from './serving-state.ts';

/** Loads the applied repository and opens the online store for it. */
export async function openServing(config: LarderConfig): Promise<ServingSnapshot> {
  const reg = readRegistry(config.home);
  const repo = await loadRepository(reg?.repo ?? config.repo);
  // Closed when init fails: a failed hot reload leaves no reconnecting client behind.
  const store = await initOrClose(
    createOnlineStore(config.onlineStore, {
      namespace: config.namespace,
      views: onlineViewSpecs(repo),
    }),
  );
  let models;
  try {
    models = await loadModelSet(repo);
  } catch (e) {
    await store.close();
    throw e;
  }
  return { repo, store, models, version: reg?.version ?? 0, loadedAt: Date.now() };
}

/**
 * Reloads and swaps; a failed load leaves the current snapshot serving and rethrows.
 *
 * @example
 * new RegistryWatcher(config.home, () => reloadServing(config, state));
 */
export async function reloadServing(
  config: LarderConfig,
  state: ServingState,
  opts: { graceMs?: number; open?: (config: LarderConfig) => Promise<ServingSnapshot> } = {},
): Promise<ServingSnapshot> {
  const next = await (opts.open ?? openServing)(config);
  const prev = state.swap(next);
  if (prev.store !== next.store || prev.models !== next.models) {
    const t = setTimeout(() => {
      if (prev.store !== next.store) void prev.store.close().catch(() => undefined);
      if (prev.models && prev.models !== next.models) void closeModelSet(prev.models);
    }, opts.graceMs ?? 10_000);
    t.unref();
  }
  return next;
}
