/**
 * The Real-time tab: the original pipeline's view — top products by views in the last 5
 * minutes, events per minute, and conversion over the last hour.
 */
import { bars } from './charts.js';
import { h, put, stat, table } from './dom.js';
import { hhmm, int, pct } from './format.js';

/** Renders `/ui/api/pipeline` into `panel`. */
export function renderRealtime(panel, p) {
  const sources = Object.keys(p.eventsPerMinute.bySource).sort();
  const n = 30;
  const totals = Array.from({ length: n }, (_, i) =>
    sources.reduce((t, src) => t + p.eventsPerMinute.bySource[src][i], 0),
  );
  const labels = totals.map((_, i) => hhmm(p.eventsPerMinute.start + i * 60_000));
  const c = p.conversion;
  const top = p.topProducts;
  const maxViews = Math.max(1, ...(top ?? []).map((t) => t.views5m ?? 0));
  put(
    panel,
    h(
      'div',
      { class: 'stats' },
      stat('Events, last minute', int(totals[n - 1])),
      stat('Events, 30 min', int(totals.reduce((a, b) => a + b, 0))),
      stat('Sessions, 1 h', int(c.sessions)),
      stat('Purchases, 1 h', int(c.purchases)),
      stat('Conversion, 1 h', pct(c.rate), 'purchases / sessions'),
    ),
    h(
      'div',
      { class: 'two-col' },
      h(
        'section',
        { 'aria-labelledby': 'top-h' },
        h('h3', { id: 'top-h' }, 'Top products by views (5 min)'),
        top === null
          ? h('p', { class: 'muted' }, 'This repository has no product_engagement view.')
          : table(
              [
                { label: '#', num: true, cell: (t) => top.indexOf(t) + 1 },
                { label: 'Product', cell: (t) => h('code', null, t.productId) },
                {
                  label: 'views_5m',
                  num: true,
                  cell: (t) =>
                    h(
                      'span',
                      { class: 'meter' },
                      h('span', {
                        class: 'meter-bar',
                        'data-w': Math.round(((t.views5m ?? 0) * 100) / maxViews),
                      }),
                      h('span', { class: 'views' }, int(t.views5m)),
                    ),
                },
              ],
              top,
              { cls: 'grid top-products', empty: 'No products pushed yet; add ids above.' },
            ),
      ),
      h(
        'section',
        { 'aria-labelledby': 'epm-h' },
        h('h3', { id: 'epm-h' }, 'Events per minute (30 min, by event time)'),
        bars(totals, labels, { label: `Events per minute, ${labels[0]} to ${labels[n - 1]} UTC` }),
        h(
          'p',
          { class: 'muted' },
          sources.length === 0
            ? 'No records pushed through this server yet.'
            : sources
                .map(
                  (src) =>
                    `${src}: ${int(p.eventsPerMinute.bySource[src].reduce((a, b) => a + b, 0))}`,
                )
                .join(' · '),
        ),
      ),
    ),
  );
  // Bar widths without inline styles (the CSP forbids them): set through the CSSOM.
  for (const el of panel.querySelectorAll('.meter-bar')) el.style.width = `${el.dataset.w}%`;
}
