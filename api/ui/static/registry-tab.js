/** The Registry tab: every object of the served repository, and the lineage graph. */
import { h, put, s, stat, table } from './dom.js';
import { span, time } from './format.js';

const KIND_LABEL = {
  batch_source: 'batch source',
  stream_source: 'stream source',
  push_source: 'push source',
  feature_view: 'feature view',
  on_demand_feature_view: 'on-demand view',
  feature_service: 'feature service',
  model: 'model',
  experiment: 'experiment',
};

const code = (t) => h('code', null, t);

/** Layered SVG: one column per layer, a curve per edge; hovering a node highlights its edges. */
function lineageSvg({ nodes, edges }) {
  const layers = [...new Set(nodes.map((n) => n.layer))].sort((a, b) => a - b);
  const colW = 190;
  const boxW = 156;
  const rowH = 34;
  const rows = Math.max(...layers.map((l) => nodes.filter((n) => n.layer === l).length));
  const height = rows * rowH + 34;
  const pos = new Map();
  layers.forEach((l, col) => {
    const inLayer = nodes.filter((n) => n.layer === l);
    const offset = ((rows - inLayer.length) * rowH) / 2;
    inLayer.forEach((n, i) => pos.set(n.id, { x: col * colW + 4, y: 30 + offset + i * rowH }));
  });
  const svg = s('svg', {
    class: 'lineage',
    width: layers.length * colW,
    height,
    viewBox: `0 0 ${layers.length * colW} ${height}`,
    role: 'img',
    'aria-label':
      'Lineage graph: sources feed feature views, views feed services, services feed models',
  });
  layers.forEach((l, col) => {
    const kind = nodes.find((n) => n.layer === l).kind;
    svg.append(
      s('text', { x: col * colW + 4, y: 14, class: 'layer-title' }, `${KIND_LABEL[kind]}s`),
    );
  });
  const paths = edges.map((e) => {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    const x1 = a.x + boxW;
    const y1 = a.y + 11;
    const x2 = b.x;
    const y2 = b.y + 11;
    const mid = (x1 + x2) / 2;
    const p = s('path', {
      d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`,
      class: 'edge',
      'data-from': e.from,
      'data-to': e.to,
    });
    svg.append(p);
    return p;
  });
  for (const n of nodes) {
    const { x, y } = pos.get(n.id);
    const g = s(
      'g',
      { class: `node kind-${n.kind}`, tabindex: 0 },
      s('title', null, `${KIND_LABEL[n.kind]} ${n.name}`),
      s('rect', { x, y, width: boxW, height: 22, rx: 5 }),
      s('text', { x: x + 8, y: y + 15 }, n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name),
    );
    const mark = (on) => {
      for (const p of paths)
        p.classList.toggle('hot', on && (p.dataset.from === n.id || p.dataset.to === n.id));
    };
    g.addEventListener('mouseenter', () => mark(true));
    g.addEventListener('mouseleave', () => mark(false));
    g.addEventListener('focus', () => mark(true));
    g.addEventListener('blur', () => mark(false));
    svg.append(g);
  }
  return svg;
}

function lineageList({ nodes, edges }) {
  const name = new Map(nodes.map((n) => [n.id, n.name]));
  return h(
    'ul',
    { class: 'edge-list', 'aria-label': 'Lineage edges' },
    edges.map((e) => h('li', null, `${name.get(e.from)} → ${name.get(e.to)}`)),
  );
}

function featureViewTable(v) {
  return h(
    'section',
    { class: 'fv', 'aria-labelledby': `fv-${v.name}` },
    h(
      'h4',
      { id: `fv-${v.name}` },
      code(v.name),
      h(
        'span',
        { class: 'muted' },
        ` · entities ${v.entities.join(', ')} · source ${v.source} · TTL ${span(v.ttlMs)}${v.online ? '' : ' · offline only'}`,
      ),
    ),
    v.description ? h('p', { class: 'desc' }, v.description) : null,
    table(
      [
        { label: 'Feature', cell: (f) => code(f.name) },
        { label: 'Type', cell: (f) => f.type },
        { label: 'Aggregation', cell: (f) => f.aggregation },
        { label: 'Window', cell: (f) => (f.windowMs === null ? 'lifetime' : span(f.windowMs)) },
        { label: 'Hop', cell: (f) => span(f.hopMs) },
        ...(v.features.some((f) => f.expect)
          ? [{ label: 'Expectation', cell: (f) => f.expect }]
          : []),
        ...(v.features.some((f) => f.description)
          ? [{ label: 'Description', cell: (f) => f.description }]
          : []),
      ],
      v.features,
    ),
  );
}

/** A duration in whole days, hours or minutes (`1d`, `6h`). */
function days(ms) {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return `${Math.round(ms / 60_000)}m`;
}

/** Renders the registry JSON (`/ui/api/registry`) into `panel`. */
export function renderRegistry(panel, r) {
  put(
    panel,
    h(
      'div',
      { class: 'stats' },
      stat(
        'Registry version',
        r.version,
        r.appliedAt ? `applied ${time(Date.parse(r.appliedAt))}` : 'not from a registry file',
      ),
      stat('Entities', r.entities.length),
      stat('Sources', r.sources.length),
      stat(
        'Feature views',
        r.featureViews.length,
        `${r.featureViews.reduce((n, v) => n + v.features.length, 0)} features`,
      ),
      stat('On-demand views', r.onDemandViews.length),
      stat('Batch views', r.batchViews.length, 'SQL snapshots'),
      stat('Services', r.services.length),
      stat('Models', r.models.length, `${r.experiments.length} experiments`),
    ),
    h('h3', null, 'Lineage'),
    h(
      'p',
      { class: 'muted' },
      'Source → feature view → on-demand view → service → model → experiment. Hover a node to trace it.',
    ),
    h('div', { class: 'scroll' }, lineageSvg(r.lineage)),
    h(
      'details',
      { class: 'lineage-text', open: true },
      h('summary', null, 'Lineage as text'),
      lineageList(r.lineage),
    ),
    h('h3', null, 'Entities'),
    table(
      [
        { label: 'Entity', cell: (e) => code(e.name) },
        { label: 'Join key', cell: (e) => code(e.joinKey) },
        { label: 'Type', cell: (e) => e.valueType },
        { label: 'Description', cell: (e) => e.description },
      ],
      r.entities,
    ),
    h('h3', null, 'Sources'),
    table(
      [
        { label: 'Source', cell: (x) => code(x.name) },
        { label: 'Kind', cell: (x) => x.kind },
        { label: 'Details', cell: (x) => x.detail },
        { label: 'Expectations', cell: (x) => (x.expect ?? []).join('; ') },
        { label: 'Description', cell: (x) => x.description },
      ],
      r.sources,
    ),
    h('h3', null, 'Feature views'),
    r.featureViews.map(featureViewTable),
    h('h3', null, 'On-demand feature views'),
    table(
      [
        { label: 'View', cell: (x) => code(x.name) },
        { label: 'Entities', cell: (x) => x.entities.join(', ') },
        {
          label: 'Features',
          cell: (x) => x.features.map((f) => `${f.name} (${f.type})`).join(', '),
        },
        { label: 'Inputs', cell: (x) => x.inputs.join(', ') },
      ],
      r.onDemandViews,
    ),
    h('h3', null, 'Batch views'),
    h(
      'p',
      { class: 'muted' },
      'SQL snapshots at D; a value at t comes from the latest snapshot with D ≤ t.',
    ),
    table(
      [
        { label: 'View', cell: (x) => code(x.name) },
        { label: 'Entities', cell: (x) => x.entities.join(', ') },
        { label: 'Source', cell: (x) => code(x.source) },
        {
          label: 'Snapshots',
          cell: (x) =>
            `every ${days(x.everyMs)}${x.windowMs === null ? '' : `, over ${days(x.windowMs)}`}`,
        },
        {
          label: 'Features',
          cell: (x) => x.features.map((f) => `${f.name} (${f.type})`).join(', '),
        },
        {
          label: 'Last snapshot',
          cell: (x) =>
            x.lastSnapshot === null
              ? 'not materialized'
              : new Date(x.lastSnapshot).toISOString().replace('.000Z', 'Z'),
        },
      ],
      r.batchViews,
    ),
    h('h3', null, 'Feature services'),
    table(
      [
        { label: 'Service', cell: (x) => code(x.name) },
        { label: 'Features', num: true, cell: (x) => x.features },
        {
          label: 'Views',
          cell: (x) => x.projections.map((p) => `${p.view} (${p.features})`).join(', '),
        },
        { label: 'Description', cell: (x) => x.description },
      ],
      r.services,
    ),
    h('h3', null, 'Models'),
    table(
      [
        { label: 'Model', cell: (x) => code(x.name) },
        { label: 'Version', cell: (x) => x.version },
        { label: 'Service', cell: (x) => code(x.service) },
        { label: 'Inputs', num: true, cell: (x) => x.inputs },
        { label: 'Description', cell: (x) => x.description },
      ],
      r.models,
    ),
    h('h3', null, 'Experiments'),
    table(
      [
        { label: 'Experiment', cell: (x) => code(x.name) },
        {
          label: 'Arms',
          cell: (x) => x.arms.map((a) => `${a.name}: ${a.model} (${a.percent} %)`).join(' · '),
        },
        { label: 'Hash key', cell: (x) => code(x.hashKey) },
        { label: 'Description', cell: (x) => x.description },
      ],
      r.experiments,
    ),
  );
}
