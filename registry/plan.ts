/**
 * `larder plan`: what `apply` would change, and which changes are breaking (they change what a
 * stored or served value means: a feature's type, aggregation, window or hop, a view's entities
 * or keys, an entity's join key, a removed feature, a removed object).
 */
import {
  objectKey,
  type FeatureViewSpec,
  type ObjectSpec,
  type OnDemandFeatureViewSpec,
} from '../definitions/spec.ts';
import { label } from '../definitions/repository.ts';
import { batchViewBreaks } from './batch-view-breaks.ts';
import { canonicalJson, contentHash } from './canonical.ts';
import { diffSpec, type FieldChange } from './spec-diff.ts';
import type { RegistryFile } from './registry-file.ts';
import { memoryHopMs } from '../core/sequence.ts';

export interface PlanChange {
  action: 'add' | 'change' | 'remove';
  kind: ObjectSpec['kind'];
  name: string;
  /** Human-readable field-level differences, one line per changed path (see `spec-diff.ts`). */
  details: string[];
  /** The same differences as data: each changed path with its old and new spec value. */
  fields: FieldChange[];
  /** Why this change is breaking; empty when it is not. */
  breaking: string[];
}

export interface Plan {
  changes: PlanChange[];
  unchanged: number;
  hasBreaking: boolean;
}

export function plan(current: RegistryFile | null, next: readonly ObjectSpec[]): Plan {
  const changes: PlanChange[] = [];
  let unchanged = 0;
  const old = current?.objects ?? {};
  const seen = new Set<string>();
  for (const spec of next) {
    const key = objectKey(spec);
    seen.add(key);
    const prev = old[key];
    if (!prev) {
      changes.push({
        action: 'add',
        kind: spec.kind,
        name: spec.name,
        details: [],
        fields: [],
        breaking: [],
      });
    } else if (prev.hash !== contentHash(spec)) {
      const diffs = diffSpec(prev.spec, spec);
      changes.push({
        action: 'change',
        kind: spec.kind,
        name: spec.name,
        details: diffs.map((d) => d.text),
        fields: diffs.map((d) => d.change),
        breaking: breakingReasons(prev.spec, spec),
      });
    } else unchanged++;
  }
  const oldSpecs = Object.values(old).map((o) => o.spec);
  for (const [key, prev] of Object.entries(old)) {
    if (!seen.has(key))
      changes.push({
        action: 'remove',
        kind: prev.spec.kind,
        name: prev.spec.name,
        details: [],
        fields: [],
        breaking: removalReasons(prev.spec, oldSpecs),
      });
  }
  return { changes, unchanged, hasBreaking: changes.some((c) => c.breaking.length > 0) };
}

function breakingReasons(a: ObjectSpec, b: ObjectSpec): string[] {
  const out: string[] = [];
  if (a.kind === 'entity' && b.kind === 'entity') {
    if (a.joinKey !== b.joinKey) out.push(`join key ${a.joinKey} → ${b.joinKey}`);
    if (a.valueType !== b.valueType) out.push(`key type ${a.valueType} → ${b.valueType}`);
  }
  if (a.kind === 'feature_view' && b.kind === 'feature_view') {
    if (canonicalJson(a.entities) !== canonicalJson(b.entities))
      out.push(`entities ${a.entities.join(',')} → ${b.entities.join(',')}`);
    if (canonicalJson(a.keys) !== canonicalJson(b.keys)) out.push('join key expressions changed');
    out.push(...featureBreaks(a, b));
  }
  if (a.kind === 'on_demand_feature_view' && b.kind === 'on_demand_feature_view') {
    if (canonicalJson(a.entities) !== canonicalJson(b.entities))
      out.push(`entities ${a.entities.join(',')} → ${b.entities.join(',')}`);
    out.push(...featureBreaks(a, b));
  }
  if (a.kind === 'batch_view' && b.kind === 'batch_view') out.push(...batchViewBreaks(a, b));
  return out;
}

function featureBreaks(
  a: FeatureViewSpec | OnDemandFeatureViewSpec,
  b: FeatureViewSpec | OnDemandFeatureViewSpec,
): string[] {
  const out: string[] = [];
  const next = new Map<string, Record<string, unknown>>(
    b.features.map((f) => [f.name, f as unknown as Record<string, unknown>]),
  );
  for (const fa of a.features as unknown as Record<string, unknown>[]) {
    const name = fa.name as string;
    const fb = next.get(name);
    if (!fb) {
      out.push(`feature ${name} removed`);
      continue;
    }
    for (const field of ['type', 'aggregation', 'windowMs', 'hopMs', 'n', 'distinct']) {
      if (fa[field] !== fb[field])
        out.push(`feature ${name}: ${field} ${String(fa[field])} → ${String(fb[field])}`);
    }
    out.push(...sequenceBreaks(name, a, b, fa, fb));
  }
  return out;
}

