import { describe, expect, it } from 'vitest';
import { createOnlineStore } from '../../online/create-online-store.ts';
import { checkConsistency } from './consistency.ts';

describe('materialized Redis reads equal the offline export', () => {
  for (const seed of [5, 19]) {
    it(`seed ${seed}`, async () => {
      const { compared } = await checkConsistency(
        (o) => createOnlineStore({ type: 'redis', url: 'redis://127.0.0.1:6379/0' }, o),
        seed,
      );
      expect(compared).toBeGreaterThan(5000);
    });
  }
  it('seed 23, views on 2 worker threads', async () => {
    const url = 'redis://127.0.0.1:6379/0';
    const { compared } = await checkConsistency(
      (o) => createOnlineStore({ type: 'redis', url }, o),
      23,
      { onlineStore: { type: 'redis', url } },
    );
    expect(compared).toBeGreaterThan(5000);
  });
});
