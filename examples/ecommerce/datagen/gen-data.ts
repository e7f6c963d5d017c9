import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { GenDataOptions, GenDataSummary, Topic } from './gen-data-options.ts';
import { spanStart, validateGenOptions } from './gen-data-options.ts';
import { generateRecords } from './generate-records.ts';
import { pad } from './ids.ts';
import { ParquetConverter } from './parquet-converter.ts';
import { PartWriter } from './part-writer.ts';

/** Records per part file, unless `partSize` says otherwise. */
export const PART_SIZE = 1_000_000;
const PROGRESS_EVERY = 100_000;

/**
 * Generates the synthetic e-commerce history of {@link generateRecords} and writes it under
 * `${outDir}/raw/user_events/` and `${outDir}/raw/transactions/` as `part-NNNNN.jsonl` (or
 * `.parquet`), starting a new part every 1 000 000 records. Streams in constant memory; part
 * files a previous run left in those two directories are deleted first. Same options →
 * byte-identical files.
 *
 * @example
 * const summary = await genData({
 *   users: 10_000, products: 2_000, days: 30, events: 1_000_000, seed: 42,
 *   end: Date.UTC(2024, 5, 1), outDir: './data', format: 'jsonl',
 * });
 * console.log(`${summary.events} events, ${summary.transactions} transactions`);
 */
export async function genData(opts: GenDataOptions): Promise<GenDataSummary> {
  validateGenOptions(opts);
  const partSize = opts.partSize ?? PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize < 1) {
    throw new RangeError(`gen-data: partSize must be an integer >= 1, got ${partSize}`);
  }
  const t0 = performance.now();
  const converter = opts.format === 'parquet' ? new ParquetConverter() : null;
  const writers = {} as Record<Topic, PartWriter>;
  for (const topic of ['user_events', 'transactions'] as const) {
    const dir = join(opts.outDir, 'raw', topic);
    await mkdir(dir, { recursive: true });
    await PartWriter.clear(dir);
    writers[topic] = new PartWriter(dir, {
      partSize,
      finish: converter
        ? async (jsonlPath, part) => {
            const parquetPath = join(dir, `part-${pad(part, 5)}.parquet`);
            await converter.convert(topic, jsonlPath, parquetPath);
            return parquetPath;
          }
        : undefined,
    });
  }

  let events = 0;
  let transactions = 0;
  let anonymousEvents = 0;
  try {
    for (const item of generateRecords(opts)) {
      const wait = writers[item.topic].push(JSON.stringify(item.record));
      if (wait) await wait;
      if (item.topic === 'transactions') {
        transactions++;
        continue;
      }
      events++;
      if (item.record.userId === null) anonymousEvents++;
      if (events % PROGRESS_EVERY === 0) opts.onProgress?.({ events, transactions });
    }
    const files = [...(await writers.user_events.close()), ...(await writers.transactions.close())];
    opts.onProgress?.({ events, transactions });
    return {
      events,
      transactions,
      anonymousEvents,
      files,
      seconds: (performance.now() - t0) / 1000,
      start: spanStart(opts),
      end: opts.end,
    };
  } finally {
    writers.user_events.destroy();
    writers.transactions.destroy();
    await converter?.close();
  }
}
