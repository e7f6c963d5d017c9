import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StreamMetricsSchema } from '../../api/ui/stream-metrics.ts';
import { StreamDashboardJson } from '../../streaming/stream-dashboard-json.ts';
import { createStreamMetrics } from '../../streaming/stream-metrics.ts';

// The sampling timer and Date.now are faked: the rate is computed on a clock the test moves.
beforeEach(() => void vi.useFakeTimers({ now: 1_700_000_000_000 }));
afterEach(() => void vi.useRealTimers());

describe("the stream worker's dashboard JSON", () => {
  it('follows the dashboard contract: rate, lag per partition, DLQ count, freshness p99', async () => {
    const m = createStreamMetrics();
    const d = new StreamDashboardJson(m);
    try {
      expect(await d.json()).toEqual({ topics: {} });
      m.records.inc({ topic: 'user-events' }, 100);
      m.lag.set({ topic: 'user-events', partition: '0' }, 7);
      m.lag.set({ topic: 'user-events', partition: '1' }, 0);
      m.dlq.inc({ topic: 'user-events', reason: 'schema' }, 2);
      m.dlq.inc({ topic: 'user-events', reason: 'json' }, 1);
      for (let i = 0; i < 99; i++) m.freshness.observe({ topic: 'user-events' }, 0.04);
      m.freshness.observe({ topic: 'user-events' }, 2);
      // No sample yet: no rate.
      expect((await d.json()).topics['user-events']!.recordsPerSec).toBe(0);
      await vi.advanceTimersByTimeAsync(1000); // sample: 100 records
      m.records.inc({ topic: 'user-events' }, 150);
      await vi.advanceTimersByTimeAsync(1000); // sample: 250
      m.records.inc({ topic: 'user-events' }, 150);
      await vi.advanceTimersByTimeAsync(500);
      const j = await d.json();
      expect(StreamMetricsSchema.parse(j)).toEqual(j);
      // 300 records since the oldest sample, 1.5 s ago.
      expect(j.topics['user-events']).toEqual({
        recordsPerSec: 200,
        lag: { '0': 7, '1': 0 },
        dlq: 3,
        freshnessP99Ms: 50,
      });
      // The rate covers the last ~10 s: older samples drop out.
      await vi.advanceTimersByTimeAsync(20_000);
      expect((await d.json()).topics['user-events']!.recordsPerSec).toBe(0);
    } finally {
      d.close();
    }
  });
});
