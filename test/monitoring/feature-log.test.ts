import { describe, expect, it } from 'vitest';
import {
  expandRows,
  FeatureLog,
  type FeatureLogRow,
  type FeatureLogSink,
  type ServedRequest,
} from '../../monitoring/feature-log.ts';

class MemorySink implements FeatureLogSink {
  readonly rows: FeatureLogRow[] = [];
  closed = false;
  fail = false;
  constructor(readonly destination: 'parquet' | 'kafka' = 'parquet') {}
  async write(rows: readonly FeatureLogRow[]): Promise<void> {
    if (this.fail) throw new Error('disk full');
    this.rows.push(...rows);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const served = (
  users: string[],
  sample = 1,
  destinations: ('parquet' | 'kafka')[] = ['parquet'],
): ServedRequest => ({
  service: 'svc',
  logging: { sample, destinations },
  t: 1_000,
  entities: { user_id: users },
  response: {
    columns: [
      { name: 'user_id', values: users, statuses: users.map(() => 'PRESENT') },
      {
        name: 'clicks_1h',
        values: users.map((_, i) => (i === 0 ? 3 : null)),
        statuses: users.map((_, i) => (i === 0 ? 'PRESENT' : 'NOT_FOUND')),
      },
    ],
  },
});

const counting = (): {
  counts: Record<string, number>;
  onRows: (e: string, d: string, n: number, reason?: string) => void;
} => {
  const counts: Record<string, number> = {};
  return {
    counts,
    onRows: (e, d, n, reason) => {
      const k = `${d}:${reason ?? e}`;
      counts[k] = (counts[k] ?? 0) + n;
    },
  };
};

describe('FeatureLog', () => {
  it('expands a request into one row per entity: keys, values and statuses of the features', () => {
    const rows = expandRows([served(['u1', 'u2'])]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      service: 'svc',
      t: 1_000,
      row: 0,
      entities: { user_id: 'u1' },
      values: { clicks_1h: 3 },
      statuses: { clicks_1h: 'PRESENT' },
      model: null,
      arm: null,
      score: null,
    });
    expect(rows[1]).toMatchObject({
      row: 1,
      values: { clicks_1h: null },
      statuses: { clicks_1h: 'NOT_FOUND' },
    });
    expect(rows[0]!.requestId).toBe(rows[1]!.requestId);
  });

  it('keeps nothing on enqueue but references, writes on flush and everything on drain', async () => {
    const sink = new MemorySink();
    const { counts, onRows } = counting();
    const log = new FeatureLog({ sinks: [sink], flushMs: 60_000, onRows });
    expect(log.enqueue(served(['u1', 'u2']))).toBe(true);
    expect(log.buffered).toBe(2);
    expect(sink.rows).toHaveLength(0);
    await log.flush();
    expect(sink.rows).toHaveLength(2);
    log.enqueue(served(['u3']));
    await log.drain();
    expect(sink.rows.map((r) => r.entities.user_id)).toEqual(['u1', 'u2', 'u3']);
    expect(sink.closed).toBe(true);
    expect(counts).toEqual({ 'parquet:written': 3 });
    expect(log.enqueue(served(['u4']))).toBe(false);
  });

  it('flushes on its own when flushRows rows wait', async () => {
    const sink = new MemorySink();
    const log = new FeatureLog({ sinks: [sink], flushMs: 60_000, flushRows: 3 });
    log.enqueue(served(['a', 'b']));
    log.enqueue(served(['c', 'd']));
    await new Promise((r) => setImmediate(r));
    await log.flush();
    expect(sink.rows).toHaveLength(4);
    await log.drain();
  });

  it('flushes on its timer', async () => {
    const sink = new MemorySink();
    const log = new FeatureLog({ sinks: [sink], flushMs: 20 });
    log.enqueue(served(['a']));
    await expect.poll(() => sink.rows.length, { timeout: 2_000 }).toBe(1);
    await log.drain();
  });

  it('drops (and counts) a request that does not fit the bounded buffer, never waits', async () => {
    const sink = new MemorySink();
    const { counts, onRows } = counting();
    const log = new FeatureLog({
      sinks: [sink],
      capacity: 3,
      flushRows: 100,
      flushMs: 60_000,
      onRows,
    });
    expect(log.enqueue(served(['a', 'b']))).toBe(true);
    expect(log.enqueue(served(['c', 'd']))).toBe(false);
    expect(log.enqueue(served(['e']))).toBe(true);
    expect(log.buffered).toBe(3);
    await log.drain();
    expect(sink.rows.map((r) => r.entities.user_id)).toEqual(['a', 'b', 'e']);
    expect(counts).toEqual({ 'parquet:buffer_full': 2, 'parquet:written': 3 });
  });

  it('logs the sampled share of requests', async () => {
    const sink = new MemorySink();
    const draws = [0.1, 0.5, 0.29, 0.9];
    const log = new FeatureLog({ sinks: [sink], flushMs: 60_000, random: () => draws.shift()! });
    const kept = ['a', 'b', 'c', 'd'].map((u) => log.enqueue(served([u], 0.3)));
    expect(kept).toEqual([true, false, true, false]);
    await log.drain();
    expect(sink.rows.map((r) => r.entities.user_id)).toEqual(['a', 'c']);
  });

  it('sends rows only to the destinations a service names; a failing sink counts sink_error', async () => {
    const parquet = new MemorySink('parquet');
    const kafka = new MemorySink('kafka');
    kafka.fail = true;
    const { counts, onRows } = counting();
    const errors: string[] = [];
    const log = new FeatureLog({
      sinks: [parquet, kafka],
      flushMs: 60_000,
      onRows,
      onError: (e, d) => errors.push(`${d}: ${(e as Error).message}`),
    });
    log.enqueue(served(['a'], 1, ['parquet']));
    log.enqueue(served(['b'], 1, ['parquet', 'kafka']));
    await log.drain();
    expect(parquet.rows.map((r) => r.entities.user_id)).toEqual(['a', 'b']);
    expect(counts).toEqual({ 'parquet:written': 2, 'kafka:sink_error': 1 });
    expect(errors).toEqual(['kafka: disk full']);
  });
});