/**
 * Sequence features keep states laid out by their gap, predicate and the view's memory hop
 * (`aggregation/sequence-tiles.ts`): a stored session run cannot be re-split under a new gap,
 * so changing any of these is breaking.
 */
function sequenceBreaks(
  name: string,
  a: FeatureViewSpec | OnDemandFeatureViewSpec,
  b: FeatureViewSpec | OnDemandFeatureViewSpec,
  fa: Record<string, unknown>,
  fb: Record<string, unknown>,
): string[] {
  if (fa.sequence === undefined && fb.sequence === undefined) return [];
  const out: string[] = [];
  const sa = canonicalJson(fa.sequence ?? null);
  const sb = canonicalJson(fb.sequence ?? null);
  if (sa !== sb) out.push(`feature ${name}: sequence ${sa} → ${sb}`);
  if (a.kind === 'feature_view' && b.kind === 'feature_view') {
    const ma = memoryHopMs(a.ttlMs);
    const mb = memoryHopMs(b.ttlMs);
    if (ma !== mb) out.push(`feature ${name}: memory hop ${ma} → ${mb} ms (ttl changed)`);
  }
  return out;
}

/** The objects of `specs` that reference `target` by name. */
function dependentsOf(target: ObjectSpec, specs: readonly ObjectSpec[]): ObjectSpec[] {
  const refs = (s: ObjectSpec): string[] => {
    switch (s.kind) {
      case 'stream_source':
      case 'push_source':
        return [`batch_source:${s.batchSource}`];
      case 'feature_view':
        return [
          ...s.entities.map((e) => `entity:${e}`),
          ...['batch_source', 'stream_source', 'push_source'].map((k) => `${k}:${s.source}`),
        ];
      case 'on_demand_feature_view':
        return [
          ...s.entities.map((e) => `entity:${e}`),
          ...Object.values(s.inputs).flatMap((i) =>
            i.from === 'feature' ? [`feature_view:${i.view}`] : [],
          ),
        ];
      case 'batch_view':
        return [
          ...s.entities.map((e) => `entity:${e}`),
          ...['batch_source', 'stream_source', 'push_source'].map((k) => `${k}:${s.source}`),
        ];
      case 'feature_service':
        return s.projections.flatMap((p) => [
          `feature_view:${p.view}`,
          `on_demand_feature_view:${p.view}`,
          `batch_view:${p.view}`,
        ]);
      case 'model':
        return [`feature_service:${s.service}`];
      case 'experiment':
        return s.arms.map((a) => `model:${a.model}`);
      default:
        return [];
    }
  };
  const key = objectKey(target);
  return specs.filter((s) => refs(s).includes(key));
}

/**
 * Why removing an object is breaking: what depended on it in the registry, and what its
 * removal deletes for clients and stored data. Every removal is breaking: an object nothing
 * else references is still called by name (services, models, views) or holds data (sources,
 * views), and a repository that lacks it may simply be the wrong one.
 */
function removalReasons(spec: ObjectSpec, registry: readonly ObjectSpec[]): string[] {
  const out = dependentsOf(spec, registry).map(
    (d) =>
      `removed: ${label(d.kind)} "${d.name}" ${d.kind === 'feature_service' ? 'served' : 'depended on'} it`,
  );
  switch (spec.kind) {
    case 'entity':
      out.push(`removed: requests and entity rows name it by its join key "${spec.joinKey}"`);
      break;
    case 'batch_source':
      out.push('removed: its history is no longer read');
      break;
    case 'stream_source':
      out.push(`removed: topic "${spec.topic}" is no longer consumed`);
      break;
    case 'push_source':
      out.push('removed: clients push to it by name');
      break;
    case 'feature_view':
      out.push(
        `removed: its stored online values and ${spec.features.length} features are no longer served`,
      );
      break;
    case 'on_demand_feature_view':
      out.push(`removed: its ${spec.features.length} features are no longer served`);
      break;
    case 'batch_view':
      out.push(
        `removed: its stored snapshot and ${spec.features.length} features are no longer served`,
      );
      break;
    case 'feature_service':
      out.push('removed: clients request it by name');
      break;
    case 'model':
      out.push('removed: clients score with it by name');
      break;
    case 'experiment':
      out.push('removed: clients rank with it by name');
      break;
  }
  return out;
}
