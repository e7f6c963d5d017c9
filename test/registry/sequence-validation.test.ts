import { afterEach, describe, expect, it } from 'vitest';
import { DefinitionError, LarderError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import { tileKind } from '../../aggregation/tile-kind.ts';
import { referenceFeatures } from '../../reference/index.ts';
import { applyRepository } from '../../registry/apply.ts';
import { plan } from '../../registry/plan.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { tempDir, tempRepo } from '../support/temp-repo.ts';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const repoWith = (features: string, ttl = '30d') => `
import { z } from 'zod';
import { batchSource, col, countWhere, entity, featureView, previous, sessions } from 'larder';
export const user = entity({ name: 'user', joinKey: 'user_id' });
export const events = batchSource({
  name: 'events',
  schema: z.object({ id: z.string(), userId: z.string().nullable(), kind: z.string(), ip: z.string().nullable(), ts: z.number().int() }),
  timestampField: 'ts',
  idField: 'id',
});
const visits = sessions({ gap: '30m' });
export const seq = featureView({
  name: 'seq', entities: [user], source: events, keys: { user_id: col('userId') }, ttl: '${ttl}',
  features: {
${features}
  },
});
`;

const ALL = `    session_count_7d: visits.count({ window: '7d' }),
    converted_7d: visits.count({ containing: col('kind').eq('purchase'), window: '7d' }),
    avg_duration_7d_s: visits.avgDuration({ window: '7d' }),
    current_events: visits.current.count(),
    current_page_views: visits.current.count({ where: col('kind').eq('page_view') }),
    current_duration_s: visits.current.duration(),
    fast_1h: countWhere(previous.gapBelow('100ms'), { window: '1h' }),
    ip_changes_1h: countWhere(previous.changed(col('ip')), { window: '1h' }),`;

async function load(text: string) {
  const r = tempRepo({ 'repo.ts': text });
  cleanups.push(r.cleanup);
  return loadRepository(r.dir);
}

async function problemsOf(text: string): Promise<DefinitionError['problems']> {
  const err = await load(text).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DefinitionError);
  return (err as DefinitionError).problems;
}

describe('sequence features: definitions', () => {
  it('builds specs with their kinds, types, gap and predicates', async () => {
    const repo = await load(repoWith(ALL));
    const spec = repo.featureViews.get('seq')!.spec;
    const byName = Object.fromEntries(spec.features.map((f) => [f.name, f]));
    expect(byName.session_count_7d).toMatchObject({
      aggregation: 'session_count',
      type: 'int64',
      windowMs: 7 * 86_400_000,
      hopMs: 3_600_000,
      where: null,
      sequence: { previous: null, gapMs: 1_800_000 },
    });
    expect(byName.converted_7d!.where).toMatchObject({ op: 'eq' });
    expect(byName.avg_duration_7d_s).toMatchObject({ type: 'float64' });
    expect(byName.current_events).toMatchObject({
      aggregation: 'current_session_count',
      windowMs: null,
      hopMs: null,
    });
    expect(byName.current_duration_s).toMatchObject({
      aggregation: 'current_session_duration',
      type: 'float64',
    });
    expect(byName.fast_1h).toMatchObject({
      aggregation: 'count_previous',
      type: 'int64',
      input: null,
      sequence: { previous: { kind: 'gap_below', ms: 100 }, gapMs: null },
    });
    expect(byName.ip_changes_1h).toMatchObject({
      input: { op: 'col', path: 'ip' },
      sequence: { previous: { kind: 'changed' } },
    });
  });

  it('reports bad gaps, thresholds and fields with file, line and hint', async () => {
    const problems = await problemsOf(
      repoWith(`    a: countWhere(previous.gapBelow('0ms'), { window: '1h' }),
    b: countWhere(previous.changed(col('nope')), { window: '1h' }),
    c: countWhere(col('kind').eq('x') as never, { window: '1h' }),
    d: visits.current.count({ window: '1h' } as never),
    e: visits.count({} as never),`),
    );
    const by = Object.fromEntries(problems.map((p) => [p.field, p]));
    expect(by['features.a']!.message).toContain('must be positive');
    expect(by['features.b']!.message).toContain('nope');
    expect(by['features.c']!.message).toContain('count({ where })');
    expect(by['features.d']).toMatchObject({ message: 'current_session_count has no window' });
    expect(by['features.e']!.message).toBe('session_count needs a window');
    for (const p of problems) expect(p.at).toMatch(/repo\.ts:\d+$/);
  });

  it('refuses two session gaps in one view and windows the TTL cannot remember', async () => {
    const problems = await problemsOf(
      repoWith(
        `    a: visits.count({ window: '7d' }),
    b: sessions({ gap: '10m' }).current.count(),
    c: countWhere(previous.gapBelow('1m'), { window: '1h' }),`,
        '7d',
      ),
    );
    const by = Object.fromEntries(problems.map((p) => [p.field, p]));
    expect(by['features.a']!.message).toContain('TTL');
    expect(by['features.a']!.hint).toContain('longer ttl');
    expect(by['features.c']).toBeUndefined(); // 7d ≥ 1h + 1d
    // a is refused, so the gap clash is only reported once a valid first session feature exists
    const clash = await problemsOf(
      repoWith(`    a: visits.current.count(),
    b: sessions({ gap: '10m' }).current.count(),`),
    );
    expect(clash).toHaveLength(1);
    expect(clash[0]).toMatchObject({ field: 'features.b' });
    expect(clash[0]!.hint).toContain('one sessions({ gap })');
  });

  it('engines without sequence support refuse the feature with a clear error', async () => {
    const repo = await load(repoWith(ALL));
    const f = repo.featureViews.get('seq')!.spec.features[0]!;
    expect(() => tileKind(f, 'the online store')).toThrow(LarderError);
    expect(() => tileKind(f, 'the online store')).toThrow(
      /session_count_7d.*the online store does not compute sessions/,
    );
  });

  it('the reference computes every sequence feature from the raw records', async () => {
    const repo = await load(repoWith(ALL));
    const T = Date.parse('2024-03-10T10:00:00Z');
    const rec = (id: string, ts: number, kind: string, ip: string | null) => ({
      id,
      userId: 'u1',
      kind,
      ip,
      ts,
    });
    const events = [
      rec('e1', T, 'page_view', '1.1.1.1'),
      rec('e2', T + 50, 'page_view', '2.2.2.2'),
      rec('e3', T + 10 * 60_000, 'purchase', '2.2.2.2'),
      rec('e4', T - 3_600_000, 'page_view', null), // an earlier session
      { ...rec('e5', T, 'page_view', '9.9.9.9'), userId: null }, // no key: not an event
    ];
    const features = repo.resolveFeatures({
      features: [
        'seq:session_count_7d',
        'seq:converted_7d',
        'seq:avg_duration_7d_s',
        'seq:current_events',
        'seq:current_page_views',
        'seq:current_duration_s',
        'seq:fast_1h',
        'seq:ip_changes_1h',
      ],
    });
    const rows = referenceFeatures(
      repo,
      { events },
      [
        { user_id: 'u1', event_timestamp: T + 20 * 60_000 },
        { user_id: 'u2', event_timestamp: T },
      ],
      features,
    );
    expect(rows[0]).toEqual({
      session_count_7d: 2,
      converted_7d: 1,
      avg_duration_7d_s: 600 / 2,
      current_events: 3,
      current_page_views: 2,
      current_duration_s: 600,
      fast_1h: 1,
      ip_changes_1h: 1,
    });
    expect(rows[1]).toEqual({
      session_count_7d: 0,
      converted_7d: 0,
      avg_duration_7d_s: null,
      current_events: 0,
      current_page_views: 0,
      current_duration_s: null,
      fast_1h: 0,
      ip_changes_1h: 0,
    });
  });

  it('plan: a new gap, predicate or memory hop is a breaking change', async () => {
    const h = tempDir();
    cleanups.push(h.cleanup);
    await applyRepository(await load(repoWith(ALL)), h.dir);
    const next = await load(
      repoWith(ALL.replace("gapBelow('100ms')", "gapBelow('50ms')"))
        .replace("gap: '30m'", "gap: '20m'")
        .replace("ttl: '30d'", "ttl: '30d'"),
    );
    const breaking = plan(readRegistry(h.dir), next.specs()).changes[0]!.breaking;
    expect(breaking).toContain(
      'feature session_count_7d: sequence {"gapMs":1800000,"previous":null} → {"gapMs":1200000,"previous":null}',
    );
    expect(breaking).toContain(
      'feature fast_1h: sequence {"gapMs":null,"previous":{"kind":"gap_below","ms":100}} → {"gapMs":null,"previous":{"kind":"gap_below","ms":50}}',
    );
    expect(breaking).not.toContainEqual(expect.stringContaining('ip_changes_1h'));
    const ttl = await load(repoWith(ALL, '745h')); // 31d + 1h: memory hop 1h instead of 1d
    const ttlBreaks = plan(readRegistry(h.dir), ttl.specs()).changes[0]!.breaking;
    expect(ttlBreaks).toContain(
      'feature current_events: memory hop 86400000 → 3600000 ms (ttl changed)',
    );
  });
});
