/**
 * `--offline-sink`: appends the valid records the worker consumed to the configured offline
 * store (`OfflineStore.appendRecords`: the DuckDB store's JSON Lines files under
 * `$LARDER_DATA_DIR/<batch source path>/`, or the batch source's BigQuery table), so batch
 * recomputation and training exports see what streaming saw.
 *
 * Exactly once by (topic, partition, offset): the store skips offsets at or below the
 * partition's high-water mark it holds, so a batch consumed again after a crash (appended, but
 * its online checkpoint or Kafka commit never made) appends nothing twice. The append is
 * durable before the online checkpoint that covers the batch, and Kafka offsets are committed
 * only after that checkpoint. Too-old records (skipped online) are appended too: the offline
 * store keeps history.
 */
import type { Repository } from '../definitions/repository.ts';
import type { AppendResult, OfflineStore } from '../offline/offline-store.ts';
import type { StreamSourceRuntime } from './stream-source.ts';

export class OfflineSink {
  readonly #repo: Repository;
  readonly #store: Pick<OfflineStore, 'appendRecords'>;

  constructor(repo: Repository, store: Pick<OfflineStore, 'appendRecords'>) {
    this.#repo = repo;
    this.#store = store;
  }

  /** Appends `records` (ascending offsets) of `partition`; durable when it resolves. */
  append(
    src: StreamSourceRuntime,
    partition: number,
    records: readonly { offset: number; record: Record<string, unknown> }[],
  ): Promise<AppendResult> {
    return this.#store.appendRecords({
      source: this.#repo.streamSources.get(src.name)!.batch.spec,
      origin: { kind: 'stream', topic: src.topic, partition },
      records,
    });
  }
}
