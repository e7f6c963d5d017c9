/**
 * The error of an HTTP answer in either shape: Larder's `{"error": {...}}` (its own routes) or
 * Feast's error detail, a JSON string (`/get-online-features`, `/push`; see
 * `api/feature-server/feast-error.ts`).
 */
export interface AnyError {
  code: string;
  message: string;
  field?: string;
  hint?: string;
  reason?: string;
  /** Feast's exception class (Feast's routes only). */
  class?: string;
}

/**
 * @example
 * expect(errorOf(await app.inject({ url: '/push', ... })).code).toBe('LARDER_NOT_FOUND');
 */
export function errorOf(r: { json: () => unknown }): AnyError {
  const j = r.json();
  if (typeof j === 'string') return JSON.parse(j) as AnyError;
  return (j as { error: AnyError }).error;
}
