import type { BatchViewSpec } from '../definitions/spec.ts';
import { canonicalJson } from './canonical.ts';

/**
 * Why changing a batch view is breaking: what its stored snapshot means changes (its entities,
 * a feature's type or removal, the query, its columns, filter, window or schedule).
 */
export function batchViewBreaks(a: BatchViewSpec, b: BatchViewSpec): string[] {
  const out: string[] = [];
  if (canonicalJson(a.entities) !== canonicalJson(b.entities))
    out.push(`entities ${a.entities.join(',')} → ${b.entities.join(',')}`);
  const next = new Map(b.features.map((f) => [f.name, f]));
  for (const f of a.features) {
    const g = next.get(f.name);
    if (!g) out.push(`feature ${f.name} removed`);
    else if (g.type !== f.type) out.push(`feature ${f.name}: type ${f.type} → ${g.type}`);
  }
  if (a.query !== b.query) out.push('query changed');
  for (const field of ['source', 'columns', 'filter', 'windowMs', 'schedule'] as const)
    if (canonicalJson(a[field]) !== canonicalJson(b[field])) out.push(`${field} changed`);
  return out;
}
