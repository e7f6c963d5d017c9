/**
 * A new deployment before any raw data has landed (or a scheduler's first run): `materialize`
 * and `export` over sources without files succeed with empty results. The empty input is typed
 * as a read of files would type it — a map field as a MAP — so the batch view
 * `product_popularity` (`col('properties.productId')`) binds as it does on data; it used to fail
 * with DuckDB's "No function matches map_extract_value(JSON, …)".
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-repo.ts';

const exec = promisify(execFile);
const tmp = tempDir();
afterAll(() => tmp.cleanup());

const larder = (...args: string[]) =>
  exec('node', ['bin/larder.js', ...args], {
    env: {
      ...process.env,
      LARDER_REPO: 'examples/ecommerce/features',
      LARDER_HOME: join(tmp.dir, 'home'),
      LARDER_DATA_DIR: join(tmp.dir, 'data'),
      LARDER_ONLINE_STORE: `sqlite:${join(tmp.dir, 'online.sqlite')}`,
    },
  });

describe('sources without any file yet', () => {
  it('materialize writes nothing and export gives null features, for every view', async () => {
    await larder('apply');
    const m = await larder('materialize', '--end', 'now');
    expect(m.stdout).toMatch(/product_popularity\s/);
    expect(m.stdout).toMatch(/user_segments\s/);
    const entities = join(tmp.dir, 'entities.csv');
    writeFileSync(entities, 'user_id,product_id,event_timestamp\nu1,p1,2026-12-01T00:00:00Z\n');
    const out = join(tmp.dir, 'out.jsonl');
    await larder('export', '--features', 'recommendation_v2', '--entities', entities, '--out', out);
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    // The batch views' snapshots over the empty sources: no row, so null features.
    const batch = join(tmp.dir, 'batch.jsonl');
    await larder('export', '--features', 'batch_v1', '--entities', entities, '--out', batch);
    expect(JSON.parse(readFileSync(batch, 'utf8').trim())).toMatchObject({
      segment: null,
      popularity_score: null,
    });
    expect(rows[0]).toMatchObject({
      user_id: 'u1',
      product_id: 'p1',
      page_views_1h: 0,
      recently_viewed_products: [],
    });
  }, 120_000);
});
