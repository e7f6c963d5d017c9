/**
 * Transient or permanent, on real errors: Redis reply errors from a real server, a refused
 * connection, fetch to a closed port, the error table's codes.
 */
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isPermanentReply } from '../../online/redis/redis-errors.ts';
import { LarderError } from '../../core/errors.ts';
import { failureKind, failureText } from '../../streaming/failure-kind.ts';
import { REDIS_URL } from './stream-fixture.ts';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

describe('failure kinds', () => {
  it('a Redis command error is permanent; a refused connection is transient', async () => {
    const redis = new Redis(REDIS_URL);
    try {
      const wrongArgs = (await redis.hmget('larder-test-key').catch((e: unknown) => e)) as Error;
      expect(wrongArgs.message).toMatch(/^ERR wrong number of arguments/);
      expect(isPermanentReply(wrongArgs)).toBe(true);
      expect(failureKind(wrongArgs)).toBe('permanent');
      const script = (await redis
        .eval("return redis.call('nope')", 0)
        .catch((e: unknown) => e)) as Error;
      expect(isPermanentReply(script)).toBe(true);
    } finally {
      redis.disconnect();
    }
    const port = await closedPort();
    const down = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const refused = (await down.connect().catch((e: unknown) => e)) as Error;
    expect(isPermanentReply(refused)).toBe(false);
    expect(failureKind(refused)).toBe('transient');
    const fetchFailed = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(failureKind(fetchFailed)).toBe('transient');
  });

  it("follows kafkajs's retriable flag, and a retriable cause once kafkajs's own retries ran out", () => {
    // kafkajs builds protocol errors from its error table's entry (types say Error | string).
    const protocolError = (type: string, code: number, retriable: boolean, message: string) =>
      new KafkaJSProtocolError({ type, code, retriable, message } as unknown as Error);
    const notHosted = protocolError(
      'UNKNOWN_TOPIC_OR_PARTITION',
      3,
      true,
      'This server does not host this topic-partition',
    );
    expect(failureKind(notHosted)).toBe('transient');
    const gaveUp = new KafkaJSNumberOfRetriesExceeded(notHosted, { retryCount: 5, retryTime: 1 });
    expect(gaveUp.retriable).toBe(false);
    expect(failureKind(gaveUp)).toBe('transient');
    const denied = protocolError(
      'TOPIC_AUTHORIZATION_FAILED',
      29,
      false,
      'Not authorized to access topics',
    );
    expect(failureKind(denied)).toBe('permanent');
    expect(
      failureKind(new KafkaJSNumberOfRetriesExceeded(denied, { retryCount: 0, retryTime: 1 })),
    ).toBe('permanent');
  });

  it('follows the error table for Larder errors; anything else is permanent', () => {
    expect(failureKind(new LarderError('LARDER_STORE_UNAVAILABLE', 'down'))).toBe('transient');
    expect(failureKind(new LarderError('LARDER_SCHEMA_REGISTRY_UNAVAILABLE', 'down'))).toBe(
      'transient',
    );
    expect(failureKind(new LarderError('LARDER_STORE_REJECTED', 'no'))).toBe('permanent');
    expect(
      failureKind(
        new LarderError('LARDER_BAD_REQUEST', 'no', { detail: { reason: 'invalid_value' } }),
      ),
    ).toBe('permanent');
    expect(failureKind(new TypeError('x is undefined'))).toBe('permanent');
    // A full disk (the offline sink) waits for space rather than dead-letters records.
    expect(failureKind(Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' }))).toBe(
      'transient',
    );
    expect(failureText(new LarderError('LARDER_STORE_REJECTED', 'no'))).toBe(
      'LARDER_STORE_REJECTED: no',
    );
  });
});
