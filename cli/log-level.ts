/**
 * Log levels of `larder serve` and `larder stream`: structured JSON lines on stdout (pino's
 * format: `{"level":50,"time":...,"pid":...,"msg":"..."}`), on by default at `info`.
 */
import type { logCreator, logLevel as KafkaLogLevel } from 'kafkajs';
import { LarderError } from '../core/errors.ts';

/**
 * kafkajs's `logLevel` values, written out so that loading the CLI's commands does not load the
 * Kafka client (every `larder` process would pay for it; test/cli/cli-startup.test.ts checks).
 */
export const KAFKA_LOG_LEVEL = {
  NOTHING: 0,
  ERROR: 1,
  WARN: 2,
  INFO: 4,
  DEBUG: 5,
} as const satisfies Record<keyof typeof KafkaLogLevel, KafkaLogLevel>;
const kafkaLevel = KAFKA_LOG_LEVEL;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** pino's numeric levels. */
const NUMERIC: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

export const LOG_LEVEL_HELP = `JSON log level on stdout: ${LOG_LEVELS.join(', ')}`;

/** Parses `--log-level`; a one-line error naming the accepted levels otherwise. */
export function parseLogLevel(v: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new LarderError('LARDER_BAD_REQUEST', `--log-level ${v}: not a log level`, {
    hint: `use one of: ${LOG_LEVELS.join(', ')}`,
    detail: { reason: 'invalid_option' },
  });
}

export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;
export interface JsonLogger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
}

/** A JSON-lines logger at `level`, writing to `out` (default stdout). */
export function jsonLogger(
  level: LogLevel,
  out: (line: string) => void = (l) => process.stdout.write(l),
  clock: () => number = Date.now,
): JsonLogger {
  const at =
    (name: Exclude<LogLevel, 'silent'>): LogFn =>
    (msg, fields = {}) => {
      if (NUMERIC[name] < NUMERIC[level]) return;
      const err = fields.err instanceof Error ? fields.err : null;
      const rest = err
        ? { ...fields, err: { type: err.name, message: err.message, stack: err.stack } }
        : fields;
      out(
        `${JSON.stringify({ level: NUMERIC[name], time: clock(), pid: process.pid, ...rest, msg })}\n`,
      );
    };
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

/** The Kafka client's logs at `level`, through `log` (so they are JSON lines too). */
export function kafkaLogOf(
  level: LogLevel,
  log: JsonLogger,
): { level: KafkaLogLevel; logCreator: logCreator } {
  const numeric = {
    fatal: kafkaLevel.ERROR,
    error: kafkaLevel.ERROR,
    warn: kafkaLevel.WARN,
    info: kafkaLevel.INFO,
    debug: kafkaLevel.DEBUG,
    trace: kafkaLevel.DEBUG,
    silent: kafkaLevel.NOTHING,
  }[level];
  const by: Record<number, LogFn> = {
    [kafkaLevel.ERROR]: log.error,
    [kafkaLevel.WARN]: log.warn,
    [kafkaLevel.INFO]: log.info,
    [kafkaLevel.DEBUG]: log.debug,
  };
  return {
    level: numeric,
    logCreator:
      () =>
      ({ namespace, level: l, log: { message, ...extra } }) =>
        by[l]?.(message, { logger: 'kafkajs', namespace, ...extra }),
  };
}
