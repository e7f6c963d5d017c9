/**
 * The signals over their inputs: validation and skew reports under `$LARDER_HOME`, registry
 * watermarks, Kafka offsets through a fake admin (lag, DLQ rate between evaluations), a
 * validation run on a schedule; rule names checked against the repository; the Slack shape.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertMessage, slackMessage } from '../../alerts/alert-message.ts';
import type { AlertRecord, SignalMemory } from '../../alerts/alert-types.ts';
import { checkAlertRules } from '../../alerts/signal-reader.ts';
import { expectationSignal } from '../../alerts/signals/expectation-signal.ts';
import { freshnessSignal } from '../../alerts/signals/freshness-signal.ts';
import type { OffsetsAdmin } from '../../alerts/signals/kafka-offsets.ts';
import { consumerLagSignal, dlqRateSignal } from '../../alerts/signals/kafka-signals.ts';
import { skewSignal } from '../../alerts/signals/serving-signals.ts';
import type { AlertRule, AlertRuleOf } from '../../config/alerts-config.ts';
import type { LarderError } from '../../core/errors.ts';
import { loadRepository } from '../../definitions/load.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { ValidationReport } from '../../quality/validate.ts';
import { tempDir } from '../support/temp-repo.ts';

const T = Date.UTC(2026, 0, 1, 12);
let tmp: { dir: string; cleanup: () => void };
let repo: Repository;
beforeAll(async () => {
  tmp = tempDir();
  repo = await loadRepository('examples/ecommerce/features');
});
afterAll(() => tmp?.cleanup());

const rule = <S extends AlertRule['signal']>(signal: S, fields: object): AlertRuleOf<S> =>
  ({ name: 'r', severity: 'warning', forMs: 0, signal, ...fields }) as AlertRuleOf<S>;

const report = (passed: boolean): ValidationReport =>
  ({
    checks: [
      {
        object: 'batch_source:events',
        subject: 'userId',
        expectation: 'maxNullRate',
        expected: 'null rate ≤ 0%',
        actual: '33.33% (1 of 3)',
        passed,
      },
      {
        object: 'batch_source:events',
        subject: null,
        expectation: 'freshness',
        expected: 'newest event ≤ 2h old',
        actual: '1h',
        passed: true,
      },
    ],
  }) as unknown as ValidationReport;

describe('expectation_failed', () => {
  it('reads the newest larder validate report: one observation per check', async () => {
    const home = join(tmp.dir, 'home-v');
    const noRun = () => Promise.reject(new Error('not called'));
    await expect(
      expectationSignal(rule('expectation_failed', {}), home, T, {}, noRun),
    ).rejects.toThrow(/no validation report at .*validation\.json: run larder validate first/);
    mkdirSync(join(home, 'validation'), { recursive: true });
    writeFileSync(join(home, 'validation', 'validation.json'), JSON.stringify(report(false)));
    const obs = await expectationSignal(rule('expectation_failed', {}), home, T, {}, noRun);
    expect(obs).toEqual([
      {
        labels: { object: 'batch_source:events', subject: 'userId', expectation: 'maxNullRate' },
        value: 1,
        threshold: 0,
        breached: true,
        summary:
          'batch_source:events userId maxNullRate: expected null rate ≤ 0%, found 33.33% (1 of 3)',
      },
      expect.objectContaining({
        labels: { object: 'batch_source:events', expectation: 'freshness' },
        breached: false,
      }),
    ]);
  });

  it('with run: validates [now − window, now) once every run.every, into a report of its own', async () => {
    const home = join(tmp.dir, 'home-run');
    const calls: unknown[] = [];
    const run = async (target: unknown, start: number, end: number, everyMs: number) => {
      calls.push({ target, start, end, everyMs });
      return report(calls.length > 1);
    };
    const r = rule('expectation_failed', {
      run: { view: 'user_activity', window: '1d', every: '1h' },
    });
    const memory: SignalMemory = {};
    expect((await expectationSignal(r, home, T, memory, run))[0]!.breached).toBe(true);
    expect(calls).toEqual([
      { target: { view: 'user_activity' }, start: T - 86_400_000, end: T, everyMs: 3_600_000 },
    ]);
    // Within the hour: the same report, no new run.
    expect((await expectationSignal(r, home, T + 1_800_000, memory, run))[0]!.breached).toBe(true);
    expect(calls).toHaveLength(1);
    expect((await expectationSignal(r, home, T + 3_600_000, memory, run))[0]!.breached).toBe(false);
    expect(calls).toHaveLength(2);
  });
});

describe('skew', () => {
  it('per feature of the newest larder skew report, share against maxShare', () => {
    const home = join(tmp.dir, 'home-s');
    const r = rule('skew', { service: 'svc', maxShare: 0.05 });
    expect(() => skewSignal(r, home)).toThrow(
      /no skew report at .*svc\.json: run larder skew --service svc first/,
    );
    mkdirSync(join(home, 'skew'), { recursive: true });
    writeFileSync(
      join(home, 'skew', 'svc.json'),
      JSON.stringify({
        service: 'svc',
        generatedAt: '2026-01-01T00:00:00.000Z',
        features: [
          { feature: 'a', compared: 10, differing: 1, share: 0.1 },
          { feature: 'b', compared: 10, differing: 0, share: 0 },
        ],
      }),
    );
    expect(skewSignal(r, home).map((o) => [o.labels, o.value, o.breached])).toEqual([
      [{ service: 'svc', feature: 'a' }, 0.1, true],
      [{ service: 'svc', feature: 'b' }, 0, false],
    ]);
  });
});

describe('freshness', () => {
  it('now − the materialization watermark; named views never materialized fire', () => {
    const marks = { a: T - 3 * 3_600_000, b: T - 60_000 };
    const r = rule('freshness', { maxAge: '2h' });
    expect(
      freshnessSignal(r, ['a', 'b', 'c'], marks, T).map((o) => [
        o.labels.view,
        o.value,
        o.breached,
      ]),
    ).toEqual([
      ['a', 3 * 3_600_000, true],
      ['b', 60_000, false],
    ]);
    const named = freshnessSignal(
      rule('freshness', { maxAge: '2h', views: ['c'] }),
      ['a'],
      marks,
      T,
    );
    expect(named).toEqual([
      expect.objectContaining({
        labels: { view: 'c' },
        breached: true,
        summary: 'c has never been materialized (at most 2h old)',
      }),
    ]);
    expect(freshnessSignal(r, ['a'], marks, T)[0]!.summary).toBe(
      "a's newest materialized value is 3.0 h old (watermark 2026-01-01T09:00:00.000Z; at most 2h)",
    );
  });
});

/** Offsets per topic (partition → [low, high]) and the group's commits. */
function fakeAdmin(
  ends: Record<string, [number, number][]>,
  committed: Record<string, number[]>,
): OffsetsAdmin {
  return {
    listTopics: async () => Object.keys(ends),
    fetchTopicOffsets: async (topic) => {
      const e = ends[topic];
      if (!e) throw new Error(`This server does not host this topic-partition: ${topic}`);
      return e.map(([low, high], partition) => ({
        partition,
        low: String(low),
        high: String(high),
      }));
    },
    fetchOffsets: async ({ topics }) =>
      topics.map((topic) => ({
        topic,
        partitions: (committed[topic] ?? []).map((offset, partition) => ({
          partition,
          offset: String(offset),
        })),
      })),
  };
}

