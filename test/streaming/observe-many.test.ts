import { describe, expect, it } from 'vitest';
import { createStreamMetrics } from '../../streaming/stream-metrics.ts';
import { observeMany } from '../../streaming/observe-many.ts';

/** Freshness values in ms: zero, bucket bounds exactly, between bounds, beyond the last bound. */
function freshnessMs(n: number, seed: number): number[] {
  const out = [0, 10, 25, 50, 100, 200, 300, 500, 750, 1000, 2000, 5000, 10_000, 30_000, 30_001];
  let x = seed;
  while (out.length < n) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    out.push(x % 40_000);
  }
  return out;
}

describe('observeMany', () => {
  it('exposes the same buckets, count and sum as one observe per value', async () => {
    const one = createStreamMetrics();
    const many = createStreamMetrics();
    const batches = [
      { topic: 'user_events', values: freshnessMs(5000, 1) },
      { topic: 'transactions', values: freshnessMs(7, 2) },
      { topic: 'user_events', values: freshnessMs(1, 3) },
      { topic: 'user_events', values: [] },
      { topic: 'user_events', values: freshnessMs(333, 4) },
    ];
    // A series observed one value at a time first, then in batches, also stays equal.
    one.freshness.observe({ topic: 'user_events' }, 0.123);
    many.freshness.observe({ topic: 'user_events' }, 0.123);
    for (const { topic, values } of batches) {
      for (const f of values) one.freshness.labels({ topic }).observe(f / 1000);
      observeMany(many.freshness, { topic }, values, 1000);
    }
    const text = await many.registry.getSingleMetricAsString('larder_stream_freshness_seconds');
    expect(text).toBe(
      await one.registry.getSingleMetricAsString('larder_stream_freshness_seconds'),
    );
    expect(text).toContain('larder_stream_freshness_seconds_count{topic="user_events"} 5349');
    expect(text).toContain(
      'larder_stream_freshness_seconds_bucket{le="0.01",topic="transactions"}',
    );
    // Values spread over every bucket, +Inf included.
    const counts = [...text.matchAll(/_bucket\{le="([^"]+)",topic="user_events"\} (\d+)/g)];
    expect(counts).toHaveLength(14);
    for (let i = 1; i < counts.length; i++)
      expect(Number(counts[i]![2])).toBeGreaterThan(Number(counts[i - 1]![2]));
  });

  it('throws on a value that is not a finite number before counting any', async () => {
    const m = createStreamMetrics();
    expect(() => observeMany(m.freshness, { topic: 't' }, [1, Number.NaN], 1000)).toThrow(
      'Value is not a valid number: NaN',
    );
    expect(() => observeMany(m.freshness, { topic: 't' }, [Infinity], 1000)).toThrow(TypeError);
    expect(
      await m.registry.getSingleMetricAsString('larder_stream_freshness_seconds'),
    ).not.toContain('topic="t"');
  });
});
