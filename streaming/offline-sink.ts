/**
 * `--offline-sink`: appends the valid records the worker consumed to the offline store's raw
 * data, `$LARDER_DATA_DIR/<batch source path>/stream-<partition>-<YYYY-MM-DD>.jsonl` (date of
 * consumption, UTC), so batch recomputation sees what streaming saw.
 *
 * Idempotent by (topic, partition, offset): each data file has a sidecar
 * `<file>.offsets` with one `<last offset> <file length>` line per appended batch, written
 * (and fsynced) after the data and before the online store's checkpoint. When a partition is
 * (re)assigned, {@link OfflineSink.recover} truncates every file of the partition back to the
 * last sidecar entry the stored checkpoint covers: lines of a batch whose checkpoint was
 * never stored (a crash in between) are removed before the batch is consumed again.
 * One owner per partition is assumed (the consumer group guarantees it, except for a zombie
 * consumer finishing a batch during a rebalance, whose lines may then appear twice).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export class OfflineSink {
  readonly #dataDir: string;
  readonly #clock: () => number;

  constructor(dataDir: string, clock: () => number = Date.now) {
    this.#dataDir = dataDir;
    this.#clock = clock;
  }

  #dir(sourcePath: string): string {
    return join(this.#dataDir, sourcePath);
  }

  /** Appends `records` (offsets up to `lastOffset`) of `partition`; durable when it resolves. */
  append(
    sourcePath: string,
    partition: number,
    records: readonly Record<string, unknown>[],
    lastOffset: number,
  ): void {
    const dir = this.#dir(sourcePath);
    mkdirSync(dir, { recursive: true });
    const file = join(
      dir,
      `stream-${partition}-${new Date(this.#clock()).toISOString().slice(0, 10)}.jsonl`,
    );
    let text = '';
    for (const r of records) text += `${JSON.stringify(r)}\n`;
    const fd = openSync(file, 'a');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const side = openSync(`${file}.offsets`, 'a');
    try {
      writeSync(side, `${lastOffset} ${statSync(file).size}\n`);
      fsyncSync(side);
    } finally {
      closeSync(side);
    }
  }

  /** Drops what was appended for `partition` after `checkpoint` (the last applied offset). */
  recover(sourcePath: string, partition: number, checkpoint: number): void {
    const dir = this.#dir(sourcePath);
    if (!existsSync(dir)) return;
    const prefix = `stream-${partition}-`;
    for (const name of readdirSync(dir)) {
      if (!name.startsWith(prefix) || !name.endsWith('.jsonl')) continue;
      const file = join(dir, name);
      const sidecar = `${file}.offsets`;
      const entries = existsSync(sidecar)
        ? readFileSync(sidecar, 'utf8')
            .split('\n')
            .filter((l) => l)
            .map((l) => l.split(' ').map(Number) as [number, number])
        : [];
      const kept = entries.filter(([offset]) => offset <= checkpoint);
      const length = kept.length > 0 ? kept[kept.length - 1]![1] : 0;
      if (statSync(file).size !== length) truncateSync(file, length);
      if (kept.length !== entries.length)
        writeFileSync(sidecar, kept.map(([o, n]) => `${o} ${n}\n`).join(''));
    }
  }
}
