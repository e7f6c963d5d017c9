/**
 * What a rule's signal reports on one evaluation and what the evaluator keeps per alert
 * (docs/monitoring.md "Alerts").
 */
import type { AlertRule } from '../config/alerts-config.ts';

/** What an alert is about (`view`, `service`, `feature`, `topic`, …): part of its fingerprint. */
export type AlertLabels = Readonly<Record<string, string>>;

/** One subject of a rule on one evaluation: its value and whether it crosses the threshold. */
export interface Observation {
  labels: AlertLabels;
  value: number;
  threshold: number;
  breached: boolean;
  /** One line a person reads: what was found against what was allowed. */
  summary: string;
}

/** Per-signal memory kept in the state file between evaluations (the DLQ totals). */
export type SignalMemory = Record<string, { at: number; total: number }>;

/** Computes a rule's observations at `now`; throws when the signal cannot be read. */
export type SignalReader = (
  rule: AlertRule,
  now: number,
  memory: SignalMemory,
) => Promise<Observation[]>;

export type AlertStatus = 'pending' | 'firing' | 'resolved';

/** An alert in the state file, keyed by its fingerprint. */
export interface AlertRecord {
  fingerprint: string;
  rule: string;
  signal: AlertRule['signal'];
  severity: AlertRule['severity'];
  description: string | null;
  labels: AlertLabels;
  status: AlertStatus;
  value: number;
  threshold: number;
  summary: string;
  /** When the condition started to hold (epoch ms). */
  since: number;
  firedAt: number | null;
  resolvedAt: number | null;
  /** The last evaluation that observed it. */
  evaluatedAt: number;
  /** Per destination, the last status it accepted. */
  sent: Record<string, 'firing' | 'resolved'>;
}

/** `rule{label=value,…}` (labels sorted); the rule name alone when it has no labels. */
export function fingerprint(rule: string, labels: AlertLabels): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? rule : `${rule}{${keys.map((k) => `${k}=${labels[k]}`).join(',')}}`;
}
