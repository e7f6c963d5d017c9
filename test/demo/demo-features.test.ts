/**
 * The demo's repository (examples/ecommerce/demo-features/) is the example's, every definition
 * re-exported unchanged, plus `recommendation_v1_logged`: recommendation_v1's features with
 * every read logged. A file added to the example but not re-exported fails here.
 */
import { describe, expect, it } from 'vitest';
import { loadRepository } from '../../definitions/load.ts';

describe('the demo repository', () => {
  it("is the example's plus one logged service with recommendation_v1's features", async () => {
    const example = await loadRepository('examples/ecommerce/features');
    const demo = await loadRepository('examples/ecommerce/demo-features');
    const key = (s: { kind: string; name: string }): string => `${s.kind}:${s.name}`;
    const demoSpecs = new Map(demo.specs().map((s) => [key(s), s]));
    for (const s of example.specs()) expect(demoSpecs.get(key(s)), key(s)).toEqual(s);
    expect(demo.specs().length).toBe(example.specs().length + 1);
    const logged = demo.services.get('recommendation_v1_logged')!.spec;
    expect(logged.logging).toEqual({ sample: 1, destinations: ['parquet'] });
    expect(logged.projections).toEqual(example.services.get('recommendation_v1')!.spec.projections);
    expect(example.services.get('recommendation_v1')!.spec.logging).toBeUndefined();
  });
});
