/**
 * The variables the config loader took over from the modules that used to read them: each is
 * read once, into the `LarderConfig`, with the names and precedence it had (env over
 * `larder.config.ts`), and an empty value counts as unset.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debugFromEnv, loadConfig, resolveConfig } from '../../config/config.ts';
import { resolveTopic } from '../../definitions/dsl/sources.ts';
import type { StreamSourceSpec } from '../../definitions/spec.ts';

const config = (env: NodeJS.ProcessEnv, file: unknown = {}) => resolveConfig(file, '/proj', env);
const source = { topic: 'user-events', topicEnv: 'LARDER_TOPIC_USER_EVENTS' } as StreamSourceSpec;

describe('environment variables read by the config loader', () => {
  it('LARDER_TOPIC_<NAME>: topic overrides; an empty one is unset', () => {
    const c = config({
      LARDER_TOPIC_USER_EVENTS: 'ev-test',
      LARDER_TOPIC_TRANSACTIONS: '',
      LARDER_TOPICS: 'not an override',
    });
    expect(c.stream.topics).toEqual({ LARDER_TOPIC_USER_EVENTS: 'ev-test' });
    expect(resolveTopic(source, c.stream.topics)).toBe('ev-test');
    expect(resolveTopic(source, config({ LARDER_TOPIC_USER_EVENTS: '' }).stream.topics)).toBe(
      'user-events',
    );
    // Given directly, an empty override is unset too; none at all: the defined topic.
    expect(resolveTopic(source, { LARDER_TOPIC_USER_EVENTS: '' })).toBe('user-events');
    expect(resolveTopic(source)).toBe('user-events');
  });

  it('LARDER_TOPIC_PARTITIONS over stream.topicPartitions (default 6), whole numbers only', () => {
    expect(config({}).stream.topicPartitions).toBe(6);
    expect(config({}, { stream: { topicPartitions: 12 } }).stream.topicPartitions).toBe(12);
    const env = { LARDER_TOPIC_PARTITIONS: '3' };
    expect(config(env, { stream: { topicPartitions: 12 } }).stream.topicPartitions).toBe(3);
    expect(config({ LARDER_TOPIC_PARTITIONS: '' }).stream.topicPartitions).toBe(6);
    expect(() => config({ LARDER_TOPIC_PARTITIONS: 'six' })).toThrow(
      'LARDER_TOPIC_PARTITIONS="six": write a whole number',
    );
    expect(() => config({ LARDER_TOPIC_PARTITIONS: '3' }, { stream: 'big' })).toThrow(
      'stream: Expected object, received string',
    );
    expect(() => config({ LARDER_TOPIC_PARTITIONS: '0' })).toThrow(
      'stream.topicPartitions: Number must be greater than 0',
    );
  });

  it('LARDER_KAFKA_RETRIES over kafka.retries (default 5), beside KAFKA_BROKERS', () => {
    expect(config({}).kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'larder',
      retries: 5,
    });
    expect(config({}, { kafka: { brokers: ['k:9092'], retries: 2 } }).kafka.retries).toBe(2);
    const env = { LARDER_KAFKA_RETRIES: '0', KAFKA_BROKERS: 'a:1,b:2' };
    expect(config(env, { kafka: { retries: 2 } }).kafka).toEqual({
      brokers: ['a:1', 'b:2'],
      clientId: 'larder',
      retries: 0,
    });
    expect(config({ LARDER_KAFKA_RETRIES: '' }).kafka.retries).toBe(5);
    expect(() => config({ LARDER_KAFKA_RETRIES: 'none' })).toThrow(
      'LARDER_KAFKA_RETRIES="none": write a whole number',
    );
    expect(() => config({ LARDER_KAFKA_RETRIES: '99' })).toThrow(
      'kafka.retries: Number must be less than or equal to 20',
    );
  });

  it('LARDER_SCHEMA_REGISTRY_URL over stream.schemaRegistryUrl (default none)', () => {
    expect(config({}).stream.schemaRegistryUrl).toBeNull();
    const url = 'http://127.0.0.1:8081';
    expect(config({ LARDER_SCHEMA_REGISTRY_URL: url }).stream.schemaRegistryUrl).toBe(url);
    const file = { stream: { schemaRegistryUrl: 'http://registry:8081' } };
    expect(config({}, file).stream.schemaRegistryUrl).toBe('http://registry:8081');
    expect(config({ LARDER_SCHEMA_REGISTRY_URL: '' }, file).stream.schemaRegistryUrl).toBe(
      'http://registry:8081',
    );
    expect(() => config({ LARDER_SCHEMA_REGISTRY_URL: 'registry' })).toThrow(
      'stream.schemaRegistryUrl: Invalid url',
    );
  });

  it('LARDER_TRACE_SQL=1 (+ LARDER_TRACE_SQL_FULL=1) and SWEEP_TRACE over trace', () => {
    expect(config({}).trace).toEqual({ sql: 'off', sweep: false });
    expect(config({ LARDER_TRACE_SQL: '1' }).trace.sql).toBe('statements');
    expect(config({ LARDER_TRACE_SQL: '1', LARDER_TRACE_SQL_FULL: '1' }).trace.sql).toBe('full');
    // As before: only "1" turns it on, and FULL alone does nothing.
    expect(config({ LARDER_TRACE_SQL: 'yes' }).trace.sql).toBe('off');
    expect(config({ LARDER_TRACE_SQL_FULL: '1' }).trace.sql).toBe('off');
    expect(config({}, { trace: { sql: 'full' } }).trace.sql).toBe('full');
    expect(config({ SWEEP_TRACE: '1' }).trace.sweep).toBe(true);
    expect(config({ SWEEP_TRACE: '' }).trace.sweep).toBe(false);
    expect(() => config({}, { trace: { sql: 'on' } })).toThrow(/trace\.sql: Invalid enum value/);
  });

  it('LARDER_DEBUG: the CLI entry asks debugFromEnv', () => {
    expect(debugFromEnv({})).toBe(false);
    expect(debugFromEnv({ LARDER_DEBUG: '' })).toBe(false);
    expect(debugFromEnv({ LARDER_DEBUG: '1' })).toBe(true);
  });

  it('--repo wins over LARDER_REPO, which wins over the file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'larder-env-'));
    try {
      const env = { LARDER_REPO: 'from-env' };
      expect((await loadConfig(root, env)).repo).toBe(join(root, 'from-env'));
      expect((await loadConfig(root, env, { repo: 'from-flag' })).repo).toBe(
        join(root, 'from-flag'),
      );
      expect((await loadConfig(root, {})).repo).toBe(join(root, 'features'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
