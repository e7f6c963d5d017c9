/**
 * One active run per view across scheduler processes: a lease per view in
 * `$LARDER_HOME/scheduler-leases.json`, next to the registry whose watermarks the runs move.
 * Every operation reads and rewrites the file under the registry lock (`withRegistryLock`), so
 * acquire, renew and release are atomic against each other. A lease expires `ttlMs` after its
 * last renewal, so a scheduler killed mid-run frees its views. Each grant gets a new fencing
 * token, greater than every earlier one: renew and release act only for the current token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/write-file-atomic.ts';
import { withRegistryLock } from '../registry/registry-file.ts';

export interface Lease {
  owner: string;
  token: number;
  expiresAt: number;
}

interface LeaseFile {
  nextToken: number;
  leases: Record<string, Lease>;
}

export const leasesPath = (home: string): string => join(home, 'scheduler-leases.json');

export function readLeases(home: string): LeaseFile {
  const p = leasesPath(home);
  if (!existsSync(p)) return { nextToken: 1, leases: {} };
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as LeaseFile;
  } catch {
    // Written atomically, so unreadable only if edited by hand: start over with fresh tokens.
    return { nextToken: Date.now(), leases: {} };
  }
}

function update<T>(home: string, f: (file: LeaseFile) => T): Promise<T> {
  return withRegistryLock(home, () => {
    const file = readLeases(home);
    const out = f(file);
    writeFileAtomic(leasesPath(home), `${JSON.stringify(file)}\n`);
    return out;
  });
}

export class FileLeases {
  readonly #home: string;
  readonly #now: () => number;

  constructor(home: string, now: () => number = Date.now) {
    this.#home = home;
    this.#now = now;
  }

  /** The lease's fencing token, or null while another owner holds an unexpired lease. */
  acquire(view: string, owner: string, ttlMs: number): Promise<number | null> {
    return update(this.#home, (f) => {
      const now = this.#now();
      const cur = f.leases[view];
      if (cur && cur.expiresAt > now && cur.owner !== owner) return null;
      const token = f.nextToken++;
      f.leases[view] = { owner, token, expiresAt: now + ttlMs };
      return token;
    });
  }

  /** Extends the lease; false when `token` no longer holds it (it expired and was taken). */
  renew(view: string, token: number, ttlMs: number): Promise<boolean> {
    return update(this.#home, (f) => {
      const cur = f.leases[view];
      if (cur?.token !== token) return false;
      cur.expiresAt = this.#now() + ttlMs;
      return true;
    });
  }

  /** Frees the lease if `token` still holds it. */
  release(view: string, token: number): Promise<void> {
    return update(this.#home, (f) => {
      if (f.leases[view]?.token === token) delete f.leases[view];
    });
  }
}
