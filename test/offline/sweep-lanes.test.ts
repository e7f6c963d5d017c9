/**
 * How the sweeps are spread over the workers (offline/sweep/sweep-lanes.ts): a pass much
 * heavier than the others (recommendation_v2's user pass: lists, distinct counts, sessions) is
 * split into two halves of its features, the sequence features kept together; recommendation_v1's
 * passes, one worker, or an unsplittable job are left whole.
 */
import { describe, expect, it } from 'vitest';
import {
  laneSplit,
  splitFeatures,
  sweepCost,
  type LaneJob,
} from '../../offline/sweep/sweep-lanes.ts';
import type { SweepFeature } from '../../offline/sweep/sweep.ts';
import { isSequenceKind } from '../../core/sequence.ts';
import { loadRepository } from '../../definitions/load.ts';

/** The sweep features of each view of `service`, by view name (each view here is in one pass). */
async function viewFeatures(service: string): Promise<Map<string, SweepFeature[]>> {
  const repo = await loadRepository('examples/ecommerce/features');
  const out = new Map<string, SweepFeature[]>();
  for (const f of repo.resolveFeatures({ service })) {
    // On-demand views are no pass's.
    const view = repo.featureViews.get(f.view);
    if (!view) continue;
    const spec = view.spec.features.find((s) => s.name === f.feature)!;
    const list = out.get(f.view) ?? [];
    list.push({
      col: `${f.view}:${f.feature}`,
      aggregation: spec.aggregation,
      windowMs: spec.windowMs,
      hopMs: spec.hopMs,
      ttlMs: null,
    });
    out.set(f.view, list);
  }
  return out;
}

/** The passes of the e-commerce services: user events by user, by product, by both; orders. */
async function passes(service: string, rows: number, scale: number): Promise<LaneJob[]> {
  const v = await viewFeatures(service);
  const of = (...views: string[]): SweepFeature[] => views.flatMap((n) => v.get(n) ?? []);
  const job = (events: number, features: SweepFeature[]): LaneJob => ({
    events: events * scale,
    rows,
    features,
    splittable: true,
  });
  return [
    job(9_000, of('user_activity', 'user_interest', 'user_sessions')),
    job(7_500, of('product_engagement', 'product_catalog')),
    job(6_800, of('user_product_engagement')),
    job(300, of('user_purchases')),
  ].filter((j) => j.features.length > 0);
}

describe('laneSplit', () => {
  it("splits recommendation_v2's user pass at the benchmark's scale and the cache test's", async () => {
    for (const [rows, scale] of [
      [1_000_000, 1_000],
      [300, 2],
    ] as const) {
      const jobs = await passes('recommendation_v2', rows, scale);
      expect(laneSplit(jobs, 2)).toBe(0);
      expect(laneSplit(jobs, 1)).toBe(-1);
      // Not when it cannot be split (several partitions, or no cached index to share).
      expect(laneSplit([{ ...jobs[0]!, splittable: false }, ...jobs.slice(1)], 2)).toBe(-1);
    }
  });

  it("leaves recommendation_v1's passes whole (the halves' extra reading would not pay)", async () => {
    const jobs = await passes('recommendation_v1', 1_000_000, 1_000);
    expect(jobs).toHaveLength(3);
    expect(laneSplit(jobs, 2)).toBe(-1);
  });
});

describe('splitFeatures', () => {
  it('puts every feature in one half, sequence features together, halves of about equal cost', async () => {
    const [user] = await passes('recommendation_v2', 1_000_000, 1_000);
    const features = user!.features;
    const [a, b] = splitFeatures(features, user!.events, user!.rows);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(features.map((_, i) => i));
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    const sequence = features.flatMap((f, i) => (isSequenceKind(f.aggregation) ? [i] : []));
    expect(sequence.length).toBeGreaterThan(1);
    expect(sequence.every((i) => a.includes(i)) || sequence.every((i) => b.includes(i))).toBe(true);
    const cost = (idx: number[]): number =>
      sweepCost(
        user!.events,
        user!.rows,
        idx.map((i) => features[i]!),
      ) - sweepCost(user!.events, user!.rows, []);
    const [ca, cb] = [cost(a), cost(b)];
    expect(Math.abs(ca - cb)).toBeLessThan(0.25 * Math.max(ca, cb));
    // Feature order kept within each half.
    expect(a).toEqual([...a].sort((x, y) => x - y));
    expect(b).toEqual([...b].sort((x, y) => x - y));
  });

  it('leaves one half empty when there is one unit to place', () => {
    const f: SweepFeature = { col: 'a', aggregation: 'count', windowMs: 1, hopMs: 1, ttlMs: null };
    expect(splitFeatures([f], 1000, 10)).toEqual([[0], []]);
  });
});
