/**
 * Runs sweeps on worker threads, one per core, so the passes of an export (user events by
 * user, user events by product, transactions) are swept in parallel while the main thread
 * talks to DuckDB. A cached index is read by the worker that sweeps it; a built one is
 * transferred, not copied (the caller must not use its arrays afterwards), or shared where its
 * arrays are in shared memory (the caller may read them while the worker sweeps). Rows in shared
 * memory are read in place, other rows copied; results come back in shared memory (lists transferred).
 * With one core, or where workers cannot start, sweeps run inline.
 *
 * @example
 * const pool = SweepPool.create();
 * const results = await pool.sweep({ index }, features, rows);
 * await pool.close();
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../core/write-file-atomic.ts';
import { Worker } from 'node:worker_threads';
import { IndexFileError, readIndexFiles, type IndexFiles } from './index-files.ts';
import type { IndexArray, PassIndex, SweepColumn } from './pass-index.ts';
import { sweepFeatures, type SweepFeature, type SweepResult, type SweepRows } from './sweep.ts';

/** The array itself when it owns its whole buffer (transferable as is), else a copy that does. */
function owned<T extends IndexArray>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice() as T);
}

/** Whether every array of `index` is in shared memory (shared with a worker, not transferred). */
export function sharedIndex(index: PassIndex): boolean {
  const arrays: IndexArray[] = [index.offsets, index.ts, index.dup];
  for (const c of index.columns.values())
    if (c.kind === 'flags') arrays.push(c.flags);
    else if (c.kind === 'values') arrays.push(c.values);
    else arrays.push(c.offsets, c.ts, c.codes, c.weights);
  return arrays.every((a) => a.buffer instanceof SharedArrayBuffer);
}

function transferableIndex(index: PassIndex): { index: PassIndex; buffers: ArrayBuffer[] } {
  const buffers: ArrayBuffer[] = [];
  const take = <T extends IndexArray>(a: T): T => {
    // Shared memory is read by the worker where it is (the caller keeps its arrays).
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const o = owned(a);
    buffers.push(o.buffer as ArrayBuffer);
    return o;
  };
  const columns = new Map<string, SweepColumn>();
  for (const [k, c] of index.columns) {
    if (c.kind === 'flags') columns.set(k, { ...c, flags: take(c.flags) });
    else if (c.kind === 'values') columns.set(k, { ...c, values: take(c.values) });
    else
      columns.set(k, {
        ...c,
        offsets: take(c.offsets),
        ts: take(c.ts),
        codes: take(c.codes),
        weights: take(c.weights),
      });
  }
  return {
    index: {
      keyCount: index.keyCount,
      offsets: take(index.offsets),
      ts: take(index.ts),
      dup: take(index.dup),
      columns,
    },
    buffers,
  };
}

interface Job {
  resolve: (r: Map<string, SweepResult>) => void;
  reject: (e: Error) => void;
}

/** The bundle per cache directory ('' = none), made once per process. */
const bundles = new Map<string, Promise<string>>();

interface CachedBundle {
  /** Every bundled file (absolute path) and the hash of its content. */
  inputs: Record<string, string>;
  code: string;
}

const sha1 = (path: string): string => createHash('sha1').update(readFileSync(path)).digest('hex');

/**
 * The worker's code as one CommonJS script: `sweep-worker.ts` and its imports bundled by esbuild,
 * once per process, and kept in `cacheDir` (when given) until one of the bundled files changes.
 * A bundle made from another checkout's files (a home shared by two) is never used.
 * A worker running plain JavaScript starts in ~25 ms of CPU; one registering tsx's loader first
 * took ~200 ms, which an export paid twice while reading its sources. Loading esbuild and
 * bundling cost ~60 ms more; the cached bundle, hashing ~20 small files.
 */
