/** The newest `larder skew` report per service, under the Serving tab (docs/monitoring.md). */
import { h, put, table } from './dom.js';
import { int, pct } from './format.js';

/** Renders `/ui/api/skew` into `panel`. */
export function renderSkew(panel, sk) {
  if (sk.reports.length === 0) {
    put(
      panel,
      h(
        'p',
        { class: 'muted' },
        'No skew report yet: run larder skew --service S --start T --end T.',
      ),
    );
    return;
  }
  put(
    panel,
    ...sk.reports.map((r) =>
      table(
        [
          { label: 'Feature', cell: (f) => h('code', null, f.feature) },
          { label: 'Compared', num: true, cell: (f) => int(f.compared) },
          { label: 'Differing', num: true, cell: (f) => int(f.differing) },
          {
            label: 'Share',
            num: true,
            cell: (f) => h('span', { class: f.differing > 0 ? 'bad' : null }, pct(f.share)),
          },
          {
            label: 'Example (served → offline)',
            cell: (f) => {
              const e = f.examples[0];
              return e
                ? `${JSON.stringify(e.entities)} at ${e.at}: ${JSON.stringify(e.served)} → ${JSON.stringify(e.offline)}`
                : '';
            },
          },
        ],
        r.features,
        {
          caption: `${r.service}: ${int(r.rows)} logged rows in [${r.start}, ${r.end}), report of ${r.generatedAt}`,
          empty: 'No logged rows in the window.',
        },
      ),
    ),
  );
}
