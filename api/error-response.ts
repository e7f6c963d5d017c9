/**
 * What the HTTP server answers for anything thrown while serving a request: the status, the
 * extra headers and the JSON text, with the failure logged (5xx) and counted
 * (`larder_errors_total`). fastify's error handler (`build-server.ts`) and the
 * `POST /get-online-features` fast path (`routes/online-features-fast-path.ts`) both answer
 * through it, so an error reads the same on either path.
 */
import { LarderError, type ErrorCode } from '../core/errors.ts';
import { errorReply } from './error-body.ts';
import { FEAST_ROUTES, feastErrorBody } from './feature-server/feast-error.ts';
import type { ServerMetrics } from './server-metrics.ts';

/** The largest request body accepted (every route): 8 MiB; larger is a 413. */
export const BODY_LIMIT = 8 * 1024 * 1024;

/** The request an error answers. */
export interface ErroredRequest {
  method: string;
  url: string;
  /** The matched route (`/get-online-features`), '' when none. */
  route: string;
  contentType: string | undefined;
  /** The parsed body, undefined when it was not parsed (Feast's error class may depend on it). */
  body: unknown;
}

/**
 * Where 5xx failures are logged: the JSON log when logging is on, else null (one stderr line).
 * Both request paths (fastify's and the `/get-online-features` fast path) log the same fields:
 * the request's `reqId`, `method`, `url`, the answer's `status`, the `code` and the error.
 */
export type ErrorLog =
  ((error: unknown, code: ErrorCode, message: string, status: number) => void) | null;

export interface ErrorResponse {
  status: number;
  code: ErrorCode;
  /** Headers beside `content-type: application/json` (`retry-after`, `larder-error-code`). */
  headers: Record<string, string>;
  /** The JSON text of the body. */
  payload: string;
}

/**
 * fastify's own request errors (a body too large, an unsupported media type, a malformed body)
 * as Larder's; anything else unchanged.
 */
function asLarderError(error: unknown, contentType: string | undefined): unknown {
  const fst = error as { code?: string; statusCode?: number; message?: string } | null;
  if (
    error instanceof LarderError ||
    fst === null ||
    typeof fst !== 'object' ||
    typeof fst.statusCode !== 'number' ||
    fst.statusCode >= 500
  )
    return error;
  if (fst.statusCode === 413)
    return new LarderError('LARDER_PAYLOAD_TOO_LARGE', 'the request body is too large', {
      field: '(body)',
      hint: `bodies are limited to ${BODY_LIMIT / 1024 / 1024} MiB; split the request`,
    });
  if (fst.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new LarderError(
      'LARDER_UNSUPPORTED_MEDIA_TYPE',
      `unsupported Content-Type "${String(contentType)}"`,
      { field: 'content-type', hint: 'send Content-Type: application/json' },
    );
  return new LarderError('LARDER_BAD_REQUEST', fst.message ?? 'bad request', {
    field: '(body)',
    hint: 'send a valid JSON body',
    detail: { reason: 'malformed_body' },
  });
}

/**
 * The answer to `error`; logs server-side failures and counts the code.
 *
 * @example
 * const r = errorResponse(e, { method: 'POST', url, route, contentType, body }, metrics, null);
 * reply.status(r.status).headers(r.headers).type('application/json').send(r.payload);
 */
export function errorResponse(
  error: unknown,
  req: ErroredRequest,
  metrics: ServerMetrics,
  log: ErrorLog,
): ErrorResponse {
  const r = errorReply(asLarderError(error, req.contentType));
  // Server-side failures (a bug, a failing on-demand transform, a store that is down) are
  // always logged with their cause: through the JSON log when logging is on, else as one
  // stderr line naming the request, the code and the cause.
  if (r.status >= 500) {
    if (log) log(error, r.code, r.body.error.message, r.status);
    else
      process.stderr.write(
        `larder serve: ${req.method} ${req.url} → ${r.status} ${r.code}: ${String((error as Error | null)?.message).replace(/\s*\n\s*/g, ' ')}\n`,
      );
  }
  metrics.errors.inc({ code: r.code });
  const headers: Record<string, string> = {};
  if (r.retryAfter !== undefined) headers['retry-after'] = String(r.retryAfter);
  // Feast's routes answer Feast's error body (its SDK raises the typed exception); the code
  // is in a header there too.
  if (FEAST_ROUTES.has(req.route)) {
    headers['larder-error-code'] = r.code;
    return {
      status: r.status,
      code: r.code,
      headers,
      payload: feastErrorBody(r, req.route, req.body),
    };
  }
  return { status: r.status, code: r.code, headers, payload: JSON.stringify(r.body) };
}
