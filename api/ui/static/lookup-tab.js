/** The Lookup tab: an entity row → the feature vector of a service, via /get-online-features. */
import { api } from './api.js';
import { errorBox, h, put, table } from './dom.js';
import { time } from './format.js';

const EPOCH = '1970-01-01T00:00:00Z';

const valueText = (v) =>
  v === null
    ? 'null'
    : typeof v === 'number'
      ? v.toLocaleString('en-US', { maximumFractionDigits: 6 })
      : String(v);

/**
 * A list feature (lastN), newest first: its items joined by " · " with the count, the JSON in
 * the tooltip; an empty list reads "[] (empty)".
 */
const listCell = (v) =>
  h(
    'span',
    { class: 'list-value', title: JSON.stringify(v) },
    v.length === 0 ? '[] (empty)' : `${v.map(valueText).join(' · ')}  (${v.length})`,
  );

/** Wires the lookup form: `form` has inputs user_id, product_id and a service select. */
export function setupLookup(form, out) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const service = data.get('service');
    const entities = {};
    for (const k of ['user_id', 'product_id']) {
      const v = String(data.get(k) ?? '').trim();
      if (v) entities[k] = [v];
    }
    put(out, h('p', { class: 'muted', role: 'status' }, 'Reading…'));
    try {
      const t0 = performance.now();
      const res = await api('/get-online-features', {
        feature_service: service,
        entities,
        full_feature_names: true,
      });
      const took = performance.now() - t0;
      const names = res.metadata.feature_names;
      const rows = names.map((name, i) => ({
        name,
        value: res.results[i].values[0],
        status: res.results[i].statuses[0],
        ts: res.results[i].event_timestamps[0],
      }));
      const present = rows.filter((r) => r.status === 'PRESENT').length;
      put(
        out,
        h(
          'p',
          { class: 'muted', role: 'status' },
          `${names.length} columns, ${present} PRESENT · round trip ${took.toFixed(1)} ms`,
        ),
        table(
          [
            { label: 'Feature', cell: (r) => h('code', null, r.name) },
            {
              label: 'Value',
              num: true,
              cell: (r) =>
                Array.isArray(r.value)
                  ? listCell(r.value)
                  : /_ts$/.test(r.name) && typeof r.value === 'number'
                    ? h('span', { title: time(r.value) }, valueText(r.value))
                    : valueText(r.value),
            },
            {
              label: 'Status',
              cell: (r) => h('span', { class: `badge st-${r.status}` }, r.status),
            },
            { label: 'Event time', cell: (r) => (r.ts === EPOCH ? '—' : time(Date.parse(r.ts))) },
          ],
          rows,
          { cls: 'grid lookup-result' },
        ),
      );
    } catch (e) {
      put(out, errorBox(e));
    }
  });
}
