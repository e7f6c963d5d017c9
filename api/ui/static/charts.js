/** Inline-SVG charts: sparklines of recent samples and a labelled bar chart. */
import { s } from './dom.js';

/** Samples kept per series: 2 minutes at one sample every 2 s. */
export const HISTORY = 60;

/** Appends `value` to the series `key` of `store` (a Map), keeping the last HISTORY samples. */
export function remember(store, key, value) {
  let xs = store.get(key);
  if (!xs) store.set(key, (xs = []));
  xs.push(value);
  if (xs.length > HISTORY) xs.splice(0, xs.length - HISTORY);
  return xs;
}

/** A sparkline of `values` (nulls are gaps), scaled from 0 to the max. */
export function sparkline(values, { width = 120, height = 28, label = 'trend' } = {}) {
  const xs = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  const max = Math.max(1e-9, ...xs);
  const step = width / (HISTORY - 1);
  const x0 = width - (values.length - 1) * step;
  const pts = values
    .map((v, i) =>
      v === null || v === undefined || !Number.isFinite(v)
        ? null
        : `${(x0 + i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`,
    )
    .filter(Boolean);
  const last = xs.length ? xs[xs.length - 1] : null;
  return s(
    'svg',
    {
      class: 'spark',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `${label}: ${xs.length} samples, latest ${last ?? 'none'}, max ${xs.length ? max : 'none'}`,
    },
    s('line', { x1: 0, x2: width, y1: height - 1.5, y2: height - 1.5, class: 'spark-base' }),
    pts.length > 1 ? s('polyline', { points: pts.join(' '), class: 'spark-line' }) : null,
    pts.length > 0
      ? s('circle', {
          cx: pts[pts.length - 1].split(',')[0],
          cy: pts[pts.length - 1].split(',')[1],
          r: 2,
          class: 'spark-dot',
        })
      : null,
  );
}

/** Vertical bars with a title per bar and labels under every `labelEvery`-th bar. */
export function bars(values, labels, { height = 140, label = 'chart', labelEvery = 5 } = {}) {
  const width = 640;
  const top = 14;
  const bottom = 20;
  const max = Math.max(1, ...values);
  const bw = width / values.length;
  return s(
    'svg',
    {
      class: 'bars',
      viewBox: `0 0 ${width} ${height}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': label,
    },
    s('text', { x: 2, y: 10, class: 'axis' }, `max ${max.toLocaleString('en-US')}`),
    s('line', { x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: 'axis-line' }),
    values.map((v, i) => {
      const bh = ((height - top - bottom) * v) / max;
      return s(
        'rect',
        {
          x: i * bw + 1,
          y: height - bottom - bh,
          width: Math.max(1, bw - 2),
          height: bh,
          class: 'bar',
        },
        s('title', null, `${labels[i]}: ${v.toLocaleString('en-US')}`),
      );
    }),
    labels.map((l, i) =>
      i % labelEvery === 0 || i === labels.length - 1
        ? s(
            'text',
            { x: i * bw + bw / 2, y: height - 5, class: 'axis', 'text-anchor': 'middle' },
            l,
          )
        : null,
    ),
  );
}
