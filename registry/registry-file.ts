/**
 * The applied registry: one JSON file, `$LARDER_HOME/registry.json`. Every object carries a
 * version (bumped on each change) and a content hash. Writes go through a lock file and an
 * atomic rename, so concurrent `apply` runs serialize and readers never see a torn file.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { isObject } from '../core/json-text.ts';
import { LarderError } from '../core/errors.ts';
import { objectKey, type ObjectSpec } from '../definitions/spec.ts';
import { writeFileAtomic } from '../core/write-file-atomic.ts';
import { contentHash } from './canonical.ts';

export interface StoredObject {
  spec: ObjectSpec;
  version: number;
  hash: string;
  updatedAt: string;
}

export interface RegistryFile {
  format: 1;
  /** Bumped on every apply that changes something. */
  version: number;
  appliedAt: string;
  /** Absolute path of the feature repository that was applied. */
  repo: string;
  objects: Record<string, StoredObject>;
  /** Materialization watermarks per feature view (epoch ms), kept by `materialize`. */
  watermarks: Record<string, number>;
  /**
   * Per feature view, when its last materialization started (wall clock, epoch ms):
   * `materialize-incremental` also reloads records appended since (`materialize/incremental-start.ts`).
   */
  arrivalMarks?: Record<string, number>;
  /**
   * Per view, how many materializations committed it: a run that finds the count changed at its
   * commit overlapped another run (`registry/watermark-commit.ts`).
   */
  commits?: Record<string, number>;
}

export const registryPath = (home: string): string => join(home, 'registry.json');

export function readRegistry(home: string): RegistryFile | null {
  const p = registryPath(home);
  if (!existsSync(p)) return null;
  const hint = 'restore it from backup or re-run `larder apply`';
  let file: unknown;
  try {
    file = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new LarderError(
      'LARDER_REGISTRY_NOT_APPLIED',
      `the registry file ${p} is not valid JSON`,
      {
        hint,
        cause: e,
      },
    );
  }
  if (!isRegistryFile(file))
    throw new LarderError(
      'LARDER_REGISTRY_NOT_APPLIED',
      `the registry file ${p} is not a Larder registry`,
      {
        hint,
      },
    );
  return file;
}

/**
 * The shape every reader relies on (JSON of another shape — `[]`, a file another program
 * wrote — failed as a TypeError, reported as a bug): a version, the repository path, and an
 * object of stored objects, each with its spec.
 */
function isRegistryFile(v: unknown): v is RegistryFile {
  return (
    isObject(v) &&
    typeof v.version === 'number' &&
    typeof v.repo === 'string' &&
    isObject(v.objects) &&
    Object.values(v.objects).every((o) => isObject(o) && isObject(o.spec)) &&
    (v.watermarks === undefined || isObject(v.watermarks)) &&
    (v.commits === undefined || isObject(v.commits))
  );
}

const LOCK_STALE_MS = 30_000;

/** Runs `fn` holding `$LARDER_HOME/registry.lock` (waits up to `timeoutMs` for another holder). */
export async function withRegistryLock<T>(
  home: string,
  fn: () => T | Promise<T>,
  timeoutMs = 15_000,
): Promise<T> {
  mkdirSync(home, { recursive: true });
  const lock = join(home, 'registry.lock');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        // the holder released it meanwhile
      }
      if (Date.now() > deadline) {
        throw new LarderError('LARDER_REGISTRY_LOCKED', `another larder process holds ${lock}`, {
          hint: 'wait for it to finish, or delete the lock file if no larder process is running',
        });
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

export function writeRegistry(home: string, file: RegistryFile): void {
  writeFileAtomic(registryPath(home), `${JSON.stringify(file, null, 2)}\n`);
}

/** The registry after applying `specs` on top of `current` (versions bumped where the hash changed). */
export function nextRegistry(
  current: RegistryFile | null,
  specs: readonly ObjectSpec[],
  repo: string,
  now = new Date(),
): RegistryFile {
  const objects: Record<string, StoredObject> = {};
  for (const spec of specs) {
    const key = objectKey(spec);
    const hash = contentHash(spec);
    const prev = current?.objects[key];
    objects[key] =
      prev && prev.hash === hash
        ? prev
        : { spec, hash, version: (prev?.version ?? 0) + 1, updatedAt: now.toISOString() };
  }
  return {
    format: 1,
    version: (current?.version ?? 0) + 1,
    appliedAt: now.toISOString(),
    repo,
    objects,
    watermarks: current?.watermarks ?? {},
    ...(current?.arrivalMarks ? { arrivalMarks: current.arrivalMarks } : {}),
    ...(current?.commits ? { commits: current.commits } : {}),
  };
}

/** Updates materialization watermarks (and arrival marks) under the lock. */
export async function setWatermarks(
  home: string,
  marks: Record<string, number>,
  arrivalMarks: Record<string, number> = {},
): Promise<void> {
  await withRegistryLock(home, () => {
    const cur = readRegistry(home);
    if (!cur)
      throw new LarderError('LARDER_REGISTRY_NOT_APPLIED', 'no registry yet', {
        hint: 'run `larder apply` first',
      });
    writeRegistry(home, {
      ...cur,
      watermarks: { ...cur.watermarks, ...marks },
      arrivalMarks: { ...cur.arrivalMarks, ...arrivalMarks },
    });
  });
}
