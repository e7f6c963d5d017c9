/**
 * How the CLI reports a failure to a person: one line (what, where) and, when there is one, a
 * `hint:` line (how to fix). Never a stack trace — `LARDER_DEBUG=1` adds it for bug reports.
 */
import { CommanderError } from 'commander';
import { DefinitionError, LarderError } from '../core/errors.ts';
import { failureKind } from '../streaming/failure-kind.ts';

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
  path?: string;
}

/** The first line of a message (DuckDB appends the SQL and a caret, Node a require stack). */
export const firstLine = (message: string): string =>
  message.split('\n').find((l) => l.trim() !== '') ?? message;

/** A LarderError for a Node system error (`listen EADDRINUSE`, `ENOENT`), or undefined. */
export function fromSystemError(e: unknown): LarderError | undefined {
  const s = e as SystemError;
  if (!(e instanceof Error)) return undefined;
  // A service that is down (Kafka, Redis): clients wrap the socket error in their own.
  const down = /\b(ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ECONNRESET) (\S+:\d+)/.exec(e.message);
  if (down)
    return new LarderError(
      'LARDER_STORE_UNAVAILABLE',
      `cannot connect to ${down[2]} (${down[1]})`,
      {
        hint: 'start the service or point the configuration at it (KAFKA_BROKERS, LARDER_ONLINE_STORE); retrying can help',
        cause: e,
      },
    );
  if (typeof s.code !== 'string') return undefined;
  if (s.code === 'EADDRINUSE') {
    const where = s.address !== undefined && s.port !== undefined ? `${s.address}:${s.port}` : '';
    return new LarderError(
      'LARDER_PORT_IN_USE',
      `cannot listen on ${where || 'the port'}: another process is using it`,
      {
        hint: 'stop that process, or choose another port (--port, --grpc-port, --metrics-port)',
        cause: e,
      },
    );
  }
  if (s.code === 'EADDRNOTAVAIL' || s.code === 'ENOTFOUND')
    return new LarderError('LARDER_BAD_REQUEST', `cannot listen on ${s.address ?? 'that host'}`, {
      hint: 'pass an address of this machine, e.g. --host 127.0.0.1',
      cause: e,
      detail: { reason: 'cannot_listen' },
    });
  if (s.code === 'EACCES' && s.syscall === 'listen')
    return new LarderError(
      'LARDER_BAD_REQUEST',
      `no permission to listen on port ${s.port ?? ''}`.trim(),
      { hint: 'use a port above 1023', cause: e, detail: { reason: 'cannot_listen' } },
    );
  const folderWanted = s.code === 'EEXIST' && s.syscall === 'mkdir';
  if (
    (s.code === 'ENOENT' || s.code === 'EACCES' || s.code === 'ENOTDIR' || folderWanted) &&
    s.path
  ) {
    const what =
      s.code === 'EACCES'
        ? 'no permission to access'
        : s.code === 'ENOTDIR'
          ? 'not a folder (part of the path is a file)'
          : folderWanted
            ? 'not a folder (a file has that name)'
            : 'no such file or folder';
    const opts = {
      hint: 'check the path (LARDER_HOME, LARDER_DATA_DIR or the option naming it)',
      cause: e,
    };
    return s.code === 'EACCES'
      ? new LarderError('LARDER_BAD_REQUEST', `${what}: ${s.path}`, {
          ...opts,
          detail: { reason: 'permission_denied' },
        })
      : new LarderError('LARDER_NOT_FOUND', `${what}: ${s.path}`, opts);
  }
  return undefined;
}

/**
 * A kafkajs error that may pass (its `retriable` flag, or kafkajs's retries of one running
 * out) as `LARDER_BROKER_UNAVAILABLE`; other kafkajs errors stay as they are.
 */
function fromKafkaError(e: unknown): LarderError | undefined {
  if (!(e instanceof Error) || !e.name.startsWith('KafkaJS')) return undefined;
  if (failureKind(e) !== 'transient') return undefined;
  return new LarderError('LARDER_BROKER_UNAVAILABLE', `Kafka: ${e.message}`, {
    hint: 'check the brokers (KAFKA_BROKERS) are up and reachable, then run the command again',
    cause: e,
  });
}

/** Prints an error for a person (what, where, how to fix) and returns the exit code. */
export function reportError(
  e: unknown,
  write: (s: string) => unknown = (s) => process.stderr.write(s),
  /** Add the stack trace (`LARDER_DEBUG`, see `debugFromEnv`). */
  withStack = false,
): number {
  // Commander has already printed its own one-line message (unknown option, missing argument).
  if (e instanceof CommanderError) return e.exitCode;
  const debug = withStack ? `${(e as Error)?.stack ?? ''}\n` : '';
  if (e instanceof DefinitionError) {
    write(`error: ${e.message}\n${debug}`);
    return 1;
  }
  const err = e instanceof LarderError ? e : (fromKafkaError(e) ?? fromSystemError(e));
  if (err) {
    write(
      `error [${err.code}]: ${firstLine(err.message)}\n${err.hint ? `  hint: ${err.hint}\n` : ''}${debug}`,
    );
    return 1;
  }
  const message = e instanceof Error ? firstLine(e.message) : String(e);
  write(
    `error: ${message}\n  hint: this looks like a bug in Larder; run again with LARDER_DEBUG=1 for the stack trace and report it\n${debug}`,
  );
  return 2;
}
