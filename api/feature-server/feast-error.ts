/**
 * Error bodies on Feast's routes (`POST /get-online-features`, `POST /push`) in the shape Feast's
 * feature server sends and its SDK parses: the body is a JSON *string* holding Feast's error
 * detail, `{"module": "feast.errors", "class": "...", "message": "..."}` (what
 * `FeastError.to_error_detail()` returns and FastAPI serializes once more). Feast's
 * `rest_error_handler` turns it back into that exception class with
 * `FeastError.from_error_detail(response.json())`, so a Feast client catches
 * `FeatureServiceNotFoundException` and friends. Larder adds its `code`, `field`, `hint` and
 * `reason` to the detail (Feast ignores extra keys); the status is Larder's (`core/errors.ts`).
 */
import type { ErrorReply } from '../error-body.ts';

/** The routes that answer errors in Feast's shape; every other route keeps Larder's. */
export const FEAST_ROUTES: ReadonlySet<string> = new Set(['/get-online-features', '/push']);

export interface FeastErrorDetail {
  module: 'feast.errors';
  /** A class of Feast's `feast/errors.py`. */
  class: string;
  message: string;
  /** Larder's code, field, hint and reason: extra keys Feast's SDK ignores. */
  code: string;
  field?: string;
  hint?: string;
  reason?: string;
}

/**
 * Feast's exception class for a Larder error on a Feast route. A missing object is Feast's
 * class for it (service, view, push source; `FeastObjectNotFoundException` for an unknown
 * feature of a known view); 401 and 403 are `FeastPermissionError`; anything else is
 * `FeastError`, the base class (Feast has no class for a bad request).
 */
export function feastErrorClass(r: ErrorReply, route: string, body: unknown): string {
  if (r.status === 401 || r.status === 403) return 'FeastPermissionError';
  if (r.code !== 'LARDER_NOT_FOUND') return 'FeastError';
  if (route === '/push') return 'PushSourceNotFoundException';
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b['feature_service'] === 'string') return 'FeatureServiceNotFoundException';
  return r.body.error.message.startsWith('unknown feature view')
    ? 'FeatureViewNotFoundException'
    : 'FeastObjectNotFoundException';
}

/**
 * The HTTP body (JSON text) of an error on a Feast route.
 *
 * @example
 * const text = feastErrorBody(errorReply(e), '/push', request.body);
 * JSON.parse(JSON.parse(text)).class; // 'PushSourceNotFoundException'
 */
export function feastErrorBody(r: ErrorReply, route: string, body: unknown): string {
  const e = r.body.error;
  const detail: FeastErrorDetail = {
    module: 'feast.errors',
    class: feastErrorClass(r, route, body),
    message: e.message,
    code: e.code,
  };
  if (e.field !== undefined) detail.field = e.field;
  if (e.hint !== undefined) detail.hint = e.hint;
  if (e.reason !== undefined) detail.reason = e.reason;
  return JSON.stringify(JSON.stringify(detail));
}
