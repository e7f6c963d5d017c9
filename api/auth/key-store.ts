/**
 * API keys in `$LARDER_HOME/keys.json`, stored hashed (sha256 over a per-key salt and the
 * secret; the secret itself is shown once, at creation). A key reads `lk_<id>_<secret>`: the id
 * finds the record, the secret is compared in constant time. Auth is on as soon as the file
 * holds any key (revoked ones included), off when there is none (the embedded demo).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LarderError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/write-file-atomic.ts';

export const SCOPES = ['read', 'push', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: Scope[];
  /** Requests per second (token bucket, burst = rate); null = unlimited. */
  rate: number | null;
  salt: string;
  /** hex sha256(salt + secret). */
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

interface KeysFile {
  format: 1;
  keys: ApiKeyRecord[];
}

const hashSecret = (salt: string, secret: string): Buffer =>
  createHash('sha256').update(salt).update(secret).digest();

const KEY_RE = /^lk_([a-f0-9]{12})_([A-Za-z0-9_-]{20,})$/;
const RECHECK_MS = 200;

/**
 * Reads and writes keys.json; a server re-reads the file when it changes (checked at most every
 * 200 ms), so `larder keys revoke` takes effect without a restart.
 *
 * @example
 * const keys = new KeyStore(config.home);
 * const { key } = keys.create({ scopes: ['read'], name: 'ranker' }); // show `key` once
 * keys.verify(key)?.scopes; // ['read']
 */
export class KeyStore {
  readonly path: string;
  #keys: ApiKeyRecord[] = [];
  #byId = new Map<string, ApiKeyRecord>();
  #mtime = -1;
  #checkedAt = 0;

  constructor(home: string) {
    this.path = join(home, 'keys.json');
    this.reload();
  }

  /** Re-reads the file now. */
  reload(): void {
    let mtime = 0;
    try {
      mtime = existsSync(this.path) ? statSync(this.path).mtimeMs : 0;
    } catch {
      mtime = 0;
    }
    this.#checkedAt = Date.now();
    if (mtime === this.#mtime) return;
    this.#mtime = mtime;
    let file: KeysFile = { format: 1, keys: [] };
    if (mtime !== 0) {
      try {
        file = JSON.parse(readFileSync(this.path, 'utf8')) as KeysFile;
      } catch (e) {
        throw new LarderError('LARDER_CONFIG_INVALID', `${this.path} is not valid JSON`, {
          cause: e,
          hint: 'fix or delete the file, then create keys with `larder keys create`',
        });
      }
    }
    this.#keys = file.keys ?? [];
    this.#byId = new Map(this.#keys.map((k) => [k.id, k]));
  }

  #fresh(): void {
    if (Date.now() - this.#checkedAt >= RECHECK_MS) this.reload();
  }

  /** Whether requests must carry a key. */
  get enabled(): boolean {
    this.#fresh();
    return this.#keys.length > 0;
  }

  list(): readonly ApiKeyRecord[] {
    this.reload();
    return this.#keys;
  }

  /** The key's record when it is valid and not revoked, else null. Constant-time on the secret. */
  verify(key: string): ApiKeyRecord | null {
    this.#fresh();
    const m = KEY_RE.exec(key);
    if (!m) return null;
    const rec = this.#byId.get(m[1]!);
    if (!rec || rec.revokedAt) return null;
    const want = Buffer.from(rec.hash, 'hex');
    const got = hashSecret(rec.salt, m[2]!);
    return want.length === got.length && timingSafeEqual(want, got) ? rec : null;
  }

  /** Creates a key; the returned `key` is the only time the secret is visible. */
  create(opts: { scopes: Scope[]; name?: string; rate?: number | null }): {
    key: string;
    record: ApiKeyRecord;
  } {
    this.reload();
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    const salt = randomBytes(16).toString('hex');
    const record: ApiKeyRecord = {
      id,
      name: opts.name ?? id,
      scopes: [...new Set(opts.scopes)],
      rate: opts.rate ?? null,
      salt,
      hash: hashSecret(salt, secret).toString('hex'),
      createdAt: new Date().toISOString(),
      revokedAt: null,
    };
    this.#write([...this.#keys, record]);
    return { key: `lk_${id}_${secret}`, record };
  }

  /** Revokes a key by id; throws LARDER_NOT_FOUND for an unknown id. */
  revoke(id: string): ApiKeyRecord {
    this.reload();
    const rec = this.#byId.get(id);
    if (!rec)
      throw new LarderError('LARDER_NOT_FOUND', `no API key with id "${id}"`, {
        hint: 'list them with `larder keys list`',
      });
    const updated = { ...rec, revokedAt: rec.revokedAt ?? new Date().toISOString() };
    this.#write(this.#keys.map((k) => (k.id === id ? updated : k)));
    return updated;
  }

  #write(keys: ApiKeyRecord[]): void {
    writeFileAtomic(
      this.path,
      `${JSON.stringify({ format: 1, keys } satisfies KeysFile, null, 2)}\n`,
      { mode: 0o600 },
    );
    this.#mtime = -1;
    this.reload();
  }
}
