import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fromSystemError, reportError } from '../../cli/report-error.ts';
import { LarderError } from '../../core/errors.ts';

const report = (e: unknown, withStack = false): { code: number; text: string } => {
  let text = '';
  const code = reportError(e, (s) => (text += s), withStack);
  return { code, text };
};

describe('reportError', () => {
  it('a LarderError: one line with its code, the hint, exit code 1', () => {
    expect(report(new LarderError('LARDER_NOT_FOUND', 'no x', { hint: 'make one' }))).toEqual({
      code: 1,
      text: 'error [LARDER_NOT_FOUND]: no x\n  hint: make one\n',
    });
  });

  it('an unexpected error: its first line only, a bug hint, exit code 2; LARDER_DEBUG adds the stack', () => {
    const e = new TypeError('x is not a function\nLINE 1: SELECT …\n       ^');
    const r = report(e);
    expect(r.code).toBe(2);
    expect(r.text).toBe(
      'error: x is not a function\n  hint: this looks like a bug in Larder; run again with LARDER_DEBUG=1 for the stack trace and report it\n',
    );
    expect(report(e, true).text).toMatch(/\n {4}at /);
  });

  it('a kafkajs failure that may pass: LARDER_BROKER_UNAVAILABLE in one line, exit code 1; others stay bugs', () => {
    const notHosted = new KafkaJSProtocolError({
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      code: 3,
      retriable: true,
      message: 'This server does not host this topic-partition',
    } as unknown as Error);
    const text =
      'error [LARDER_BROKER_UNAVAILABLE]: Kafka: This server does not host this topic-partition\n' +
      '  hint: check the brokers (KAFKA_BROKERS) are up and reachable, then run the command again\n';
    expect(report(notHosted)).toEqual({ code: 1, text });
    // kafkajs's own retries of it ran out: the same.
    const gaveUp = new KafkaJSNumberOfRetriesExceeded(notHosted, { retryCount: 5, retryTime: 1 });
    expect(report(gaveUp)).toEqual({ code: 1, text });
    const refused = new KafkaJSConnectionError(
      'Connection error: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(report(refused).text).toMatch(
      /^error \[LARDER_BROKER_UNAVAILABLE\]: Kafka: Connection error/,
    );
    expect(report(new KafkaJSNonRetriableError('a bad request')).code).toBe(2);
  });

  it('system errors become Larder errors: port in use, service down, missing paths', () => {
    const inUse = Object.assign(
      new Error('listen EADDRINUSE: address already in use 127.0.0.1:6566'),
      {
        code: 'EADDRINUSE',
        address: '127.0.0.1',
        port: 6566,
      },
    );
    expect(fromSystemError(inUse)).toMatchObject({
      code: 'LARDER_PORT_IN_USE',
      message: 'cannot listen on 127.0.0.1:6566: another process is using it',
    });
    expect(
      fromSystemError(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092')),
    ).toMatchObject({
      code: 'LARDER_STORE_UNAVAILABLE',
      message: 'cannot connect to 127.0.0.1:9092 (ECONNREFUSED)',
    });
    const enotdir = Object.assign(new Error("ENOTDIR: not a directory, mkdir '/a/b'"), {
      code: 'ENOTDIR',
      path: '/a/b',
    });
    expect(report(enotdir)).toEqual({
      code: 1,
      text: 'error [LARDER_NOT_FOUND]: not a folder (part of the path is a file): /a/b\n  hint: check the path (LARDER_HOME, LARDER_DATA_DIR or the option naming it)\n',
    });
    expect(fromSystemError(new Error('plain'))).toBeUndefined();
  });
});
