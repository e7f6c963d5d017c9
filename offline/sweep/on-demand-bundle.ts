/**
 * The on-demand views' transforms for the sweep workers: the repository files that define the
 * views an export asks for, bundled by esbuild with `runOnDemandJob` into one CommonJS file
 * a worker `require`s (`on-demand-job.ts`) — the same source the main thread imported with tsx, so the same
 * transforms (a worker checks each view's spec, its transform's source included, against the
 * main thread's before it runs). The worker then runs {@link onDemandRows} over its range of
 * the export's rows, reading the swept columns and writing the output columns in shared memory.
 * The file is kept in the offline cache until one of its inputs changes (checking ≈ 50 small
 * files' hashes; bundling costs ≈ 60 CPU-ms more, with esbuild's import).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Repository } from '../../definitions/repository.ts';
import type { SweepPool } from './sweep-pool.ts';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../core/write-file-atomic.ts';

interface CachedBundle {
  /** Every bundled file (absolute path) and the hash of its content. */
  inputs: Record<string, string>;
  /** The bundle's file in the cache folder, named by its content's hash (so a worker that
   * loaded an older bundle never reuses it from its module cache). */
  file: string;
}

const sha1 = (text: string | Buffer): string => createHash('sha1').update(text).digest('hex');

/**
 * The bundle's path for views defined in `files` (absolute paths), kept in `cacheDir`; null
 * when it cannot be made (the export then runs the transforms on the main thread).
 */
export async function onDemandBundle(files: string[], cacheDir: string): Promise<string | null> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const entry = [
    ...files.map((f, i) => `import * as m${i} from ${JSON.stringify(f)};`),
    `import { runOnDemandJob } from ${JSON.stringify(join(here, 'on-demand-job.ts'))};`,
    `export const run = (job) => runOnDemandJob([${files.map((_, i) => `m${i}`).join(', ')}], job);`,
  ].join('\n');
  const meta = join(cacheDir, `on-demand-${sha1(entry).slice(0, 16)}.json`);
  let previous: string | null = null;
  try {
    const cached = JSON.parse(readFileSync(meta, 'utf8')) as CachedBundle;
    const code = join(cacheDir, cached.file);
    previous = code;
    if (
      existsSync(code) &&
      Object.entries(cached.inputs).every(([path, hash]) => sha1(readFileSync(path)) === hash)
    )
      return code;
  } catch {
    // No bundle yet, or an input is gone: bundle again.
  }
  try {
    const { build } = await import('esbuild');
    const out = await build({
      absWorkingDir: here,
      stdin: { contents: entry, resolveDir: here, loader: 'js', sourcefile: 'on-demand-entry.js' },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      metafile: true,
      logLevel: 'silent',
      // As tsx compiles the repository for the main thread: a transform's source text (part of
      // its view's spec, compared before a worker runs it) comes out the same.
      minifyWhitespace: true,
      // A module's own URL, as under tsx (the library finds its folder from it).
      define: { 'import.meta.url': '__bundledUrl' },
      banner: { js: `var __bundledUrl = require('node:url').pathToFileURL(__filename).href;` },
    });
    const inputs = Object.fromEntries(
      Object.keys(out.metafile.inputs)
        .filter((f) => f !== 'on-demand-entry.js')
        .map((f) => {
          const path = resolve(here, f);
          return [path, sha1(readFileSync(path))];
        }),
    );
    const text = out.outputFiles[0]!.text;
    const file = `on-demand-${sha1(text).slice(0, 16)}.cjs`;
    writeFileAtomic(join(cacheDir, file), text);
    writeFileAtomic(meta, JSON.stringify({ inputs, file } satisfies CachedBundle));
    // The bundle it replaces (a worker of this process that loaded it keeps its module).
    if (previous && previous !== join(cacheDir, file)) rmSync(previous, { force: true });
    return join(cacheDir, file);
  } catch {
    return null;
  }
}

/** The files (absolute, sorted) defining `odfvs`; null when one is not known. */
export function definingFiles(repo: Repository, odfvs: readonly string[]): string[] | null {
  const files = new Set<string>();
  for (const name of odfvs) {
    // `file:line`, relative to the working directory (`definitions/dsl/call-site.ts`).
    const at = /^(.+):\d+$/.exec(repo.onDemandViews.get(name)?.definedAt ?? '');
    if (!at) return null;
    const file = resolve(at[1]!);
    if (!existsSync(file)) return null;
    files.add(file);
  }
  return [...files].sort();
}

/**
 * The bundle of the files defining `odfvs` ({@link onDemandBundle}), which `pool`'s workers load
 * as soon as it is ready (while they read and sweep); null when it cannot be made.
 */
export function onDemandViews(
  repo: Repository,
  odfvs: readonly string[],
  pool: SweepPool,
  cacheDir: string,
): Promise<string | null> | null {
  const files = pool.mode === 'workers' ? definingFiles(repo, odfvs) : null;
  if (!files) return null;
  return onDemandBundle(files, cacheDir).then((file) => {
    if (file) pool.loadOnDemand(file);
    return file;
  });
}
