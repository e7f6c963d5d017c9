/** The Serving tab: request rate and p50 / p99 latency per route over the last 60 s. */
import { remember, sparkline } from './charts.js';
import { h, put, stat, table } from './dom.js';
import { int, ms, num } from './format.js';

const history = new Map();

/** Renders `/ui/api/serving` into `panel`. */
export function renderServing(panel, sv) {
  const rows = sv.routes.map((r) => {
    const key = `${r.method} ${r.route}`;
    return {
      ...r,
      rpsSeries: remember(history, `${key}:rps`, r.rps),
      p99Series: remember(history, `${key}:p99`, r.p99Ms),
    };
  });
  const total = sv.routes.reduce((n, r) => n + r.count, 0);
  const errors = sv.routes.reduce((n, r) => n + r.errors, 0);
  put(
    panel,
    h(
      'div',
      { class: 'stats' },
      stat('Requests (60 s)', int(total)),
      stat('Rate', `${num(total / sv.windowSeconds, 2)} /s`),
      stat('5xx (60 s)', int(errors)),
      stat('Routes', int(sv.routes.length)),
    ),
    table(
      [
        { label: 'Route', cell: (r) => h('code', null, r.route) },
        { label: 'Method', cell: (r) => r.method },
        { label: 'Requests (60 s)', num: true, cell: (r) => int(r.count) },
        { label: 'Rate /s', num: true, cell: (r) => num(r.rps, 2) },
        {
          label: 'Rate (2 min)',
          cell: (r) => sparkline(r.rpsSeries, { label: `${r.route} requests per second` }),
        },
        { label: 'p50', num: true, cell: (r) => ms(r.p50Ms) },
        { label: 'p99', num: true, cell: (r) => ms(r.p99Ms) },
        {
          label: 'p99 (2 min)',
          cell: (r) => sparkline(r.p99Series, { label: `${r.route} p99 latency, ms` }),
        },
        {
          label: '5xx',
          num: true,
          cell: (r) => h('span', { class: r.errors > 0 ? 'bad' : null }, int(r.errors)),
        },
      ],
      rows,
      {
        caption: `Rolling ${sv.windowSeconds} s window, server time per request (the dashboard's own calls are not counted).`,
        empty: 'No requests in the last 60 s.',
      },
    ),
  );
}
