/**
 * Session states that are the same by definition are stored once per tile (`sameStates`,
 * `online/view-catalog.ts`; `encodeTile` and `mergeField`, `online/write-batch.ts`) and read from
 * whichever member a tile holds (`online/read-plan.ts`): tiles written before the rule (every
 * member stored), after it (the group's first) and holding another member read the same values,
 * and a merge into an old tile leaves the group's first key only.
 */
import { describe, expect, it } from 'vitest';
import { hopIndex, sequenceTiles } from '../../aggregation/index.ts';
import { MINUTE_MS } from '../../core/duration.ts';
import type { FeatureViewSpec } from '../../definitions/spec.ts';
import { readPlan } from '../../online/read-plan.ts';
import { sameStateGroups, viewWritePlan } from '../../online/view-catalog.ts';
import { encodeTile, mergeField } from '../../online/write-batch.ts';
import { sequences } from './sequence-cases.ts';

const NOW = Date.parse('2024-03-10T12:00:00Z');
const plan = viewWritePlan(sequences);

/** Each tile's states of every sequence feature, for events at `times` (all matching). */
function foldTiles(times: number[]): Map<string, Record<string, unknown>> {
  const tiles = new Map<string, Record<string, unknown>>();
  times.forEach((ts, i) => {
    for (const f of sequences.features)
      for (const t of sequenceTiles(
        { ...f, aggregation: f.aggregation as never },
        sequences.ttlMs,
      )) {
        const field = `${t.hopMs}:${hopIndex(ts, t.hopMs)}`;
        let states = tiles.get(field);
        if (!states) tiles.set(field, (states = {}));
        const e = { ts, id: `e${i}`, value: null, match: i % 2 === 0 };
        states[t.key] = t.add(Object.hasOwn(states, t.key) ? states[t.key] : t.init(), e);
      }
  });
  return tiles;
}

const values = (pairs: string[]): [unknown, string][] =>
  readPlan({
    view: sequences,
    features: sequences.features.map((f) => f.name),
    entityKeys: ['u'],
    t: NOW,
  })
    .evaluatePairs(NOW, pairs)
    .map((v): [unknown, string] => [v.value, v.status]);

describe('identical session states', () => {
  it('groups session features by tile hop, gap, where and input, in feature order', () => {
    expect([...plan.sameStates]).toEqual([
      ['sessions_1h', ['sessions_1h', 'avg_session_1h_s']],
      ['avg_session_1h_s', ['sessions_1h', 'avg_session_1h_s']],
      ['current_events', ['current_events', 'current_duration_s']],
      ['current_duration_s', ['current_events', 'current_duration_s']],
    ]);
    const [sessions, avg, current, duration, ...rest] = sequences.features;
    const other: FeatureViewSpec = {
      ...sequences,
      features: [
        sessions!,
        { ...avg!, where: { op: 'col', path: 'purchase' } },
        current!,
        { ...duration!, sequence: { previous: null, gapMs: 10 * MINUTE_MS } },
        ...rest,
      ],
    };
    expect(sameStateGroups(other).size).toBe(0);
  });

  it('stores a group once; old tiles, new tiles and tiles holding another member read the same', () => {
    const times = [NOW - 50 * MINUTE_MS, NOW - 48 * MINUTE_MS, NOW - 20 * MINUTE_MS, NOW - 1];
    const tiles = foldTiles(times);
    const old: string[] = [];
    const stored: string[] = [];
    const others: string[] = [];
    for (const [field, states] of tiles) {
      old.push(field, JSON.stringify(states));
      const json = encodeTile(plan, states);
      stored.push(field, json);
      const keys = Object.keys(JSON.parse(json) as object);
      expect(keys).not.toContain('avg_session_1h_s');
      expect(keys).not.toContain('current_duration_s');
      const swapped: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(states))
        if (k !== 'sessions_1h' && k !== 'current_events') swapped[k] = v;
      others.push(field, JSON.stringify(swapped));
    }
    expect(stored.join('').length).toBeLessThan(old.join('').length);
    const want = values(old);
    expect(want.some(([v]) => typeof v === 'number' && v > 0)).toBe(true);
    expect(values(stored)).toEqual(want);
    expect(values(others)).toEqual(want);
  });

  it('a merge into a tile written before stores the group once, as a merge into the new form', () => {
    const [field, before] = [...foldTiles([NOW - 30 * MINUTE_MS])][0]!;
    const delta = [...foldTiles([NOW - 29 * MINUTE_MS])][0]![1];
    const d = { kind: 'tile' as const, field, states: delta!, expiresAt: NOW };
    const fromOld = mergeField(plan, JSON.stringify(before), d).value;
    const fromNew = mergeField(plan, encodeTile(plan, before), d).value;
    expect(JSON.parse(fromOld)).toEqual(JSON.parse(fromNew));
    expect(Object.keys(JSON.parse(fromOld) as object)).not.toContain('avg_session_1h_s');
    // A delta holding only another member merges into the group's first key.
    const onlyAvg = { ...d, states: { avg_session_1h_s: delta.avg_session_1h_s } };
    const merged = JSON.parse(mergeField(plan, encodeTile(plan, before), onlyAvg).value) as Record<
      string,
      unknown
    >;
    expect(merged.sessions_1h).toEqual(
      (JSON.parse(fromNew) as Record<string, unknown>).sessions_1h,
    );
    expect(merged).not.toHaveProperty('avg_session_1h_s');
  });
});