function workerCode(cacheDir: string | undefined): Promise<string> {
  const known = bundles.get(cacheDir ?? '');
  if (known) return known;
  const bundle = (async () => {
    const cache = cacheDir ? join(cacheDir, 'sweep-worker.json') : null;
    const root = fileURLToPath(new URL('.', import.meta.url));
    try {
      const cached = JSON.parse(readFileSync(cache!, 'utf8')) as CachedBundle;
      // Bundled from this checkout's files (a home shared by two checkouts holds the bundle of
      // whichever ran last, whose own files still match it), none of them changed since.
      if (
        join(root, 'sweep-worker.ts') in cached.inputs &&
        Object.entries(cached.inputs).every(([path, hash]) => sha1(path) === hash)
      )
        return cached.code;
    } catch {
      // No cache, or a bundled file is gone: bundle again.
    }
    const { build } = await import('esbuild');
    const out = await build({
      absWorkingDir: root,
      entryPoints: ['./sweep-worker.ts'],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    if (cache) {
      const inputs = Object.fromEntries(
        Object.keys(out.metafile.inputs).map((f) => {
          const path = resolve(root, f);
          return [path, sha1(path)];
        }),
      );
      try {
        writeFileAtomic(cache, JSON.stringify({ inputs, code } satisfies CachedBundle));
      } catch {
        // A read-only home: bundle again next time.
      }
    }
    return code;
  })();
  bundles.set(cacheDir ?? '', bundle);
  return bundle;
}

class PoolWorker {
  #worker: Worker | null = null;
  readonly ready: Promise<void>;
  readonly jobs = new Map<number, Job>();
  busy = 0;

  constructor(code: Promise<string>) {
    this.ready = code.then(
      (js) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(js, { eval: true });
          worker.unref();
          worker.once('error', reject);
          worker.once('message', () => resolve());
          this.#listen(worker);
          this.#worker = worker;
        }),
    );
    // Observed by `sweep` (which falls back to inline); never an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  get worker(): Worker {
    if (!this.#worker) throw new Error('sweep worker: not started');
    return this.#worker;
  }

  async terminate(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.#worker?.terminate();
  }

  #listen(worker: Worker): void {
    worker.on(
      'message',
      (m: {
        id?: number;
        results?: Map<string, SweepResult>;
        error?: string;
        indexFile?: boolean;
      }) => {
        if (m.id === undefined) return;
        const job = this.jobs.get(m.id);
        if (!job) return;
        this.jobs.delete(m.id);
        this.busy--;
        if (m.error === undefined) job.resolve(m.results!);
        else if (m.indexFile) job.reject(new IndexFileError(m.error));
        else job.reject(new Error(`sweep worker: ${m.error}`));
      },
    );
    worker.on('error', (e) => {
      for (const job of this.jobs.values()) job.reject(e);
      this.jobs.clear();
    });
  }
}

export class SweepPool {
  readonly #workers: PoolWorker[];
  #seq = 0;
  #failed = false;

  private constructor(workers: PoolWorker[]) {
    this.#workers = workers;
  }

  /**
   * A pool of `threads` workers (default: one per core; 0 or 1 core → inline); their bundled
   * code is kept in `cacheDir` when given.
   */
  static create(threads = availableParallelism(), cacheDir?: string): SweepPool {
    if (threads < 2) return new SweepPool([]);
    const code = workerCode(cacheDir);
    return new SweepPool(Array.from({ length: threads }, () => new PoolWorker(code)));
  }

  /** Where sweeps run: on worker threads, or inline (one core, or workers failed to start). */
  get mode(): 'workers' | 'inline' {
    return this.#workers.length > 0 && !this.#failed ? 'workers' : 'inline';
  }

  /** How many sweeps can run at once. */
  get size(): number {
    return Math.max(1, this.#workers.length);
  }

  /**
   * Computes `features` (see {@link sweepFeatures}) over an index given as arrays (handed over
   * to the worker) or as cached files (read by the worker as soon as it is claimed, while
   * `rows` may still be on their way). A file that cannot be read rejects with
   * {@link IndexFileError}, so the caller can load or rebuild the index itself.
   */
  async sweep(
    source: { index: PassIndex } | { files: IndexFiles },
    features: readonly SweepFeature[],
    rows: SweepRows | Promise<SweepRows>,
  ): Promise<Map<string, SweepResult>> {
    const worker = this.#workers.reduce<PoolWorker | null>(
      (best, w) => (best === null || w.busy < best.busy ? w : best),
      null,
    );
    const inline = async (): Promise<Map<string, SweepResult>> => {
      const index = 'index' in source ? source.index : readIndexFiles(source.files);
      return sweepFeatures(index, features, await rows);
    };
    if (!worker) return inline();
    // Claimed before waiting, so sweeps dispatched together go to different workers.
    worker.busy++;
    try {
      await worker.ready;
    } catch (e) {
      worker.busy--;
      if (!this.#failed)
        process.emitWarning(
          `sweep workers failed to start (${(e as Error).message}); sweeping on the main thread`,
        );
      this.#failed = true;
      return inline();
    }
    const id = ++this.#seq;
    const result = new Promise<Map<string, SweepResult>>((resolve, reject) =>
      worker.jobs.set(id, { resolve, reject }),
    );
    if ('files' in source) worker.worker.postMessage({ type: 'load', id, files: source.files });
    let r: SweepRows;
    try {
      r = await rows;
    } catch (e) {
      worker.jobs.delete(id);
      worker.busy--;
      if ('files' in source) worker.worker.postMessage({ type: 'drop', id });
      throw e;
    }
    if ('index' in source) {
      const t = transferableIndex(source.index);
      // The index is handed over; rows are shared or copied (callers keep them).
      worker.worker.postMessage({ type: 'sweep', id, index: t.index, features, rows: r }, [
        ...new Set(t.buffers),
      ]);
    } else worker.worker.postMessage({ type: 'sweep', id, features, rows: r });
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
