import { describe, expect, it } from 'vitest';
import { limiter } from './limit.ts';

describe('limiter', () => {
  it('runs at most n calls at once, gives each its own result, and frees the slot of a failure', async () => {
    const limited = limiter(2);
    let running = 0;
    let most = 0;
    const task = (i: number) => async (): Promise<number> => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5 + ((i * 7) % 11)));
      running--;
      if (i === 3) throw new Error('task 3 failed');
      return i * 10;
    };
    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => limited(task(i))));
    expect(most).toBe(2);
    expect(running).toBe(0);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual([
      0,
      10,
      20,
      'Error: task 3 failed',
      40,
      50,
      60,
      70,
      80,
    ]);
    // Every slot was given back: two more calls still run side by side.
    running = 0;
    most = 0;
    await Promise.all([limited(task(1)), limited(task(2))]);
    expect(most).toBe(2);
  });
});
