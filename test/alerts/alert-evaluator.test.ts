/**
 * The evaluator with fake signals and destinations: an alert is sent once when it fires and
 * once when it resolves, `for` delays firing, a restart (a new evaluator on the same state file)
 * keeps what fired and what was sent, a destination that failed gets the message on the next
 * evaluation, and the metrics follow.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertEvaluator } from '../../alerts/alert-evaluator.ts';
import type { AlertDestinationSender } from '../../alerts/alert-destinations.ts';
import type { AlertMessage } from '../../alerts/alert-message.ts';
import { AlertMetrics } from '../../alerts/alert-metrics.ts';
import { readAlertState } from '../../alerts/alert-state.ts';
import type { Observation, SignalReader } from '../../alerts/alert-types.ts';
import type { AlertRule } from '../../config/alerts-config.ts';
import { tempDir } from '../support/temp-repo.ts';

const lag = (over: Partial<AlertRule> = {}): AlertRule =>
  ({
    name: 'lag',
    signal: 'consumer_lag',
    severity: 'critical',
    max: 100,
    forMs: 0,
    ...over,
  }) as AlertRule;

/** A destination that records what it accepted and can be made to fail. */
class Recorder implements AlertDestinationSender {
  readonly sent: AlertMessage[] = [];
  down = false;
  constructor(readonly name: string) {}
  async send(m: AlertMessage): Promise<void> {
    if (this.down) throw new Error('connection refused');
    this.sent.push(m);
  }
  async close(): Promise<void> {}
}

let tmp: { dir: string; cleanup: () => void };
let now: number;
/** Topic → lag the fake signal reports. */
let lags: Record<string, number>;
let failing: boolean;
const read: SignalReader = async (rule) => {
  if (failing) throw new Error('broker down\nstack');
  const max = (rule as { max: number }).max;
  return Object.entries(lags).map(([topic, value]): Observation => ({
    labels: { topic },
    value,
    threshold: max,
    breached: value > max,
    summary: `lag ${value}`,
  }));
};

function evaluator(
  rules: AlertRule[],
  destinations: AlertDestinationSender[],
  metrics?: AlertMetrics,
) {
  return new AlertEvaluator({
    alerts: { rules, keepResolvedMs: 60_000 },
    statePath: join(tmp.dir, 'alerts', 'state.json'),
    read,
    destinations,
    clock: () => now,
    ...(metrics ? { metrics } : {}),
  });
}

beforeEach(() => {
  tmp = tempDir();
  now = Date.UTC(2026, 0, 1);
  lags = { clicks: 5, orders: 0 };
  failing = false;
});
afterEach(() => tmp.cleanup());

