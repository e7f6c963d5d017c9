import { describe, expect, it } from 'vitest';
import { RouteWindow } from '../../api/ui/route-window.ts';

describe('RouteWindow', () => {
  it('counts per route over the last 60 s and estimates p50 / p99 within 10 %', () => {
    const w = new RouteWindow();
    const t0 = 1_000_000_000;
    for (let i = 0; i < 100; i++) w.observe('POST', '/a', 200, i < 98 ? 2 : 40, t0 + i * 10);
    w.observe('POST', '/a', 503, 1, t0 + 1000);
    w.observe('GET', '/b', 200, 0.5, t0);
    const [a, b] = w.stats(t0 + 2000);
    expect(a).toMatchObject({ method: 'POST', route: '/a', count: 101, errors: 1, rps: 101 / 60 });
    expect(a!.p50Ms).toBeGreaterThan(1.8);
    expect(a!.p50Ms).toBeLessThan(2.2);
    expect(a!.p99Ms).toBeGreaterThan(36);
    expect(a!.p99Ms).toBeLessThan(44);
    expect(b).toMatchObject({ route: '/b', count: 1 });
  });

  it('forgets slots older than 60 s, also when a slot is reused', () => {
    const w = new RouteWindow();
    const t0 = 2_000_000_000;
    w.observe('GET', '/a', 200, 1, t0);
    expect(w.stats(t0 + 59_999)[0]!.count).toBe(1);
    expect(w.stats(t0 + 60_000)[0]).toMatchObject({ count: 0, p50Ms: null, p99Ms: null });
    w.observe('GET', '/a', 200, 1, t0 + 60_000); // same ring slot, a minute later
    expect(w.stats(t0 + 60_000)[0]!.count).toBe(1);
  });
});
