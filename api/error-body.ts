/**
 * Turns anything thrown while serving into the status and JSON body a client gets: a
 * LarderError keeps its code, message, field, hint and (LARDER_BAD_REQUEST) reason; anything
 * else is LARDER_INTERNAL with a generic message (never a stack trace). Transient errors carry
 * a Retry-After: the LARDER_RATE_LIMITED detail's `retryAfterSeconds`, otherwise 1 s.
 */
import { ERROR_CODES, LarderError, type BadRequestReason, type ErrorCode } from '../core/errors.ts';

/** What a client is told about an internal error (the details go to the log, never to it). */
export const INTERNAL_MESSAGE = 'internal error (see the server log)';

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    field?: string;
    hint?: string;
    /** LARDER_BAD_REQUEST only: which kind of bad request (docs/errors.md). */
    reason?: BadRequestReason;
  };
}

export interface ErrorReply {
  status: number;
  grpc: number;
  body: ErrorBody;
  /** Seconds, for the Retry-After header; undefined when a retry cannot help. */
  retryAfter: number | undefined;
  code: ErrorCode;
}

/**
 * @example
 * const r = errorReply(
 *   new LarderError('LARDER_BAD_REQUEST', 'bad', {
 *     field: 'entities',
 *     detail: { reason: 'missing_field' },
 *   }),
 * );
 * r.status; // 400
 */
export function errorReply(e: unknown): ErrorReply {
  if (!(e instanceof LarderError)) {
    return {
      status: 500,
      grpc: ERROR_CODES.LARDER_INTERNAL.grpc,
      code: 'LARDER_INTERNAL',
      body: { error: { code: 'LARDER_INTERNAL', message: INTERNAL_MESSAGE } },
      retryAfter: undefined,
    };
  }
  const info = ERROR_CODES[e.code];
  const error: ErrorBody['error'] = { code: e.code, message: e.message };
  if (e.field !== undefined) error.field = e.field;
  if (e.hint !== undefined) error.hint = e.hint;
  if (e.is('LARDER_BAD_REQUEST') && e.detail) error.reason = e.detail.reason;
  const wait = e.is('LARDER_RATE_LIMITED') ? e.detail?.retryAfterSeconds : undefined;
  return {
    status: info.http,
    grpc: info.grpc,
    code: e.code,
    body: { error },
    retryAfter: info.kind === 'transient' ? (wait ?? 1) : undefined,
  };
}
