/**
 * Regression: on-demand features of an export larger than one DuckDB chunk (2048 rows) must be
 * computed from their own row's inputs. Checked by recomputing them from the exported inputs.
 * 300 000 rows span several DuckDB row groups, so the output must also keep the entity rows'
 * order through the parallel scan that writes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { genData } from '../../examples/ecommerce/datagen/index.ts';
import { DuckDBOfflineStore } from '../../offline/duckdb/duckdb-offline-store.ts';
import { DAY_MS } from '../../core/duration.ts';
import { loadRepository } from '../../definitions/load.ts';

const dir = mkdtempSync(join(tmpdir(), 'larder-odfv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('export of on-demand features over many chunks', () => {
  it('computes every row from its own inputs, in entity-row order (300 000 rows)', async () => {
    const end = Date.UTC(2026, 2, 1);
    await genData({
      users: 60,
      products: 40,
      days: 5,
      events: 20_000,
      seed: 5,
      end,
      outDir: dir,
      format: 'jsonl',
    });
    const repo = await loadRepository('examples/ecommerce/features');
    const store = new DuckDBOfflineStore({ type: 'duckdb', dataDir: dir, home: dir });
    await store.init();
    const rows = Array.from({ length: 300_000 }, (_, i) => ({
      user_id: `u${String(i % 60).padStart(5, '0')}`,
      product_id: `p${String((i * 7) % 40).padStart(5, '0')}`,
      event_timestamp: end - DAY_MS + ((i * 7919) % DAY_MS),
    }));
    const out = await store.exportPointInTime({
      repo,
      features: repo.resolveFeatures({ service: 'recommendation_v1' }),
      entities: { type: 'rows', rows },
      out: { type: 'memory' },
    });
    await store.close();
    const transform = repo.onDemandViews.get('user_product')!.transform;
    const data = out.data!;
    expect(data).toHaveLength(300_000);
    const cols = (k: string) => data.map((r) => r[k] ?? null);
    const again = transform(
      {
        price: cols('price'),
        category: cols('category'),
        avg_order_value_30d: cols('avg_order_value_30d'),
        preferred_category_30d: cols('preferred_category_30d'),
        last_platform: cols('last_platform'),
      },
      { size: data.length, timestamps: rows.map((r) => r.event_timestamp) },
    );
    expect(cols('device_optimization')).toEqual(again.device_optimization);
    expect(cols('category_match')).toEqual(again.category_match);
    expect(cols('price_vs_avg_order')).toEqual(again.price_vs_avg_order);
    const firstMisplaced = data.findIndex(
      (r, i) =>
        r.user_id !== rows[i]!.user_id ||
        r.product_id !== rows[i]!.product_id ||
        r.event_timestamp !== rows[i]!.event_timestamp,
    );
    expect(firstMisplaced).toBe(-1);
  }, 60_000);
});
