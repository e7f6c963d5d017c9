/**
 * Definition-time checks and specs of sequence features (`sequence-features.ts`), called by
 * `featureView` for the sequence kinds. Besides the usual checks, the window must fit in what
 * the view remembers (its TTL, see `core/sequence.ts`), so every engine can keep exact, bounded
 * state: `count_previous` needs TTL ≥ W + memory hop (a whole number of hops); `session_count`
 * and `session_avg_duration` need TTL ≥ W + G + H + memory hop.
 */
import { defaultHopMs, formatDuration, parseDuration } from '../../core/duration.ts';
import { memoryHopMs, type SequenceKind } from '../../core/sequence.ts';
import type { ValueType } from '../../core/types.ts';
import { formatExpr, type Expr } from '../expr/expr.ts';
import { inferExprType } from '../expr/expr-type.ts';
import type { FeatureSpec } from '../spec.ts';
import type { FeatureDef } from './features.ts';

type Schema = Parameters<typeof inferExprType>[0];
type Report = (message: string, hint?: string) => void;

const TYPES: Record<SequenceKind, ValueType> = {
  count_previous: 'int64',
  session_count: 'int64',
  session_avg_duration: 'float64',
  current_session_count: 'int64',
  current_session_duration: 'float64',
};

function windowOf(f: FeatureDef, problem: Report): { windowMs: number; hopMs: number } | null {
  const { window, hop } = f.options;
  if (window === undefined) {
    problem(`${f.aggregation} needs a window`, `add { window: '7d' }`);
    return null;
  }
  const w = parseDuration(window);
  if (typeof w !== 'number') return (problem(`window: ${w.error}`), null);
  const h = hop === undefined ? defaultHopMs(w) : parseDuration(hop);
  if (typeof h !== 'number') return (problem(`hop: ${h.error}`), null);
  if (w % h !== 0) {
    problem(`window ${formatDuration(w)} is not a multiple of hop ${formatDuration(h)}`);
    return null;
  }
  return { windowMs: w, hopMs: h };
}

/** The spec of a sequence feature, or null after reporting its problems. */
export function sequenceFeatureSpec(
  name: string,
  f: FeatureDef,
  schema: Schema,
  ttlMs: number | null,
  problem: Report,
): FeatureSpec | null {
  const kind = f.aggregation as SequenceKind;
  const seq = f.sequence ?? { previous: null, gap: null };
  const current = kind === 'current_session_count' || kind === 'current_session_duration';
  let windowMs: number | null = null;
  let hopMs: number | null = null;
  if (current) {
    if (f.options.window !== undefined || f.options.hop !== undefined) {
      problem(`${kind} has no window`, 'drop window and hop: the current session is one session');
      return null;
    }
  } else {
    const w = windowOf(f, problem);
    if (!w) return null;
    ({ windowMs, hopMs } = w);
  }
  if (f.options.where) {
    const w = inferExprType(schema, f.options.where.node);
    if ('error' in w) return (problem(`where: ${w.error}`), null);
    if (w.type !== 'bool')
      return (problem(`where: ${formatExpr(f.options.where.node)} is ${w.type}, not bool`), null);
  }
  if (f.options.type !== undefined && f.options.type !== TYPES[kind]) {
    problem(`declared type ${f.options.type} but ${kind} is ${TYPES[kind]}`);
    return null;
  }
  let gapMs: number | null = null;
  const memoryHop = ttlMs === null ? null : memoryHopMs(ttlMs);
  if (kind === 'count_previous') {
    const p = seq.previous;
    if (p === null || 'error' in p) {
      problem(p?.error ?? 'countWhere needs a previous-event relation');
      return null;
    }
    if (p.kind === 'changed') {
      const t = inferExprType(schema, (f.input as Expr).node);
      if ('error' in t) return (problem(`previous.changed: ${t.error}`), null);
      if (t.multi)
        return (problem('previous.changed compares one value per record, not an array path'), null);
      if (t.type === 'null') return (problem('previous.changed: the field is always null'), null);
    }
    if (ttlMs !== null && memoryHop !== null && hopMs !== null && windowMs !== null) {
      if (memoryHop % hopMs !== 0 || ttlMs < windowMs + memoryHop) {
        problem(
          `countWhere needs the view's TTL (${formatDuration(ttlMs)}) ≥ window + ${formatDuration(memoryHop)} and a hop dividing ${formatDuration(memoryHop)}`,
          'use a longer ttl or a shorter window',
        );
        return null;
      }
    }
  } else {
    const g = seq.gap === null ? { error: 'sessions need a gap' } : parseDuration(seq.gap);
    if (typeof g !== 'number') {
      problem(`sessions({ gap }): ${g.error}`, "write sessions({ gap: '30m' })");
      return null;
    }
    gapMs = g;
    if (ttlMs !== null && memoryHop !== null && windowMs !== null && hopMs !== null) {
      const need = windowMs + gapMs + hopMs + memoryHop;
      if (ttlMs < need) {
        problem(
          `sessions started in a ${formatDuration(windowMs)} window need the view's TTL ≥ window + gap + hop + ${formatDuration(memoryHop)} = ${formatDuration(need)}, got ${formatDuration(ttlMs)}`,
          'use a longer ttl or a shorter window',
        );
        return null;
      }
    }
  }
  return {
    name,
    type: TYPES[kind],
    aggregation: kind,
    input: f.input?.node ?? null,
    weight: null,
    where: f.options.where?.node ?? null,
    windowMs,
    hopMs,
    description: f.options.description ?? '',
    sequence: { previous: kind === 'count_previous' ? (seq.previous as never) : null, gapMs },
  };
}

/** Reports views whose session features use different gaps (a view has one kind of session). */
export function checkOneSessionGap(
  features: readonly FeatureSpec[],
  problem: (feature: string, message: string, hint?: string) => void,
): void {
  const withGap = features.filter((f) => f.sequence?.gapMs != null);
  const first = withGap[0];
  for (const f of withGap) {
    if (f.sequence!.gapMs !== first!.sequence!.gapMs) {
      problem(
        f.name,
        `session gap ${formatDuration(f.sequence!.gapMs!)} differs from ${formatDuration(first!.sequence!.gapMs!)} of "${first!.name}"`,
        'use one sessions({ gap }) for every session feature of a view',
      );
    }
  }
}