describe('AlertEvaluator', () => {
  it('sends a firing alert once, then once resolved, per fingerprint', async () => {
    const d = new Recorder('d');
    const ev = evaluator([lag()], [d]);
    expect((await ev.evaluate()).firing).toEqual([]);
    lags.clicks = 500;
    now += 60_000;
    const r1 = await ev.evaluate();
    expect(r1.fired.map((a) => a.fingerprint)).toEqual(['lag{topic=clicks}']);
    now += 60_000;
    lags.clicks = 700;
    const r2 = await ev.evaluate();
    expect(r2.fired).toEqual([]);
    expect(r2.firing.map((a) => [a.fingerprint, a.value])).toEqual([['lag{topic=clicks}', 700]]);
    expect(d.sent).toHaveLength(1);
    expect(d.sent[0]).toEqual({
      event: 'larder.alert',
      status: 'firing',
      fingerprint: 'lag{topic=clicks}',
      rule: 'lag',
      signal: 'consumer_lag',
      severity: 'critical',
      labels: { topic: 'clicks' },
      value: 500,
      threshold: 100,
      summary: 'lag 500',
      description: null,
      startsAt: new Date(now - 60_000).toISOString(),
      firedAt: new Date(now - 60_000).toISOString(),
      resolvedAt: null,
    });
    lags.clicks = 3;
    now += 60_000;
    const r3 = await ev.evaluate();
    expect(r3.resolved.map((a) => a.fingerprint)).toEqual(['lag{topic=clicks}']);
    expect(r3.firing).toEqual([]);
    expect(d.sent.map((m) => m.status)).toEqual(['firing', 'resolved']);
    expect(d.sent[1]).toMatchObject({ value: 700, resolvedAt: new Date(now).toISOString() });
    now += 60_000;
    await ev.evaluate();
    expect(d.sent).toHaveLength(2);
  });

  it('fires only after the condition held for `for`; a blip never fires', async () => {
    const d = new Recorder('d');
    const ev = evaluator([lag({ forMs: 120_000 })], [d]);
    lags.clicks = 500;
    expect((await ev.evaluate()).fired).toEqual([]);
    lags.clicks = 0; // the blip ends: the pending alert is forgotten
    now += 60_000;
    await ev.evaluate();
    lags.clicks = 500;
    now += 60_000;
    await ev.evaluate();
    now += 60_000;
    expect((await ev.evaluate()).fired).toEqual([]);
    expect(
      readAlertState(join(tmp.dir, 'alerts', 'state.json')).alerts['lag{topic=clicks}'],
    ).toMatchObject({
      status: 'pending',
      since: now - 60_000,
    });
    now += 60_000;
    const r = await ev.evaluate();
    expect(r.fired.map((a) => a.fingerprint)).toEqual(['lag{topic=clicks}']);
    expect(d.sent).toHaveLength(1);
    expect(d.sent[0]!.startsAt).toBe(new Date(now - 120_000).toISOString());
  });

  it('a restart keeps the state: no second firing message, and the resolution is sent', async () => {
    const d = new Recorder('d');
    lags.clicks = 500;
    await evaluator([lag()], [d]).evaluate();
    now += 60_000;
    // A new process: the same state file, nothing in memory.
    const again = evaluator([lag()], [d]);
    expect((await again.evaluate()).fired).toEqual([]);
    expect(d.sent).toHaveLength(1);
    lags.clicks = 0;
    now += 60_000;
    await evaluator([lag()], [d]).evaluate();
    expect(d.sent.map((m) => m.status)).toEqual(['firing', 'resolved']);
  });

  it('a destination that is down gets the message on a later evaluation, the others once', async () => {
    const up = new Recorder('up');
    const down = new Recorder('down');
    down.down = true;
    const ev = evaluator([lag()], [up, down]);
    lags.clicks = 500;
    expect((await ev.evaluate()).undelivered).toBe(1);
    now += 60_000;
    expect((await ev.evaluate()).undelivered).toBe(1);
    down.down = false;
    now += 60_000;
    expect((await ev.evaluate()).undelivered).toBe(0);
    expect(up.sent.map((m) => m.status)).toEqual(['firing']);
    expect(down.sent.map((m) => m.status)).toEqual(['firing']);
    expect(down.sent[0]!.firedAt).toBe(new Date(now - 120_000).toISOString());
  });

  it('a rule whose signal fails leaves its alerts as they were and is counted', async () => {
    const registry = new Registry();
    const metrics = new AlertMetrics(registry);
    const d = new Recorder('d');
    const ev = evaluator([lag()], [d], metrics);
    lags.clicks = 500;
    await ev.evaluate();
    failing = true;
    now += 60_000;
    const r = await ev.evaluate();
    expect(r.errors).toEqual([{ rule: 'lag', message: 'broker down' }]);
    expect(r.firing.map((a) => a.fingerprint)).toEqual(['lag{topic=clicks}']);
    expect(d.sent).toHaveLength(1);
    const text = await registry.metrics();
    expect(text).toContain('larder_alerts_firing{rule="lag",severity="critical"} 1');
    expect(text).toContain('larder_alert_evaluations_total{rule="lag"} 2');
    expect(text).toContain('larder_alert_evaluation_errors_total{rule="lag"} 1');
    expect(text).toContain(
      'larder_alert_notifications_total{destination="d",status="firing",result="sent"} 1',
    );
  });

  it('alerts of a rule removed from the config resolve; resolved alerts are kept for keepResolved', async () => {
    const d = new Recorder('d');
    lags.clicks = 500;
    await evaluator([lag()], [d]).evaluate();
    now += 60_000;
    const r = await evaluator([lag({ name: 'other' })], [d]).evaluate();
    expect(r.resolved.map((a) => a.fingerprint)).toEqual(['lag{topic=clicks}']);
    expect(d.sent.map((m) => [m.fingerprint, m.status])).toEqual([
      ['lag{topic=clicks}', 'firing'],
      ['lag{topic=clicks}', 'resolved'],
      ['other{topic=clicks}', 'firing'],
    ]);
    const path = join(tmp.dir, 'alerts', 'state.json');
    expect(existsSync(path)).toBe(true);
    expect(readAlertState(path).alerts['lag{topic=clicks}']?.status).toBe('resolved');
    now += 61_000;
    await evaluator([lag({ name: 'other' })], [d]).evaluate();
    expect(readAlertState(path).alerts['lag{topic=clicks}']).toBeUndefined();
  });

  it('an alert that fires again after resolving is a new episode, sent again', async () => {
    const d = new Recorder('d');
    const ev = evaluator([lag()], [d]);
    for (const value of [500, 0, 500]) {
      lags.clicks = value;
      now += 60_000;
      await ev.evaluate();
    }
    expect(d.sent.map((m) => m.status)).toEqual(['firing', 'resolved', 'firing']);
    expect(d.sent[2]!.startsAt).toBe(new Date(now).toISOString());
  });
});
