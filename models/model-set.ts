import type { Repository } from '../definitions/repository.ts';
import { loadModel, type ModelRuntime } from './model-runtime.ts';

/** The loaded ONNX sessions of a repository, by model name. */
export type ModelSet = ReadonlyMap<string, ModelRuntime>;

/** Opens every model of a repository (in parallel); closes what opened if one fails. */
export async function loadModelSet(repo: Repository): Promise<ModelSet> {
  const specs = [...repo.models.values()].map((m) => m.spec);
  const settled = await Promise.allSettled(specs.map((s) => loadModel(s, repo.root)));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await closeModelSet(
      new Map(
        settled.flatMap((r, i) => (r.status === 'fulfilled' ? [[specs[i]!.name, r.value]] : [])),
      ),
    );
    throw (failed as PromiseRejectedResult).reason;
  }
  return new Map(
    settled.map((r, i) => [specs[i]!.name, (r as PromiseFulfilledResult<ModelRuntime>).value]),
  );
}

export async function closeModelSet(set: ModelSet): Promise<void> {
  await Promise.all([...set.values()].map((m) => m.close().catch(() => undefined)));
}
