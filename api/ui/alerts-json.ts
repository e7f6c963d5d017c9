/**
 * `GET /ui/api/alerts`: the alerts of the evaluator's state file (`$LARDER_HOME/alerts/state.json`,
 * docs/monitoring.md "Alerts"), whichever process evaluates them: firing ones (newest first),
 * pending ones (waiting for their rule's `for`) and those resolved within `alerts.keepResolved`
 * (most recently resolved first).
 */
import { alertStatePath, readAlertState } from '../../alerts/alert-state.ts';
import type { AlertRecord } from '../../alerts/alert-types.ts';

export interface AlertsJson {
  /** The last evaluation (epoch ms); null when none has run. */
  evaluatedAt: number | null;
  firing: AlertRecord[];
  pending: AlertRecord[];
  resolved: AlertRecord[];
}

export function alertsJson(home: string): AlertsJson {
  const state = readAlertState(alertStatePath(home));
  const all = Object.values(state.alerts);
  const of = (s: AlertRecord['status']) => all.filter((a) => a.status === s);
  return {
    evaluatedAt: state.evaluatedAt,
    firing: of('firing').sort((a, b) => (b.firedAt ?? 0) - (a.firedAt ?? 0)),
    pending: of('pending').sort((a, b) => b.since - a.since),
    resolved: of('resolved').sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0)),
  };
}
