/**
 * The `alerts` section of larder.config.ts: defaults and durations after validation, and each
 * kind of mistake as one LARDER_CONFIG_INVALID line naming the field, with a hint to the docs.
 */
import { describe, expect, it } from 'vitest';
import { parseAlertDuration } from '../../config/alerts-config.ts';
import { resolveConfig } from '../../config/config.ts';
import { LarderError } from '../../core/errors.ts';

const resolve = (alerts: unknown) => resolveConfig({ alerts }, '/project', {});

function refused(alerts: unknown): LarderError {
  try {
    resolve(alerts);
  } catch (e) {
    expect(e).toBeInstanceOf(LarderError);
    return e as LarderError;
  }
  throw new Error('accepted');
}

describe('alerts config', () => {
  it('is null without a section; defaults and durations in ms with one', () => {
    expect(resolveConfig({}, '/project', {}).alerts).toBeNull();
    const a = resolve({
      rules: [
        { name: 'lag', signal: 'consumer_lag', max: 1000, for: '5m' },
        { name: 'dlq', signal: 'dlq_rate', maxPerMinute: 10, severity: 'critical' },
        { name: 'stale', signal: 'freshness', maxAge: '2h', views: ['user_activity'] },
        { name: 'skew', signal: 'skew', service: 'recommendation_v1', maxShare: 0.01 },
        {
          name: 'drift',
          signal: 'drift',
          service: 'recommendation_v1',
          reference: 'train.parquet',
        },
        { name: 'expect', signal: 'expectation_failed', run: { view: 'user_activity' } },
      ],
      destinations: [
        { type: 'kafka' },
        { type: 'webhook', url: 'https://hooks.slack.com/services/x', format: 'slack' },
      ],
      every: '30s',
    }).alerts!;
    expect(a.everyMs).toBe(30_000);
    expect(a.keepResolvedMs).toBe(86_400_000);
    expect(a.rules[0]).toEqual({
      name: 'lag',
      signal: 'consumer_lag',
      severity: 'warning',
      max: 1000,
      forMs: 300_000,
    });
    expect(a.rules[1]).toMatchObject({ severity: 'critical', forMs: 0 });
    expect(a.rules[4]).toMatchObject({ window: '1h', psiThreshold: 0.2, pThreshold: 0.01 });
    expect(a.rules[5]).toMatchObject({ run: { view: 'user_activity', window: '1d', every: '1h' } });
    expect(a.destinations).toEqual([
      { type: 'kafka', topic: 'alerts' },
      { type: 'webhook', url: 'https://hooks.slack.com/services/x', format: 'slack', retries: 3 },
    ]);
    expect(Object.isFrozen(a.rules[0])).toBe(true);
  });

  it.each([
    [{ rules: [] }, 'alerts.rules: Array must contain at least 1 element(s)'],
    [
      { rules: [{ name: 'x', signal: 'cpu', max: 1 }] },
      'alerts.rules.0.signal: Invalid discriminator value',
    ],
    [{ rules: [{ name: 'x', signal: 'consumer_lag' }] }, 'alerts.rules.0.max: Required'],
    [
      { rules: [{ name: 'x', signal: 'consumer_lag', max: -1 }] },
      'alerts.rules.0.max: Number must be greater than or equal to 0',
    ],
    [
      { rules: [{ name: 'x', signal: 'consumer_lag', max: 1, threshold: 2 }] },
      "alerts.rules.0: Unrecognized key(s) in object: 'threshold'",
    ],
    [
      { rules: [{ name: 'x', signal: 'freshness', maxAge: '2 hours' }] },
      'alerts.rules.0.maxAge: "2 hours" is not a duration',
    ],
    [
      {
        rules: [
          { name: 'x', signal: 'consumer_lag', max: 1, for: '0m' },
          { name: 'x', signal: 'dlq_rate', maxPerMinute: 1 },
        ],
      },
      'alerts.rules.1.name: "x" is the name of another rule',
    ],
    [
      { rules: [{ name: '1x', signal: 'consumer_lag', max: 1 }] },
      'alerts.rules.0.name: a letter, then letters',
    ],
    [
      { rules: [{ name: 'x', signal: 'skew', service: 's', maxShare: 2 }] },
      'alerts.rules.0.maxShare: Number must be less than or equal to 1',
    ],
    [
      { rules: [{ name: 'x', signal: 'expectation_failed', run: { view: 'a', source: 'b' } }] },
      'alerts.rules.0.run: give at most one of source, view, service',
    ],
    [
      {
        rules: [{ name: 'x', signal: 'consumer_lag', max: 1 }],
        destinations: [{ type: 'webhook', url: 'nope' }],
      },
      'alerts.destinations.0.url: Invalid url',
    ],
    [
      {
        rules: [{ name: 'x', signal: 'consumer_lag', max: 1 }],
        destinations: [{ type: 'webhook', url: 'http://x', format: 'teams' }],
      },
      'alerts.destinations.0.format: Invalid enum value',
    ],
    [
      { rules: [{ name: 'x', signal: 'consumer_lag', max: 1 }], every: '0s' },
      'alerts.every: "0s" must be positive',
    ],
  ])('refuses %j', (alerts, line) => {
    const e = refused(alerts);
    expect(e.code).toBe('LARDER_CONFIG_INVALID');
    // One problem: on the first line, the one the CLI prints.
    expect(
      e.message.startsWith(`invalid configuration (larder.config.ts and LARDER_* env): ${line}`),
    ).toBe(true);
    expect(e.message).not.toContain('\n');
    expect(e.hint).toBe('the alerts section is described in docs/monitoring.md "Alerts"');
  });

  it('durations: seconds to days, zero only where allowed', () => {
    expect(parseAlertDuration('45s')).toBe(45_000);
    expect(parseAlertDuration('2d')).toBe(172_800_000);
    expect(parseAlertDuration('0s', true)).toBe(0);
    expect(parseAlertDuration('0s')).toEqual({ error: '"0s" must be positive' });
    expect(parseAlertDuration('1w')).toHaveProperty('error');
  });
});
