/**
 * A drift report as one self-contained HTML page: a table of the features (PSI, test, p, drift)
 * and per feature an inline-SVG bar chart of the reference's and the current sample's share per
 * bin. No script, no external file.
 */
import { describeBounds, describeSample, type DriftReport, type FeatureDrift } from './drift.ts';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const fmt = (x: number): string =>
  Number.isNaN(x) ? 'n/a' : x < 1e-4 && x > 0 ? x.toExponential(2) : x.toFixed(4);

/** The distribution plot of one feature: reference (grey) and current (blue) bars per bin. */
export function distributionSvg(f: FeatureDrift): string {
  const n = f.bins.labels.length;
  const w = Math.max(320, n * 44);
  const h = 160;
  const top = Math.max(...f.bins.reference, ...f.bins.current, 1e-9);
  const slot = (w - 20) / n;
  const bar = (v: number, x: number, color: string, label: string): string => {
    const bh = (v / top) * (h - 50);
    return `<rect x="${x.toFixed(1)}" y="${(h - 30 - bh).toFixed(1)}" width="${(slot / 2 - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="${color}"><title>${esc(label)}: ${(v * 100).toFixed(1)}%</title></rect>`;
  };
  const parts = f.bins.labels.map((label, i) => {
    const x = 10 + i * slot;
    return (
      bar(f.bins.reference[i] ?? 0, x, '#9aa0a6', `reference ${label}`) +
      bar(f.bins.current[i] ?? 0, x + slot / 2, '#1a73e8', `current ${label}`) +
      `<text x="${(x + slot / 2).toFixed(1)}" y="${h - 14}" font-size="9" text-anchor="middle">${esc(label.length > 10 ? `${label.slice(0, 9)}…` : label)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${esc(f.feature)} distribution">${parts.join('')}<text x="10" y="12" font-size="10" fill="#9aa0a6">■ reference</text><text x="90" y="12" font-size="10" fill="#1a73e8">■ current</text></svg>`;
}

/** The whole page. */
export function driftHtml(r: DriftReport): string {
  const rows = r.features
    .map(
      (f) =>
        `<tr class="${f.drifted ? 'drift' : ''}"><td>${esc(f.feature)}</td><td>${f.kind}</td><td>${f.referenceCount}</td><td>${f.currentCount}</td><td>${fmt(f.psi)}</td><td>${f.test === 'ks' ? 'KS' : 'χ²'} ${fmt(f.statistic)}</td><td>${fmt(f.pValue)}</td><td>${esc(describeBounds(f))}</td><td>${f.drifted ? 'drift' : 'ok'}</td></tr>`,
    )
    .join('\n');
  const plots = r.features
    .map(
      (f) =>
        `<section><h2>${esc(f.feature)}${f.drifted ? ' — drift' : ''}</h2>${distributionSvg(f)}</section>`,
    )
    .join('\n');
  const skipped = r.skipped.length
    ? `<p>Not compared: ${r.skipped.map((s) => `${esc(s.feature)} (${esc(s.reason)})`).join(', ')}</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift of ${esc(r.service)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}tr.drift td{background:#fde8e8}</style>
</head><body>
<h1>Drift of ${esc(r.service)}</h1>
<p>Reference: ${esc(describeSample(r.reference))}. Current: ${esc(describeSample(r.current))}. Drift: PSI &gt; ${r.thresholds.psi} or p &lt; ${r.thresholds.p}, unless a feature's expectation declares its own bound (marked *). Generated ${esc(r.generatedAt)}.</p>
<table><thead><tr><th>feature</th><th>kind</th><th>reference</th><th>current</th><th>PSI</th><th>test</th><th>p</th><th>drift when</th><th></th></tr></thead><tbody>
${rows}
</tbody></table>
${skipped}
${plots}
</body></html>
`;
}
