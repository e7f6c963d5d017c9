/**
 * docs/grafana/larder-dashboard.json only queries metrics the code exports, with labels those
 * metrics have: every metric name in a panel's PromQL is registered by `larder serve`
 * (ServerMetrics, with Node's default metrics), `larder stream` (createStreamMetrics) or
 * `larder scheduler` (createSchedulerMetrics) or the alert evaluator (AlertMetrics), and
 * every label it groups or filters by is one of that metric's labels.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { AlertMetrics } from '../../alerts/alert-metrics.ts';
import { ServerMetrics } from '../../api/server-metrics.ts';
import { createStreamMetrics } from '../../streaming/stream-metrics.ts';
import { createSchedulerMetrics } from '../../scheduler/scheduler-metrics.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string }[];
  gridPos: { h: number; w: number; x: number; y: number };
}

const dashboard = JSON.parse(readFileSync('docs/grafana/larder-dashboard.json', 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  __inputs: { name: string }[];
};

/** Exported series names → their label names (histograms: `_bucket` adds `le`). */
async function exportedSeries(): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const registries = [new ServerMetrics({ defaultMetrics: true }).registry];
  registries.push(createStreamMetrics().registry);
  registries.push(createSchedulerMetrics().registry);
  const alerts = new Registry();
  new AlertMetrics(alerts);
  registries.push(alerts);
  for (const r of registries) {
    for (const m of await r.getMetricsAsJSON()) {
      const labels = new Set<string>();
      const declared = (r.getSingleMetric(m.name) as unknown as { labelNames?: string[] })
        ?.labelNames;
      for (const l of declared ?? []) labels.add(l);
      for (const v of m.values) for (const l of Object.keys(v.labels)) labels.add(l);
      if (String(m.type) === 'histogram') {
        out.set(`${m.name}_bucket`, new Set([...labels, 'le']));
        out.set(`${m.name}_sum`, labels);
        out.set(`${m.name}_count`, labels);
      } else out.set(m.name, labels);
    }
  }
  return out;
}

const METRIC = /\b(?:larder|process|nodejs)_[a-z0-9_]+\b/g;
const PROMQL_FUNCTIONS = new Set(['histogram_quantile']);

describe('the Grafana dashboard (docs/grafana/larder-dashboard.json)', () => {
  const queries = dashboard.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
  );

  it('is an importable dashboard: a uid, a Prometheus datasource input, unique panel ids', () => {
    expect(dashboard.uid).toBe('larder-overview');
    expect(dashboard.__inputs.map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
    expect(queries.length).toBeGreaterThanOrEqual(20);
  });

  it('queries only exported metrics, grouped and filtered by their own labels', async () => {
    const series = await exportedSeries();
    const used = new Set<string>();
    for (const { panel, expr } of queries) {
      const names = (expr.match(METRIC) ?? []).filter((n) => !PROMQL_FUNCTIONS.has(n));
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) {
        expect(series.has(n), `${panel}: ${n} is not exported`).toBe(true);
        used.add(n.replace(/_(bucket|sum|count)$/, ''));
      }
      // Each side of a binary operator (`a / on (x) group_left b`) groups its own metrics.
      for (const part of expr.split(/\s[-+*/]\s/)) {
        const metrics = (part.match(METRIC) ?? []).filter((n) => !PROMQL_FUNCTIONS.has(n));
        const grouped = [...part.matchAll(/\b(?:by|on) \(([^)]*)\)/g)].flatMap((m) =>
          m[1]!.split(',').map((x) => x.trim()),
        );
        const filtered = [...part.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
          m[1]!.split(',').map((x) => x.trim().split(/[=!~]/)[0]!),
        );
        for (const label of [...grouped, ...filtered])
          for (const n of metrics)
            expect(series.get(n)!.has(label), `${panel}: ${n} has no label "${label}"`).toBe(true);
      }
    }
    // Every larder_* metric the code exports has a panel.
    const larder = [...series.keys()]
      .filter((n) => n.startsWith('larder_'))
      .map((n) => n.replace(/_(bucket|sum|count)$/, ''));
    expect([...new Set(larder)].filter((n) => !used.has(n))).toEqual([]);
  });
});
