/**
 * The one error registry: every error Larder raises on purpose has a stable code, an HTTP
 * status, a gRPC status, and says whether retrying can help. Messages say what, where and how
 * to fix it.
 */
export interface ErrorInfo {
  http: number;
  /** gRPC status code number (3 INVALID_ARGUMENT, 5 NOT_FOUND, 14 UNAVAILABLE, ...). */
  grpc: number;
  retriable: boolean;
}

export const ERROR_CODES = {
  LARDER_DEFINITION_INVALID: { http: 400, grpc: 3, retriable: false },
  LARDER_CONFIG_INVALID: { http: 500, grpc: 9, retriable: false },
  LARDER_REGISTRY_NOT_APPLIED: { http: 503, grpc: 9, retriable: true },
  LARDER_BREAKING_CHANGE: { http: 409, grpc: 9, retriable: false },
  LARDER_REGISTRY_LOCKED: { http: 503, grpc: 10, retriable: true },
  LARDER_NOT_FOUND: { http: 404, grpc: 5, retriable: false },
  LARDER_BAD_REQUEST: { http: 400, grpc: 3, retriable: false },
  /** A request body that is not `application/json` (or `text/plain`). */
  LARDER_UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: 3, retriable: false },
  /** The request body exceeds the server's body limit (8 MiB). */
  LARDER_PAYLOAD_TOO_LARGE: { http: 413, grpc: 8, retriable: false },
  /** An `Idempotency-Key` already used (within its retention) for a different push body. */
  LARDER_IDEMPOTENCY_KEY_REUSED: { http: 422, grpc: 3, retriable: false },
  LARDER_UNAUTHENTICATED: { http: 401, grpc: 16, retriable: false },
  LARDER_FORBIDDEN: { http: 403, grpc: 7, retriable: false },
  LARDER_RATE_LIMITED: { http: 429, grpc: 8, retriable: true },
  LARDER_STORE_UNAVAILABLE: { http: 503, grpc: 14, retriable: true },
  /** The store answered but refused the command (a reply error): retrying the same write cannot help. */
  LARDER_STORE_REJECTED: { http: 500, grpc: 13, retriable: false },
  /** The Avro schema registry cannot be reached or answered 5xx: the record is fine, retry. */
  LARDER_SCHEMA_REGISTRY_UNAVAILABLE: { http: 503, grpc: 14, retriable: true },
  /** A server (`larder serve`, the stream worker's metrics) cannot bind its port. */
  LARDER_PORT_IN_USE: { http: 503, grpc: 14, retriable: true },
  LARDER_INTERNAL: { http: 500, grpc: 13, retriable: false },
  /** An on-demand transform threw or returned a wrong column or value (definitions/on-demand-eval.ts). */
  LARDER_ON_DEMAND_FAILED: { http: 500, grpc: 13, retriable: false },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class LarderError extends Error {
  override readonly name = 'LarderError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** The request field at fault (`entities.user_id[3]`, `df.timestamp[0]`), for API errors. */
  readonly field: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    opts: { hint?: string; cause?: unknown; field?: string } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.hint = opts.hint;
    this.field = opts.field;
  }
  get info(): ErrorInfo {
    return ERROR_CODES[this.code];
  }
  get retriable(): boolean {
    return this.info.retriable;
  }
}

/** One problem in a definition: where it is, which object and field, what is wrong and the fix. */
export interface Problem {
  /** `features/views.ts:42`, or the file alone when the line is unknown. */
  at: string;
  object: string;
  field: string;
  message: string;
  hint?: string;
}

export function formatProblem(p: Problem): string {
  const hint = p.hint ? `\n    hint: ${p.hint}` : '';
  return `${p.at}: ${p.object}${p.field ? ` → ${p.field}` : ''}: ${p.message}${hint}`;
}

/** Raised when definitions are invalid; carries every problem found, not just the first. */
export class DefinitionError extends LarderError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(
      'LARDER_DEFINITION_INVALID',
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the feature definitions:\n` +
        problems.map((p) => `  ${formatProblem(p)}`).join('\n'),
    );
    this.problems = problems;
  }
}

/**
 * A `LARDER_BAD_REQUEST` about one field of a request (the entity rows, a push body, …): what
 * is wrong with it and, when known, how to fix it.
 *
 * @example
 * throw badRequest('features', 'no features requested', 'name at least one view:feature');
 */
export function badRequest(field: string, message: string, hint?: string): LarderError {
  return new LarderError('LARDER_BAD_REQUEST', message, hint ? { field, hint } : { field });
}
