/**
 * The registry as the dashboard shows it: every object of the served repository in a flat,
 * display-ready shape, and the lineage graph source → view → on-demand view → service →
 * model → experiment as layered nodes and edges.
 */
import type { Repository } from '../../definitions/repository.ts';
import {
  describeValueExpectation,
  sourceExpectationLines,
} from '../../quality/describe-expectations.ts';

export interface LineageNode {
  id: string;
  kind: string;
  name: string;
  /** Column of the layered drawing, left to right. */
  layer: number;
}

export interface Lineage {
  nodes: LineageNode[];
  edges: { from: string; to: string }[];
}

const LAYERS: Record<string, number> = {
  batch_source: 0,
  stream_source: 1,
  push_source: 1,
  feature_view: 2,
  batch_view: 2,
  on_demand_feature_view: 3,
  feature_service: 4,
  model: 5,
  experiment: 6,
};

/** The lineage graph of a repository; node ids are `kind:name`. */
export function lineageOf(repo: Repository): Lineage {
  const nodes: LineageNode[] = repo
    .specs()
    .filter((s) => s.kind in LAYERS)
    .map((s) => ({
      id: `${s.kind}:${s.name}`,
      kind: s.kind,
      name: s.name,
      layer: LAYERS[s.kind]!,
    }));
  const ids = new Set(nodes.map((n) => n.id));
  const viewId = (v: string): string =>
    repo.featureViews.has(v)
      ? `feature_view:${v}`
      : repo.batchViews.has(v)
        ? `batch_view:${v}`
        : `on_demand_feature_view:${v}`;
  const sourceId = (s: string): string =>
    repo.streamSources.has(s)
      ? `stream_source:${s}`
      : repo.pushSources.has(s)
        ? `push_source:${s}`
        : `batch_source:${s}`;
  const edges: { from: string; to: string }[] = [];
  for (const s of [...repo.streamSources.values(), ...repo.pushSources.values()])
    edges.push({ from: `batch_source:${s.spec.batchSource}`, to: `${s.spec.kind}:${s.spec.name}` });
  for (const v of repo.featureViews.values())
    edges.push({ from: sourceId(v.spec.source), to: `feature_view:${v.spec.name}` });
  for (const v of repo.batchViews.values())
    edges.push({ from: sourceId(v.spec.source), to: `batch_view:${v.spec.name}` });
  for (const od of repo.onDemandViews.values()) {
    const inputs = new Set<string>();
    for (const i of Object.values(od.spec.inputs)) if (i.from === 'feature') inputs.add(i.view);
    for (const v of inputs)
      edges.push({ from: viewId(v), to: `on_demand_feature_view:${od.spec.name}` });
  }
  for (const svc of repo.services.values())
    for (const p of svc.spec.projections)
      edges.push({ from: viewId(p.view), to: `feature_service:${svc.spec.name}` });
  for (const m of repo.models.values())
    edges.push({ from: `feature_service:${m.spec.service}`, to: `model:${m.spec.name}` });
  for (const x of repo.experiments.values())
    for (const a of x.spec.arms)
      edges.push({ from: `model:${a.model}`, to: `experiment:${x.spec.name}` });
  return { nodes, edges: edges.filter((e) => ids.has(e.from) && ids.has(e.to)) };
}

/**
 * Display-ready registry objects, by kind; `watermarks` (the registry file's) give each batch
 * view its last materialized snapshot time.
 */
export function registrySummary(
  repo: Repository,
  watermarks: Readonly<Record<string, number>> = {},
) {
  const sources = [
    ...[...repo.batchSources.values()].map((s) => ({
      name: s.spec.name,
      kind: 'batch',
      detail: `path ${s.spec.path}, table ${s.spec.bigqueryTable}`,
      description: s.spec.description,
      expect: sourceExpectationLines(s.spec.expect),
    })),
    ...[...repo.streamSources.values()].map((s) => ({
      name: s.spec.name,
      kind: 'stream',
      detail: `topic ${s.spec.topic} (${s.spec.encoding}), history ${s.spec.batchSource}`,
      description: s.spec.description,
      expect: [] as string[],
    })),
    ...[...repo.pushSources.values()].map((s) => ({
      name: s.spec.name,
      kind: 'push',
      detail: `history ${s.spec.batchSource}`,
      description: s.spec.description,
      expect: [] as string[],
    })),
  ];
  return {
    entities: [...repo.entities.values()].map(({ spec: e }) => ({
      name: e.name,
      joinKey: e.joinKey,
      valueType: e.valueType,
      description: e.description,
    })),
    sources,
    featureViews: [...repo.featureViews.values()].map(({ spec: v }) => ({
      name: v.name,
      entities: v.entities,
      source: v.source,
      ttlMs: v.ttlMs,
      online: v.online,
      description: v.description,
      features: v.features.map((f) => ({
        name: f.name,
        type: f.type,
        aggregation: f.aggregation,
        windowMs: f.windowMs,
        hopMs: f.hopMs,
        description: f.description,
        ...(v.expect?.[f.name] ? { expect: describeValueExpectation(v.expect[f.name]!) } : {}),
      })),
    })),
    onDemandViews: [...repo.onDemandViews.values()].map(({ spec: od }) => ({
      name: od.name,
      entities: od.entities,
      inputs: Object.values(od.inputs).map((i) =>
        i.from === 'feature' ? `${i.view}:${i.feature}` : `request:${i.field}`,
      ),
      features: od.features.map((f) => ({ name: f.name, type: f.type })),
      description: od.description,
    })),
    batchViews: [...repo.batchViews.values()].map(({ spec: v }) => ({
      name: v.name,
      entities: v.entities,
      source: v.source,
      everyMs: v.schedule.everyMs,
      offsetMs: v.schedule.offsetMs,
      windowMs: v.windowMs,
      ttlMs: v.ttlMs,
      online: v.online,
      query: v.query,
      lastSnapshot: watermarks[v.name] ?? null,
      description: v.description,
      features: v.features.map((f) => ({ name: f.name, type: f.type, description: f.description })),
    })),
    services: [...repo.services.values()].map(({ spec: s }) => ({
      name: s.name,
      projections: s.projections.map((p) => ({ view: p.view, features: p.features.length })),
      features: s.projections.reduce((n, p) => n + p.features.length, 0),
      description: s.description,
    })),
    models: [...repo.models.values()].map(({ spec: m }) => ({
      name: m.name,
      version: m.version,
      service: m.service,
      inputs: m.inputs.length,
      description: m.description,
    })),
    experiments: [...repo.experiments.values()].map(({ spec: x }) => ({
      name: x.name,
      hashKey: x.hashKey,
      arms: x.arms,
      description: x.description,
    })),
    lineage: lineageOf(repo),
  };
}
