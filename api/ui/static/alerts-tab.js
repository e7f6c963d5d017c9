/**
 * The Alerts tab: what `larder monitor` (or `larder stream --alerts`) found on its last
 * evaluation — firing, pending and recently resolved alerts (docs/monitoring.md "Alerts").
 */
import { h, put, stat, table } from './dom.js';
import { int, time } from './format.js';

const labels = (a) =>
  Object.entries(a.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

const columns = (when) => [
  { label: 'Rule', cell: (a) => h('code', null, a.rule) },
  {
    label: 'Severity',
    cell: (a) => h('span', { class: a.severity === 'critical' ? 'bad' : null }, a.severity),
  },
  { label: 'Labels', cell: labels },
  { label: 'Summary', cell: (a) => a.summary },
  when,
];

/** Renders `/ui/api/alerts` into `panel`. */
export function renderAlerts(panel, al) {
  put(
    panel,
    h(
      'div',
      { class: 'stats' },
      stat('Firing', int(al.firing.length)),
      stat('Pending', int(al.pending.length)),
      stat('Resolved (kept)', int(al.resolved.length)),
      stat('Last evaluation', time(al.evaluatedAt)),
    ),
    table(columns({ label: 'Firing since', cell: (a) => time(a.firedAt) }), al.firing, {
      caption: 'Firing',
      empty:
        al.evaluatedAt === null
          ? 'No evaluation yet: run larder monitor (alerts in larder.config.ts).'
          : 'Nothing is firing.',
    }),
    al.pending.length > 0
      ? table(columns({ label: 'Holding since', cell: (a) => time(a.since) }), al.pending, {
          caption: "Pending (waiting for the rule's for)",
        })
      : null,
    table(columns({ label: 'Resolved at', cell: (a) => time(a.resolvedAt) }), al.resolved, {
      caption: 'Recently resolved',
      empty: 'None.',
    }),
  );
}
