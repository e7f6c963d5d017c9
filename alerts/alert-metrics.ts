/**
 * The evaluator's Prometheus metrics, registered in the registry of the process hosting it
 * (`larder monitor --metrics-port`, `larder stream --alerts --metrics-port`).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class AlertMetrics {
  readonly firing: Gauge<'rule' | 'severity'>;
  readonly evaluations: Counter<'rule'>;
  readonly errors: Counter<'rule'>;
  readonly notifications: Counter<'destination' | 'status' | 'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.firing = new Gauge({
      name: 'larder_alerts_firing',
      help: 'Alerts firing after the last evaluation, by rule and severity',
      labelNames: ['rule', 'severity'] as const,
      registers,
    });
    this.evaluations = new Counter({
      name: 'larder_alert_evaluations_total',
      help: 'Rule evaluations, by rule',
      labelNames: ['rule'] as const,
      registers,
    });
    this.errors = new Counter({
      name: 'larder_alert_evaluation_errors_total',
      help: 'Rule evaluations that could not read their signal, by rule',
      labelNames: ['rule'] as const,
      registers,
    });
    this.notifications = new Counter({
      name: 'larder_alert_notifications_total',
      help: 'Alert messages sent, by destination, status (firing, resolved) and result (sent, failed)',
      labelNames: ['destination', 'status', 'result'] as const,
      registers,
    });
  }
}
