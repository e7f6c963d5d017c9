/**
 * The error table (`core/errors.ts`): the typed detail of each code, and the table's kind as
 * the one source of "can a retry help" for the stream worker, the API's Retry-After and the
 * error body's `reason`.
 */
import { describe, expect, it } from 'vitest';
import { errorReply } from '../../api/error-body.ts';
import {
  BAD_REQUEST_REASONS,
  ERROR_CODES,
  LarderError,
  type ErrorCode,
} from '../../core/errors.ts';
import { failureKind } from '../../streaming/failure-kind.ts';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

/** An error of any code, with the detail a code requires (a bad request's reason). */
const errorOf = (code: ErrorCode): LarderError =>
  code === 'LARDER_BAD_REQUEST'
    ? new LarderError(code, 'm', { detail: { reason: 'invalid_value' } })
    : new LarderError(code as Exclude<ErrorCode, 'LARDER_BAD_REQUEST'>, 'm');

describe('LarderError', () => {
  it('carries the detail given for its code, narrowed by is()', () => {
    const e: unknown = new LarderError('LARDER_RATE_LIMITED', 'too fast', {
      detail: { retryAfterSeconds: 3 },
    });
    expect(e instanceof LarderError && e.is('LARDER_RATE_LIMITED')).toBe(true);
    if (!(e instanceof LarderError) || !e.is('LARDER_RATE_LIMITED')) return;
    expect(e.detail?.retryAfterSeconds).toBe(3);
    expect(e.is('LARDER_BAD_REQUEST')).toBe(false);
    const bad = new LarderError('LARDER_BAD_REQUEST', 'no', {
      field: 'entities',
      detail: { reason: 'missing_field' },
    });
    expect(bad.detail).toEqual({ reason: 'missing_field' });
    expect(bad.field).toBe('entities');
    expect(new LarderError('LARDER_NOT_FOUND', 'gone').detail).toBeUndefined();
  });

  it('refuses, at compile time, a detail that is not its code’s', () => {
    const made = [
      // @ts-expect-error LARDER_BAD_REQUEST's reason is a closed set.
      new LarderError('LARDER_BAD_REQUEST', 'm', { detail: { reason: 'whatever' } }),
      // @ts-expect-error LARDER_RATE_LIMITED takes retryAfterSeconds, not a reason.
      new LarderError('LARDER_RATE_LIMITED', 'm', { detail: { reason: 'invalid_value' } }),
      // @ts-expect-error LARDER_NOT_FOUND takes no detail.
      new LarderError('LARDER_NOT_FOUND', 'm', { detail: { reason: 'invalid_value' } }),
    ];
    // At run time the constructor stores what it was given.
    expect(made.map((e) => e.code)).toEqual([
      'LARDER_BAD_REQUEST',
      'LARDER_RATE_LIMITED',
      'LARDER_NOT_FOUND',
    ]);
  });

  it('has a kind for every code, and retriable is exactly transient', () => {
    for (const code of CODES) {
      const e = errorOf(code);
      expect(['transient', 'permanent'], code).toContain(e.kind);
      expect(e.retriable, code).toBe(ERROR_CODES[code].kind === 'transient');
    }
  });

  it('a bad request must say its reason (a compile error otherwise)', () => {
    // @ts-expect-error LARDER_BAD_REQUEST takes { detail: { reason } }
    const e = new LarderError('LARDER_BAD_REQUEST', 'no reason');
    expect(e.detail).toBeUndefined();
    expect(
      new LarderError('LARDER_BAD_REQUEST', 'm', { detail: { reason: 'duplicate' } }).detail,
    ).toEqual({ reason: 'duplicate' });
  });

  it('has distinct reasons', () => {
    expect(new Set(BAD_REQUEST_REASONS).size).toBe(BAD_REQUEST_REASONS.length);
  });
});

describe('the table as the one source of retry decisions', () => {
  it("the stream worker's failureKind is the table's kind for every code", () => {
    for (const code of CODES) expect(failureKind(errorOf(code)), code).toBe(ERROR_CODES[code].kind);
    // Also as the cause of another error (a client wrapping it).
    const wrapped = new Error('batch failed', {
      cause: new LarderError('LARDER_STORE_UNAVAILABLE', 'down'),
    });
    expect(failureKind(wrapped)).toBe('transient');
  });

  it('Retry-After: the rate limit detail, 1 s for other transient codes, none for permanent', () => {
    const limited = new LarderError('LARDER_RATE_LIMITED', 'm', {
      detail: { retryAfterSeconds: 7 },
    });
    expect(errorReply(limited).retryAfter).toBe(7);
    for (const code of CODES) {
      const r = errorReply(errorOf(code));
      expect(r.retryAfter, code).toBe(ERROR_CODES[code].kind === 'transient' ? 1 : undefined);
      expect(r.status, code).toBe(ERROR_CODES[code].http);
      expect(r.grpc, code).toBe(ERROR_CODES[code].grpc);
    }
  });

  it("the body's reason is the bad request's reason, and only that", () => {
    const body = errorReply(
      new LarderError('LARDER_BAD_REQUEST', 'm', { field: 'f', detail: { reason: 'wrong_type' } }),
    ).body;
    expect(body).toEqual({
      error: { code: 'LARDER_BAD_REQUEST', message: 'm', field: 'f', reason: 'wrong_type' },
    });
    const down = errorReply(
      new LarderError('LARDER_STORE_UNAVAILABLE', 'm', { detail: { store: 'redis', op: 'read' } }),
    ).body;
    expect(down).toEqual({ error: { code: 'LARDER_STORE_UNAVAILABLE', message: 'm' } });
  });
});
