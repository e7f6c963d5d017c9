import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { loadRepository } from '../../definitions/load.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { tempDir } from '../support/temp-repo.ts';

const run = promisify(execFile);
const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('larder materialize, materialize-incremental and teardown (Redis)', () => {
  it('loads the online store, keeps watermarks, and deletes only its namespace', async () => {
    const ns = `test-${randomUUID()}`;
    const other = `test-${randomUUID()}`;
    const env = {
      ...process.env,
      LARDER_HOME: `${tmp.dir}/home`,
      LARDER_DATA_DIR: `${tmp.dir}/data`,
      LARDER_ONLINE_STORE: 'redis://127.0.0.1:6379/0',
      LARDER_NAMESPACE: ns,
    };
    const larder = (...args: string[]) => run('node', ['bin/larder.js', ...args], { env });
    const end = Math.floor(Date.now() / 60_000) * 60_000;
    await larder(
      'gen-data',
      '--users',
      '30',
      '--products',
      '20',
      '--days',
      '2',
      '--events',
      '3000',
      '--end',
      new Date(end).toISOString(),
    );
    await larder('apply');
    const first = JSON.parse(
      (await larder('materialize', '--end', String(end - 3_600_000), '--json')).stdout,
    );
    expect(first.views.map((v: { view: string }) => v.view).sort()).toEqual([
      'product_catalog',
      'product_engagement',
      'product_popularity',
      'user_activity',
      'user_interest',
      'user_orders',
      'user_product_engagement',
      'user_purchases',
      'user_risk',
      'user_segments',
      'user_sessions',
    ]);
    expect(
      first.views.find((v: { view: string }) => v.view === 'user_product_engagement').tiles,
    ).toBeGreaterThan(0);
    expect(
      first.views.find((v: { view: string }) => v.view === 'user_activity').tiles,
    ).toBeGreaterThan(100);
    expect(readRegistry(`${tmp.dir}/home`)!.watermarks.user_activity).toBe(end - 3_600_000);
    const inc = JSON.parse(
      (await larder('materialize-incremental', '--end', String(end), '--json')).stdout,
    );
    const ua = inc.views.find((v: { view: string }) => v.view === 'user_activity');
    expect(ua.start).toBe(Math.floor((end - 3_600_000) / 3_600_000) * 3_600_000);
    expect(readRegistry(`${tmp.dir}/home`)!.watermarks.user_activity).toBe(end);

    const repo = await loadRepository('examples/ecommerce/features');
    const views = [...repo.featureViews.values()].map((v) => v.spec);
    const mine = createOnlineStore(
      { type: 'redis', url: 'redis://127.0.0.1:6379/0' },
      { namespace: ns, views },
    );
    const theirs = createOnlineStore(
      { type: 'redis', url: 'redis://127.0.0.1:6379/0' },
      { namespace: other, views },
    );
    await Promise.all([mine.init(), theirs.init()]);
    try {
      await theirs.writeTiles([
        {
          view: 'user_activity',
          entityKey: 'u1',
          hopMs: 60_000,
          hop: Math.floor(end / 60_000),
          states: { page_views_1h: 1, clicks_1h: 0 },
        },
      ]);
      const view = repo.featureViews.get('user_activity')!.spec;
      const before = await mine.readMany([
        { view, entityKeys: ['u00001', 'u00002', 'u00003'], t: end },
      ]);
      expect(before[0]!.rows.some((r) => r[0]!.status === 'PRESENT')).toBe(true);
      const refused = await larder('teardown').catch((e: { code: number; stderr: string }) => e);
      expect((refused as { code: number }).code).toBe(1);
      expect((refused as { stderr: string }).stderr).toContain('re-run with --yes');
      await larder('teardown', '--yes');
      const after = await mine.readMany([
        { view, entityKeys: ['u00001', 'u00002', 'u00003'], t: end },
      ]);
      expect(after[0]!.rows.every((r) => r[0]!.status === 'NOT_FOUND')).toBe(true);
      const kept = await theirs.readMany([{ view, entityKeys: ['u1'], t: end }]);
      expect(kept[0]!.rows[0]![0]).toMatchObject({ status: 'PRESENT', value: 1 });
    } finally {
      await theirs.teardown();
      await Promise.all([mine.close(), theirs.close()]);
    }
  });
});
