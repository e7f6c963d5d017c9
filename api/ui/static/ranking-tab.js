/** The Ranking tab: a user and candidates → scores from a model or an experiment. */
import { api } from './api.js';
import { errorBox, h, put, table } from './dom.js';
import { num } from './format.js';

/** Wires the ranking form: inputs user_id, candidates, top_k and a target select. */
export function setupRanking(form, out) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const target = String(data.get('target'));
    const candidates = String(data.get('candidates') ?? '')
      .split(/[\s,]+/)
      .filter(Boolean);
    const body = { user_id: String(data.get('user_id') ?? '').trim(), candidates };
    const k = Number(data.get('top_k'));
    if (k > 0) body.top_k = k;
    const url = target.startsWith('experiment:')
      ? `/v1/experiments/${encodeURIComponent(target.slice(11))}/rank`
      : `/v1/models/${encodeURIComponent(target.slice(6))}/rank`;
    put(out, h('p', { class: 'muted', role: 'status' }, 'Scoring…'));
    try {
      const r = await api(url, body);
      const max = Math.max(1e-9, ...r.items.map((i) => i.score));
      put(
        out,
        h(
          'p',
          { class: 'rank-meta', role: 'status' },
          'Model ',
          h('code', null, `${r.model} v${r.version}`),
          r.experiment
            ? [
                ' · experiment ',
                h('code', null, r.experiment),
                ' · arm ',
                h('strong', { class: 'arm' }, r.arm),
              ]
            : null,
          ` · features ${num(r.timing_ms.features, 2)} ms · inference ${num(r.timing_ms.inference, 2)} ms`,
        ),
        table(
          [
            { label: 'Rank', num: true, cell: (i) => r.items.indexOf(i) + 1 },
            { label: 'Product', cell: (i) => h('code', null, i.product_id) },
            {
              label: 'Score',
              num: true,
              cell: (i) =>
                h(
                  'span',
                  { class: 'meter' },
                  h('span', {
                    class: 'meter-bar',
                    'data-w': Math.round((Math.max(0, i.score) * 100) / max),
                  }),
                  h('span', { class: 'score' }, num(i.score, 4)),
                ),
            },
            {
              label: 'Missing features',
              cell: (i) =>
                i.missing_features.length === 0
                  ? h('span', { class: 'muted' }, 'none')
                  : h(
                      'span',
                      { title: i.missing_features.join(', ') },
                      `${i.missing_features.length}: ${i.missing_features.slice(0, 3).join(', ')}${i.missing_features.length > 3 ? ', …' : ''}`,
                    ),
            },
          ],
          r.items,
          { cls: 'grid rank-result' },
        ),
      );
      for (const el of out.querySelectorAll('.meter-bar')) el.style.width = `${el.dataset.w}%`;
    } catch (e) {
      put(out, errorBox(e));
    }
  });
}
