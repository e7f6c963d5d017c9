/**
 * Checks a request's credentials (`Authorization: Bearer KEY` or `x-api-key: KEY`; gRPC
 * metadata `authorization`) against the key store, the needed scope and the key's rate limit.
 * `admin` implies every scope.
 */
import { LarderError } from '../../core/errors.ts';
import type { KeyStore, Scope } from './key-store.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** Extracts the key from header values; undefined when none is given. */
export function credentialOf(
  authorization: string | undefined,
  apiKey: string | undefined,
): string | undefined {
  if (authorization) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return m ? m[1] : authorization;
  }
  return apiKey || undefined;
}

/**
 * Throws LARDER_UNAUTHENTICATED (401), LARDER_FORBIDDEN (403) or LARDER_RATE_LIMITED (429,
 * its detail's `retryAfterSeconds` the Retry-After) unless the key may do `scope` now. No-op when auth is off.
 *
 * @example
 * authorize(keys, limiter, credentialOf(req.headers.authorization, undefined), 'read');
 */
export function authorize(
  keys: KeyStore,
  limiter: RateLimiter,
  key: string | undefined,
  scope: Scope,
): void {
  if (!keys.enabled) return;
  if (!key)
    throw new LarderError('LARDER_UNAUTHENTICATED', 'missing API key', {
      field: 'authorization',
      hint: 'send "Authorization: Bearer <key>" or "x-api-key: <key>" (create one with `larder keys create`)',
    });
  const rec = keys.verify(key);
  if (!rec)
    throw new LarderError('LARDER_UNAUTHENTICATED', 'invalid or revoked API key', {
      field: 'authorization',
    });
  if (!rec.scopes.includes(scope) && !rec.scopes.includes('admin'))
    throw new LarderError(
      'LARDER_FORBIDDEN',
      `API key "${rec.name}" lacks the "${scope}" scope (it has: ${rec.scopes.join(', ')})`,
      { field: 'authorization', hint: `create a key with --scopes ${scope}` },
    );
  if (rec.rate !== null) {
    const wait = limiter.take(rec.id, rec.rate);
    if (wait > 0)
      throw new LarderError(
        'LARDER_RATE_LIMITED',
        `API key "${rec.name}" exceeds ${rec.rate} requests/s`,
        { detail: { retryAfterSeconds: wait } },
      );
  }
}