describe('Kafka signals', () => {
  it('consumer_lag: end offsets minus the group’s commits (the first offset without one), summed', async () => {
    const admin = fakeAdmin(
      {
        t: [
          [0, 100],
          [10, 50],
          [0, 7],
        ],
      },
      { t: [90, -1, 7] },
    );
    const obs = await consumerLagSignal(rule('consumer_lag', { max: 40 }), admin, 'larder-stream', [
      't',
    ]);
    expect(obs).toEqual([
      {
        labels: { topic: 't' },
        value: 10 + 40,
        threshold: 40,
        breached: true,
        summary: 'consumer group larder-stream is 50 record(s) behind on t (at most 40)',
      },
    ]);
  });

  it('dlq_rate: records per minute since the previous evaluation; a missing DLQ topic has none', async () => {
    const ends: Record<string, [number, number][]> = { 't.dlq': [[0, 10]] };
    const admin = fakeAdmin(ends, {});
    const r = rule('dlq_rate', { maxPerMinute: 5 });
    const memory: SignalMemory = {};
    expect(await dlqRateSignal(r, admin, ['t', 'u'], T, memory)).toEqual([]);
    expect(memory).toEqual({ 'dlq:t.dlq': { at: T, total: 10 }, 'dlq:u.dlq': { at: T, total: 0 } });
    ends['t.dlq'] = [[0, 30]];
    const obs = await dlqRateSignal(r, admin, ['t', 'u'], T + 120_000, memory);
    expect(obs.map((o) => [o.labels.topic, o.value, o.breached])).toEqual([
      ['t.dlq', 10, true],
      ['u.dlq', 0, false],
    ]);
    expect(obs[0]!.summary).toBe('t.dlq received 20 record(s) in 120 s: 10/min (at most 5/min)');
  });
});

