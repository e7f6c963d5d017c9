import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pad } from './ids.ts';

/** Turns a finished JSON Lines part into its final file and returns that file's path. */
export type PartFinisher = (jsonlPath: string, part: number) => Promise<string>;

export interface PartWriterOptions {
  /** Records per part before a new one is started. */
  partSize: number;
  /**
   * When set, parts are written to a hidden temporary `.part-NNNNN.jsonl.tmp` and handed to
   * this function once complete (e.g. to convert them to Parquet; it runs while the next part
   * is written, one at a time); otherwise the JSON Lines
   * file `part-NNNNN.jsonl` is the final file.
   */
  finish?: PartFinisher;
}

const FLUSH_CHARS = 1 << 20;
const PART_FILE = /^(part-\d+\.(jsonl|parquet)|\.part-\d+\.jsonl\.tmp)$/;

/**
 * Writes one source's records as JSON Lines into numbered parts of a directory, in constant
 * memory: lines are batched into ~1 MiB chunks and written through a file stream whose
 * backpressure the caller honours by awaiting the promise {@link PartWriter.push} returns.
 * The directory always ends up with at least `part-00000`, even for zero records.
 *
 * @example
 * const w = new PartWriter(dir, { partSize: 1_000_000 });
 * for (const line of lines) { const wait = w.push(line); if (wait) await wait; }
 * const files = await w.close();
 */
export class PartWriter {
  readonly #dir: string;
  readonly #opts: PartWriterOptions;
  readonly #files: string[] = [];
  #stream: WriteStream | null = null;
  #path = '';
  #part = 0;
  #inPart = 0;
  #buffer = '';
  #error: Error | null = null;
  #finishing: Promise<void> = Promise.resolve();

  constructor(dir: string, opts: PartWriterOptions) {
    this.#dir = dir;
    this.#opts = opts;
  }

  /** Deletes part files (and temporaries) a previous run left in `dir`. */
  static async clear(dir: string): Promise<void> {
    for (const name of await readdir(dir)) {
      if (PART_FILE.test(name)) await rm(join(dir, name), { force: true });
    }
  }

  /** Appends one line (without its newline). Returns a promise to await before pushing more, or null. */
  push(line: string): Promise<void> | null {
    if (this.#error) throw this.#error;
    if (this.#stream === null) this.#open();
    this.#buffer += line + '\n';
    this.#inPart++;
    if (this.#inPart >= this.#opts.partSize) return this.#closePart();
    if (this.#buffer.length >= FLUSH_CHARS) return this.#flush();
    return null;
  }

  /** Finishes the last part and returns every file written, in order. */
  async close(): Promise<string[]> {
    if (this.#error) throw this.#error;
    if (this.#stream === null && this.#part === 0) this.#open();
    if (this.#stream !== null) await this.#closePart();
    await this.#finishing;
    if (this.#error) throw this.#error;
    return [...this.#files];
  }

  /** Abandons the current part (after an error elsewhere). */
  destroy(): void {
    this.#stream?.destroy();
    this.#stream = null;
  }

  #open(): void {
    const name = `part-${pad(this.#part, 5)}.jsonl`;
    this.#path = join(this.#dir, this.#opts.finish ? `.${name}.tmp` : name);
    this.#stream = createWriteStream(this.#path, { highWaterMark: 4 << 20 });
    this.#stream.on('error', (err) => {
      this.#error ??= err;
    });
    this.#inPart = 0;
  }

  #flush(): Promise<void> | null {
    const stream = this.#stream as WriteStream;
    const buffer = this.#buffer;
    this.#buffer = '';
    if (buffer.length === 0 || stream.write(buffer)) return null;
    return once(stream, 'drain').then(() => undefined);
  }

  async #closePart(): Promise<void> {
    const stream = this.#stream as WriteStream;
    this.#stream = null;
    if (this.#buffer.length > 0) stream.write(this.#buffer);
    this.#buffer = '';
    stream.end();
    await once(stream, 'close');
    const finish = this.#opts.finish;
    const path = this.#path;
    const part = this.#part++;
    if (!finish) {
      this.#files.push(path);
      return;
    }
    // Finish in the background while the next part is written, at most one at a time.
    await this.#finishing;
    if (this.#error) throw this.#error;
    this.#finishing = finish(path, part).then(
      (file) => {
        this.#files.push(file);
      },
      (err: unknown) => {
        this.#error ??= err instanceof Error ? err : new Error(String(err));
      },
    );
  }
}
