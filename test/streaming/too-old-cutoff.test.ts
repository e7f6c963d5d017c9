/**
 * The stream worker skips records too old to change any served value: older than the longest
 * window of their source's views and than the TTL of those views' lifetime features.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';
import { createAvroSchemas } from '../../streaming/avro-schemas.ts';
import { streamSources } from '../../streaming/stream-source.ts';

describe('the too-old cutoff of a stream source', () => {
  it('is the largest of its views’ windows and of the TTLs of views with lifetime features', async () => {
    const repo = await loadRepository('examples/ecommerce/features');
    const byName = new Map(
      [
        ...streamSources(repo, {
          avro: createAvroSchemas({ root: repo.root, avscFiles: {} }),
        }).values(),
      ].map((s) => [s.name, s.maxAgeMs]),
    );
    // user_events: windows up to 7d, but last_platform / price / category live for 30d.
    expect(byName.get('user_events')).toBe(30 * DAY_MS);
    // transactions: user_purchases has windows only (30d), but user_orders' lifetime
    // last_order_total lives for its 90d TTL.
    expect(byName.get('transactions')).toBe(90 * DAY_MS);
  });
});
