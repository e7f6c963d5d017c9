/**
 * Transient or permanent: how the stream worker treats a failure while applying a batch.
 * Transient (a store, broker or schema registry that may come back) is retried with backoff,
 * the partition waits and `/ready` says why. Permanent (retrying the same records cannot help)
 * is narrowed down to the records at fault, which go to the DLQ.
 *
 * - `LarderError`: its code's `kind` in the error table (`core/errors.ts`), the one source.
 * - kafkajs errors: their own `retriable` flag; `KafkaJSNumberOfRetriesExceeded` (kafkajs's own
 *   retries ran out) the kind of its cause.
 * - Node system errors of the network (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, …), also as
 *   the `cause` of another error (fetch's `fetch failed`), of the disk (`ENOSPC`, `EIO`,
 *   `EMFILE`, …: the offline sink), ioredis's closed connections and SQLite's busy / locked /
 *   I/O / full errors: transient.
 * - anything else (a bug, a value the code cannot handle): permanent.
 *
 * @example
 * failureKind(new LarderError('LARDER_STORE_UNAVAILABLE', 'Redis is down')); // 'transient'
 */
import { LarderError, type ErrorKind } from '../core/errors.ts';

export type FailureKind = ErrorKind;

const TRANSIENT_CODES =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ECONNABORTED|UND_ERR_\w+|ENOSPC|EIO|EMFILE|ENFILE|EAGAIN|EBUSY|EDQUOT|SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN)\w*)$/;

export function failureKind(e: unknown): FailureKind {
  if (e instanceof LarderError) return e.kind;
  if (e instanceof Error) {
    const flagged = (e as { retriable?: unknown }).retriable;
    // kafkajs gave up retrying a retriable failure (its own backoff ran out): still one that may
    // pass, so it is what its cause was.
    if (e.name === 'KafkaJSNumberOfRetriesExceeded' && e.cause !== undefined && e.cause !== e)
      return failureKind(e.cause);
    if (e.name.startsWith('KafkaJS') && typeof flagged === 'boolean')
      return flagged ? 'transient' : 'permanent';
    // ioredis when the connection is gone, undici (global fetch) when the server is unreachable.
    if (e.name === 'MaxRetriesPerRequestError' || /^Connection is closed/.test(e.message))
      return 'transient';
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.test(code)) return 'transient';
    if (e.cause !== undefined && e.cause !== e && failureKind(e.cause) === 'transient')
      return 'transient';
  }
  return 'permanent';
}

/** One line for a DLQ header or a log: the error code when there is one, then the message. */
export function failureText(e: unknown): string {
  if (e instanceof LarderError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
