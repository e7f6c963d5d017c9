/**
 * Turns anything thrown while serving into the status and JSON body a client gets: a
 * LarderError keeps its code, message, field and hint; anything else is LARDER_INTERNAL with a
 * generic message (never a stack trace). Retriable errors carry a Retry-After.
 */
import { ERROR_CODES, LarderError, type ErrorCode } from '../core/errors.ts';

/** What a client is told about an internal error (the details go to the log, never to it). */
export const INTERNAL_MESSAGE = 'internal error (see the server log)';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; hint?: string };
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
 * const r = errorReply(new LarderError('LARDER_BAD_REQUEST', 'bad', { field: 'entities' }));
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
  const explicit = (e as { retryAfter?: unknown }).retryAfter;
  return {
    status: info.http,
    grpc: info.grpc,
    code: e.code,
    body: { error },
    retryAfter: info.retriable ? (typeof explicit === 'number' ? explicit : 1) : undefined,
  };
}