describe('checkAlertRules', () => {
  it.each([
    [
      rule('freshness', { name: 'f', maxAge: '1h', views: ['nope'] }),
      'alert rule f: unknown feature view "nope"',
    ],
    [
      rule('skew', { name: 's', service: 'nope', maxShare: 0.1 }),
      'alert rule s: unknown service "nope"',
    ],
    [
      rule('consumer_lag', { name: 'l', max: 1, topics: ['nope'] }),
      'alert rule l: unknown stream topic "nope"',
    ],
    [
      rule('expectation_failed', { name: 'e', run: { source: 'nope', window: '1d', every: '1h' } }),
      'alert rule e: unknown source "nope"',
    ],
  ])('refuses a rule naming what the repository lacks: %#', (r, message) => {
    const e = (() => {
      try {
        checkAlertRules([r], repo, ['user_events']);
      } catch (x) {
        return x as LarderError;
      }
      throw new Error('accepted');
    })();
    expect(e.code).toBe('LARDER_NOT_FOUND');
    expect(e.message).toBe(message);
    expect(e.hint).toMatch(/^known .*\(alerts\.rules in larder\.config\.ts\)$/);
  });

  it('accepts what exists', () => {
    expect(() =>
      checkAlertRules(
        [
          rule('freshness', { maxAge: '1h', views: ['user_activity'] }),
          rule('consumer_lag', { max: 1, topics: ['user_events'] }),
        ],
        repo,
        ['user_events'],
      ),
    ).not.toThrow();
  });
});

describe('messages', () => {
  const a: AlertRecord = {
    fingerprint: 'lag{topic=t}',
    rule: 'lag',
    signal: 'consumer_lag',
    severity: 'critical',
    description: 'page the on-call',
    labels: { topic: 't' },
    status: 'resolved',
    value: 5,
    threshold: 100,
    summary: 'lag 5',
    since: T,
    firedAt: T,
    resolvedAt: T + 60_000,
    evaluatedAt: T + 60_000,
    sent: {},
  };
  it('Slack: text for the notification, a section and a context block', () => {
    expect(slackMessage(alertMessage(a, 'resolved'))).toEqual({
      text: ':white_check_mark: [RESOLVED] lag (critical): lag 5',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*:white_check_mark: [RESOLVED] lag (critical)*\nlag 5\npage the on-call',
          },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'signal: consumer_lag · topic=t · since 2026-01-01T12:00:00.000Z · resolved 2026-01-01T12:01:00.000Z',
            },
          ],
        },
      ],
    });
    expect(slackMessage(alertMessage({ ...a, status: 'firing' }, 'firing')).text).toBe(
      ':rotating_light: [FIRING] lag (critical): lag 5',
    );
  });
});
