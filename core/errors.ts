/**
 * The one error registry: every error Larder raises on purpose has a stable code, an HTTP
 * status, a gRPC status, and a kind: `transient` when retrying the same thing later can help (a
 * store, broker or lock that may come back), `permanent` when it cannot. The stream worker's
 * retry policy (`streaming/failure-kind.ts`), the API's `Retry-After` and materialization's
 * retries all read the kind from here. Messages say what, where and how to fix it. Every code
 * is documented in docs/errors.md (a test keeps the two equal).
 */
export type ErrorKind = 'transient' | 'permanent';

export interface ErrorInfo {
  http: number;
  /** gRPC status code number (3 INVALID_ARGUMENT, 5 NOT_FOUND, 14 UNAVAILABLE, ...). */
  grpc: number;
  kind: ErrorKind;
}

export const ERROR_CODES = {
  LARDER_DEFINITION_INVALID: { http: 400, grpc: 3, kind: 'permanent' },
  LARDER_CONFIG_INVALID: { http: 500, grpc: 9, kind: 'permanent' },
  LARDER_REGISTRY_NOT_APPLIED: { http: 503, grpc: 9, kind: 'transient' },
  LARDER_BREAKING_CHANGE: { http: 409, grpc: 9, kind: 'permanent' },
  LARDER_REGISTRY_LOCKED: { http: 503, grpc: 10, kind: 'transient' },
  LARDER_NOT_FOUND: { http: 404, grpc: 5, kind: 'permanent' },
  LARDER_BAD_REQUEST: { http: 400, grpc: 3, kind: 'permanent' },
  /** A request body that is not `application/json` (or `text/plain`). */
  LARDER_UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: 3, kind: 'permanent' },
  /** The request body exceeds the server's body limit (8 MiB). */
  LARDER_PAYLOAD_TOO_LARGE: { http: 413, grpc: 8, kind: 'permanent' },
  /** An `Idempotency-Key` already used (within its retention) for a different push body. */
  LARDER_IDEMPOTENCY_KEY_REUSED: { http: 422, grpc: 3, kind: 'permanent' },
  LARDER_UNAUTHENTICATED: { http: 401, grpc: 16, kind: 'permanent' },
  LARDER_FORBIDDEN: { http: 403, grpc: 7, kind: 'permanent' },
  LARDER_RATE_LIMITED: { http: 429, grpc: 8, kind: 'transient' },
  LARDER_STORE_UNAVAILABLE: { http: 503, grpc: 14, kind: 'transient' },
  /** The store answered but refused the command (a reply error): retrying the same write cannot help. */
  LARDER_STORE_REJECTED: { http: 500, grpc: 13, kind: 'permanent' },
  /** The Avro schema registry cannot be reached or answered 5xx: the record is fine, retry. */
  LARDER_SCHEMA_REGISTRY_UNAVAILABLE: { http: 503, grpc: 14, kind: 'transient' },
  /**
   * Kafka cannot be reached, or answered with a failure that may pass (a topic whose partitions
   * have no leader yet, a broker starting): run the command again.
   */
  LARDER_BROKER_UNAVAILABLE: { http: 503, grpc: 14, kind: 'transient' },
  /** A server (`larder serve`, the stream worker's metrics) cannot bind its port. */
  LARDER_PORT_IN_USE: { http: 503, grpc: 14, kind: 'transient' },
  LARDER_INTERNAL: { http: 500, grpc: 13, kind: 'permanent' },
  /** An on-demand transform threw or returned a wrong column or value (definitions/on-demand-eval.ts). */
  LARDER_ON_DEMAND_FAILED: { http: 500, grpc: 13, kind: 'permanent' },
  /** A Kafka topic contradicts its stream source's `topicSettings` (`larder stream`, `larder topics`). */
  LARDER_TOPIC_MISMATCH: { http: 409, grpc: 9, kind: 'permanent' },
  /** `larder validate` (or `materialize --validate`): the data failed its expectations' gate. */
  LARDER_EXPECTATION_FAILED: { http: 422, grpc: 9, kind: 'permanent' },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Why a request (an HTTP or gRPC call, a command line, an entity file) was refused with
 * LARDER_BAD_REQUEST, so clients and logs can tell the cases apart while the code stays the
 * same on the wire. docs/errors.md says when each happens.
 */
export const BAD_REQUEST_REASONS = [
  'malformed_body',
  'unsafe_key',
  'unknown_field',
  'missing_field',
  'conflicting_fields',
  'wrong_type',
  'invalid_value',
  'ragged_columns',
  'invalid_record',
  'duplicate',
  'too_many_rows',
  'invalid_feature_reference',
  'not_in_view',
  'out_of_range',
  'suspect_time_unit',
  'unknown_command',
  'missing_argument',
  'invalid_option',
  'unsupported_format',
  'malformed_file',
  'unsupported_operation',
  'confirmation_required',
  'cannot_listen',
  'permission_denied',
] as const;

