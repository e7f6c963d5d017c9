/**
 * Evaluates every rule once (`evaluate`): reads each rule's signal, moves each alert through
 * pending → firing → resolved, sends each destination what it has not accepted yet, and writes
 * the state file. An alert is sent once when it fires and once when it resolves, never on the
 * evaluations in between; a restart reads the state file and carries on.
 *
 * @example
 * const ev = new AlertEvaluator({ alerts: config.alerts, statePath, read, destinations });
 * const { firing, errors } = await ev.evaluate();
 */
import type { AlertRule, AlertsConfig } from '../config/alerts-config.ts';
import { alertMessage } from './alert-message.ts';
import type { AlertDestinationSender } from './alert-destinations.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import { readAlertState, writeAlertState, type AlertState } from './alert-state.ts';
import {
  fingerprint,
  type AlertRecord,
  type Observation,
  type SignalReader,
} from './alert-types.ts';

export interface AlertEvaluatorOptions {
  alerts: Pick<AlertsConfig, 'rules' | 'keepResolvedMs'>;
  statePath: string;
  read: SignalReader;
  destinations: readonly AlertDestinationSender[];
  metrics?: AlertMetrics;
  clock?: () => number;
  /** Told about rules that failed and messages that could not be sent. */
  warn?: (line: string) => void;
}

export interface EvaluationResult {
  at: number;
  /** Alerts firing after this evaluation. */
  firing: AlertRecord[];
  /** Alerts that fired on this evaluation / resolved on this evaluation. */
  fired: AlertRecord[];
  resolved: AlertRecord[];
  /** Rules whose signal could not be read (their alerts are left as they were). */
  errors: { rule: string; message: string }[];
  /** Messages a destination did not accept (sent again on the next evaluation). */
  undelivered: number;
}

export class AlertEvaluator {
  readonly #o: AlertEvaluatorOptions;
  readonly #clock: () => number;

  constructor(options: AlertEvaluatorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  async evaluate(): Promise<EvaluationResult> {
    const now = this.#clock();
    const state = readAlertState(this.#o.statePath);
    const result: EvaluationResult = {
      at: now,
      firing: [],
      fired: [],
      resolved: [],
      errors: [],
      undelivered: 0,
    };
    const rules = new Map(this.#o.alerts.rules.map((r) => [r.name, r]));
    const failed = new Set<string>();
    for (const rule of rules.values()) {
      this.#o.metrics?.evaluations.inc({ rule: rule.name });
      try {
        const observations = await this.#o.read(rule, now, state.memory);
        this.#apply(state, rule, observations, now, result);
      } catch (e) {
        failed.add(rule.name);
        const message = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
        result.errors.push({ rule: rule.name, message });
        this.#o.metrics?.errors.inc({ rule: rule.name });
        this.#o.warn?.(`alert rule ${rule.name} failed: ${message}`);
      }
    }
    // Alerts of rules no longer configured resolve.
    for (const a of Object.values(state.alerts))
      if (!rules.has(a.rule) && !failed.has(a.rule)) this.#clear(state, a, now, result);
    await this.#deliver(state, result);
    for (const [fp, a] of Object.entries(state.alerts)) {
      const delivered = this.#o.destinations.every((d) => a.sent[d.name] !== 'firing');
      if (
        a.status === 'resolved' &&
        delivered &&
        (a.resolvedAt ?? 0) < now - this.#o.alerts.keepResolvedMs
      )
        delete state.alerts[fp];
    }
    state.evaluatedAt = now;
    writeAlertState(this.#o.statePath, state);
    result.firing = Object.values(state.alerts).filter((a) => a.status === 'firing');
    this.#gauge(result.firing);
    return result;
  }

  #apply(
    state: AlertState,
    rule: AlertRule,
    observations: readonly Observation[],
    now: number,
    result: EvaluationResult,
  ): void {
    const seen = new Set<string>();
    for (const o of observations) {
      const fp = fingerprint(rule.name, o.labels);
      seen.add(fp);
      const prev = state.alerts[fp];
      if (!o.breached) {
        if (prev) this.#clear(state, prev, now, result);
        continue;
      }
      const active = prev && prev.status !== 'resolved' ? prev : undefined;
      const a: AlertRecord = {
        fingerprint: fp,
        rule: rule.name,
        signal: rule.signal,
        severity: rule.severity,
        description: rule.description ?? null,
        labels: o.labels,
        status: active?.status ?? 'pending',
        value: o.value,
        threshold: o.threshold,
        summary: o.summary,
        since: active?.since ?? now,
        firedAt: active?.firedAt ?? null,
        resolvedAt: null,
        evaluatedAt: now,
        // A new episode of a resolved alert starts with nothing sent.
        sent: active ? active.sent : {},
      };
      if (a.status === 'pending' && now - a.since >= rule.forMs) {
        a.status = 'firing';
        a.firedAt = now;
        result.fired.push(a);
      }
      state.alerts[fp] = a;
    }
    for (const a of Object.values(state.alerts))
      if (a.rule === rule.name && !seen.has(a.fingerprint)) this.#clear(state, a, now, result);
  }

  /** The condition no longer holds: a firing alert resolves, a pending one is forgotten. */
  #clear(state: AlertState, a: AlertRecord, now: number, result: EvaluationResult): void {
    if (a.status === 'pending') delete state.alerts[a.fingerprint];
    else if (a.status === 'firing') {
      a.status = 'resolved';
      a.resolvedAt = now;
      a.evaluatedAt = now;
      result.resolved.push(a);
    }
  }

  async #deliver(state: AlertState, result: EvaluationResult): Promise<void> {
    for (const a of Object.values(state.alerts)) {
      if (a.status === 'pending') continue;
      const status = a.status;
      for (const d of this.#o.destinations) {
        if (a.sent[d.name] === status) continue;
        // A destination that never got the firing message is not told it resolved.
        if (status === 'resolved' && a.sent[d.name] === undefined) {
          a.sent[d.name] = 'resolved';
          continue;
        }
        try {
          await d.send(alertMessage(a, status));
          a.sent[d.name] = status;
          this.#o.metrics?.notifications.inc({ destination: d.name, status, result: 'sent' });
        } catch (e) {
          result.undelivered++;
          this.#o.metrics?.notifications.inc({ destination: d.name, status, result: 'failed' });
          this.#o.warn?.(
            `alert ${a.fingerprint} (${status}) not sent to ${d.name}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`,
          );
        }
      }
    }
  }

  #gauge(firing: readonly AlertRecord[]): void {
    const m = this.#o.metrics;
    if (!m) return;
    m.firing.reset();
    for (const r of this.#o.alerts.rules) m.firing.set({ rule: r.name, severity: r.severity }, 0);
    for (const a of firing) m.firing.inc({ rule: a.rule, severity: a.severity });
  }
}
