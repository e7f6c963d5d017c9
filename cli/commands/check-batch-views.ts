import type { LarderConfig } from '../../config/config.ts';
import { DefinitionError, type Problem } from '../../core/errors.ts';
import type { Repository } from '../../definitions/repository.ts';

/**
 * `plan` / `apply`: every batch view's query run on an empty input, in an in-memory DuckDB and,
 * when the configured offline store is BigQuery, in BigQuery too (over its source table, no
 * rows read). One DefinitionError lists every problem.
 */
export async function checkBatchViews(config: LarderConfig, repo: Repository): Promise<void> {
  const { validateBatchViews } = await import('../../offline/duckdb/batch-snapshots.ts');
  await validateBatchViews(repo);
  if (config.offlineStore.type !== 'bigquery' || repo.batchViews.size === 0) return;
  const { createOfflineStore } = await import('../../offline/create-offline-store.ts');
  const store = createOfflineStore(config);
  const problems: Problem[] = [];
  try {
    await store.init();
    for (const name of repo.batchViews.keys()) {
      try {
        await store.checkBatchView(repo, name);
      } catch (e) {
        if (!(e instanceof DefinitionError)) throw e;
        problems.push(...e.problems);
      }
    }
  } finally {
    await store.close();
  }
  if (problems.length > 0) throw new DefinitionError(problems);
}