export type BadRequestReason = (typeof BAD_REQUEST_REASONS)[number];

/** The store an error comes from, and the operation that failed (as the store names it). */
export interface StoreErrorDetail {
  store: 'redis' | 'redis-cluster' | 'sqlite' | 'duckdb' | 'bigquery';
  op: string;
}

/** An on-demand evaluation that failed: the view, the feature (null when the transform threw), why. */
export interface OnDemandFailure {
  view: string;
  feature: string | null;
  /** The message without the view's name. */
  problem: string;
}

/** The typed detail of the codes that carry one; the other codes take none. */
export interface ErrorDetails {
  LARDER_BAD_REQUEST: { reason: BadRequestReason };
  LARDER_RATE_LIMITED: { retryAfterSeconds: number };
  LARDER_STORE_UNAVAILABLE: StoreErrorDetail;
  LARDER_STORE_REJECTED: StoreErrorDetail;
  LARDER_ON_DEMAND_FAILED: OnDemandFailure;
}

export type ErrorDetail<C extends ErrorCode> = C extends keyof ErrorDetails
  ? ErrorDetails[C]
  : never;

export interface LarderErrorOptions<C extends ErrorCode> {
  hint?: string;
  cause?: unknown;
  /** The request field at fault (`entities.user_id[3]`, `df.timestamp[0]`), for API errors. */
  field?: string;
  /** The code's typed detail (`ErrorDetails`); a code without an entry there takes none. */
  detail?: ErrorDetail<C>;
}

/**
 * The constructor's arguments, one tuple per code: `detail` is checked against the code, and a
 * `LARDER_BAD_REQUEST` must say its reason.
 */
type LarderErrorArgs = {
  [C in ErrorCode]: C extends 'LARDER_BAD_REQUEST'
    ? [code: C, message: string, opts: LarderErrorOptions<C> & { detail: ErrorDetail<C> }]
    : [code: C, message: string, opts?: LarderErrorOptions<C>];
}[ErrorCode];

/**
 * @example
 * new LarderError('LARDER_BAD_REQUEST', '"features" is empty', {
 *   field: 'features',
 *   detail: { reason: 'missing_field' },
 * });
 * new LarderError('LARDER_RATE_LIMITED', 'too fast', { detail: { retryAfterSeconds: 2 } });
 */
export class LarderError extends Error {
  override readonly name = 'LarderError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** The request field at fault (`entities.user_id[3]`, `df.timestamp[0]`), for API errors. */
  readonly field: string | undefined;
  /** The code's typed detail (see `ErrorDetails`), when the thrower gave one; narrow with `is`. */
  readonly detail: ErrorDetail<ErrorCode> | undefined;
  constructor(...[code, message, opts = {}]: LarderErrorArgs) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.hint = opts.hint;
    this.field = opts.field;
    this.detail = opts.detail;
  }
  /** True when this error has `code`; narrows `detail` to that code's. */
  is<C extends ErrorCode>(code: C): this is LarderError & { code: C; detail?: ErrorDetail<C> } {
    return this.code === code;
  }
  get info(): ErrorInfo {
    return ERROR_CODES[this.code];
  }
  get kind(): ErrorKind {
    return this.info.kind;
  }
  /** Whether a retry can help: the code's kind is `transient`. */
  get retriable(): boolean {
    return this.info.kind === 'transient';
  }
}

/**
 * An online store call's failure as the API answers it: a LarderError as it is (the built-in
 * stores classify their own failures), anything else LARDER_STORE_UNAVAILABLE (503,
 * `Retry-After`) — on reads, pushes and `/ready` alike.
 *
 * @example
 * await store.mergeTiles(tiles).catch((e: unknown) => { throw storeFailure(e, 'online store write failed'); });
 */
export function storeFailure(e: unknown, what: string, hint?: string): LarderError {
  if (e instanceof LarderError) return e;
  return new LarderError('LARDER_STORE_UNAVAILABLE', `${what}: ${(e as Error).message}`, {
    cause: e,
    ...(hint === undefined ? {} : { hint }),
  });
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
 * is wrong with it, when known how to fix it, and the reason (docs/errors.md).
 *
 * @example
 * throw badRequest('features', 'no features requested', 'name at least one view:feature', 'missing_field');
 */
export function badRequest(
  field: string,
  message: string,
  hint?: string,
  reason: BadRequestReason = 'invalid_value',
): LarderError {
  return new LarderError(
    'LARDER_BAD_REQUEST',
    message,
    hint ? { field, hint, detail: { reason } } : { field, detail: { reason } },
  );
}
