import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { checkConsistency } from './consistency.ts';

const dir = mkdtempSync(join(tmpdir(), 'larder-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('materialized SQLite reads equal the offline export', () => {
  for (const seed of [3, 11]) {
    it(`seed ${seed}`, async () => {
      const { compared } = await checkConsistency(
        (o) => createOnlineStore({ type: 'sqlite', path: join(dir, `s${seed}.db`) }, o),
        seed,
      );
      expect(compared).toBeGreaterThan(5000);
    });
  }
  it('seed 7, views on 2 worker threads', async () => {
    const path = join(dir, 'w7.db');
    const { compared } = await checkConsistency(
      (o) => createOnlineStore({ type: 'sqlite', path }, o),
      7,
      { onlineStore: { type: 'sqlite', path } },
    );
    expect(compared).toBeGreaterThan(5000);
  });
});
