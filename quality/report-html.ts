/**
 * A validation report as one self-contained HTML page: the verdict, the checks, and per
 * source and view a table of statistics with an inline SVG histogram (numbers) or bar chart of
 * the most frequent values (strings, booleans). No script, stylesheet or image is loaded.
 */
import type { ValueStatistics } from '../offline/offline-store.ts';
import type { ValidationReport } from './validate.ts';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (x: number | null): string =>
  x === null ? '–' : Number.isInteger(x) ? String(x) : x.toPrecision(4);
const iso = (ms: number | null): string => (ms === null ? '–' : new Date(ms).toISOString());

/** Bars as an inline SVG: one per bin or value, labelled below, count on hover (`<title>`). */
function bars(items: { label: string; count: number }[]): string {
  if (items.length === 0) return '';
  const w = 320;
  const h = 90;
  const bw = w / items.length;
  const top = Math.max(...items.map((i) => i.count), 1);
  const rects = items
    .map((it, i) => {
      const bh = (it.count / top) * (h - 14);
      return `<rect x="${(i * bw + 1).toFixed(1)}" y="${(h - 14 - bh).toFixed(1)}" width="${Math.max(bw - 2, 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="#4e79a7"><title>${esc(it.label)}: ${it.count}</title></rect>`;
    })
    .join('');
  const first = esc(items[0]!.label);
  const last = esc(items[items.length - 1]!.label);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img"><line x1="0" y1="${h - 14}" x2="${w}" y2="${h - 14}" stroke="#999"/>${rects}<text x="0" y="${h - 2}" font-size="10">${first}</text><text x="${w}" y="${h - 2}" font-size="10" text-anchor="end">${items.length > 1 ? last : ''}</text></svg>`;
}

function chart(s: ValueStatistics): string {
  if (s.histogram.length > 0)
    return bars(s.histogram.map((b) => ({ label: `${num(b.lo)}–${num(b.hi)}`, count: b.count })));
  return bars(s.top.map((t) => ({ label: t.value, count: t.count })));
}

function valueTable(rows: ValueStatistics[]): string {
  const head =
    '<tr><th>field</th><th>type</th><th>rows</th><th>null rate</th><th>distinct</th><th>min</th><th>mean</th><th>max</th><th>quantiles (5/25/50/75/95%)</th><th>distribution</th></tr>';
  const body = rows
    .map(
      (s) =>
        `<tr><td>${esc(s.name)}</td><td>${s.type}</td><td>${s.rows}</td><td>${s.rows === 0 ? '–' : `${((s.nulls / s.rows) * 100).toFixed(2)}%`}</td><td>${s.distinct}</td><td>${num(s.min)}</td><td>${num(s.mean)}</td><td>${num(s.max)}</td><td>${s.quantiles.map((q) => num(q.value)).join(' / ') || '–'}</td><td>${chart(s)}</td></tr>`,
    )
    .join('');
  return `<table>${head}${body}</table>`;
}

export function reportHtml(r: ValidationReport): string {
  const verdict = r.passed ? 'PASSED' : 'FAILED';
  const checks = r.checks
    .map(
      (c) =>
        `<tr class="${c.passed ? 'ok' : 'bad'}"><td>${c.passed ? '✓' : '✗'}</td><td>${esc(c.object)}</td><td>${esc(c.subject ?? '')}</td><td>${c.expectation}</td><td>${esc(c.expected)}</td><td>${esc(c.actual)}</td></tr>`,
    )
    .join('');
  const sources = r.sources
    .map(
      (s) =>
        `<h2>Source ${esc(s.source)}</h2><p>${s.rows} records in the range (oldest ${iso(s.oldestEventMs)}, newest ${iso(s.newestEventMs)}); ${s.rejected} rejected of ${s.rejected + s.sourceRows} in the whole source${s.rejects.length ? `: ${s.rejects.map((x) => `${esc(x.reason)} (${x.count})`).join('; ')}` : ''}.</p>${s.periods.length ? bars(s.periods.map((p) => ({ label: iso(p.start).slice(0, 16), count: p.rows }))) : ''}${valueTable(s.fields)}`,
    )
    .join('');
  const views = r.views
    .map(
      (v) =>
        `<h2>Feature view ${esc(v.view)}</h2><p>${v.rows} grid rows (every entity key × every ${r.everyMs / 60_000} min).</p>${valueTable(v.features)}`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Larder validation: ${verdict}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:middle}tr.bad{background:#fde2e2}tr.ok{background:#e6f4e6}.PASSED{color:#2a7a2a}.FAILED{color:#b00}</style>
</head><body>
<h1>Larder validation: <span class="${verdict}">${verdict}</span></h1>
<p>${r.store} offline store · ${iso(r.start)} to ${iso(r.end)} · ${r.checks.filter((c) => c.passed).length} of ${r.checks.length} checks passed (${(r.passRate * 100).toFixed(1)}%, gate ${(r.failUnder * 100).toFixed(1)}%)</p>
<table><tr><th></th><th>object</th><th>field</th><th>expectation</th><th>expected</th><th>found</th></tr>${checks}</table>
${sources}${views}
</body></html>
`;
}
