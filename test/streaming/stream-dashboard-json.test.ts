import { describe, expect, it } from 'vitest';
import { StreamMetricsSchema } from '../../api/ui/stream-metrics.ts';
import { StreamDashboardJson } from '../../streaming/stream-dashboard-json.ts';
import { createStreamMetrics } from '../../streaming/stream-metrics.ts';

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
      const j = await d.json();
      expect(StreamMetricsSchema.parse(j)).toEqual(j);
      expect(j.topics['user-events']).toMatchObject({
        lag: { '0': 7, '1': 0 },
        dlq: 3,
        freshnessP99Ms: 50,
      });
      expect(j.topics['user-events']!.recordsPerSec).toBeGreaterThanOrEqual(0);
    } finally {
      d.close();
    }
  });
});
