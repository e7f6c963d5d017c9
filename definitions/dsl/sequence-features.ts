/**
 * Builders for sequence features: previous-event relations and gap sessions (spec "Version 2").
 * They are checked where the feature view is defined, like every other feature.
 *
 * @example
 * const visits = sessions({ gap: '30m' });
 * features: {
 *   session_count_7d: visits.count({ window: '7d' }),
 *   converted_sessions_7d: visits.count({ containing: col('eventType').eq('purchase'), window: '7d' }),
 *   avg_session_duration_7d_s: visits.avgDuration({ window: '7d' }),
 *   current_session_events: visits.current.count(),
 *   current_session_page_views: visits.current.count({ where: col('eventType').eq('page_view') }),
 *   current_session_duration_s: visits.current.duration(),
 *   fast_events_1h: countWhere(previous.gapBelow('100ms'), { window: '1h' }),
 *   ip_changes_1h: countWhere(previous.changed(col('context.ip')), { window: '1h' }),
 * }
 */
import { parseDuration, type Duration } from '../../core/duration.ts';
import type { PreviousPredicate, SequenceKind } from '../../core/sequence.ts';
import { Expr } from '../expr/expr.ts';
import type { FeatureDef, WindowOptions } from './features.ts';

/** A relation between an event and its previous event; build with {@link previous}. */
export class PreviousRelation {
  readonly predicate: PreviousPredicate | { error: string };
  /** The compared field of `changed`. */
  readonly field: Expr | null;
  constructor(predicate: PreviousPredicate | { error: string }, field: Expr | null) {
    this.predicate = predicate;
    this.field = field;
    Object.freeze(this);
  }
}

/** A gap threshold: `'100ms'`, a duration (`'5m'`), or a positive whole number of ms. */
export type GapThreshold = `${number}ms` | Duration | number;

function thresholdMs(threshold: GapThreshold): number | { error: string } {
  if (typeof threshold === 'number') {
    return Number.isSafeInteger(threshold) && threshold > 0
      ? threshold
      : { error: `gapBelow(${threshold}): the threshold must be a positive whole number of ms` };
  }
  const ms = /^\s*(\d+)ms\s*$/.exec(String(threshold));
  if (ms) {
    const n = Number(ms[1]);
    return n > 0 ? n : { error: `gapBelow('${threshold}'): the threshold must be positive` };
  }
  const d = parseDuration(String(threshold));
  return typeof d === 'number'
    ? d
    : { error: `gapBelow: ${d.error}, or milliseconds like "100ms"` };
}

/**
 * Previous-event predicates for {@link countWhere}. An event's previous event is the entity's
 * event just before it in (timestamp, record id) order among all events passing the view's
 * filter; it may lie outside the window. The first event has none and is never counted.
 */
export const previous = {
  /** The gap to the previous event is strictly below `threshold` (`'100ms'`, `'5m'`, or ms). */
  gapBelow: (threshold: GapThreshold): PreviousRelation => {
    const ms = thresholdMs(threshold);
    return new PreviousRelation(typeof ms === 'number' ? { kind: 'gap_below', ms } : ms, null);
  },
  /** `field` is non-null on both the event and its previous event, and differs. */
  changed: (field: Expr): PreviousRelation =>
    new PreviousRelation(
      field instanceof Expr
        ? { kind: 'changed' }
        : { error: 'previous.changed(...) takes an expression such as col("context.ip")' },
      field instanceof Expr ? field : null,
    ),
};

/**
 * Number of the window's events (matching `where`, if given) whose relation to their previous
 * event holds.
 */
export function countWhere(
  relation: PreviousRelation,
  options: WindowOptions & { window: string },
): FeatureDef {
  const ok = relation instanceof PreviousRelation;
  return Object.freeze({
    aggregation: 'count_previous' as const,
    input: ok ? relation.field : null,
    weight: null,
    options,
    params: {},
    sequence: {
      previous: ok
        ? relation.predicate
        : {
            error:
              'countWhere takes previous.gapBelow(...) or previous.changed(...); for a plain predicate use count({ where })',
          },
      gap: null,
    },
  });
}

type SessionWindowOptions = Omit<WindowOptions, 'where'> & {
  window: string;
  /** Only sessions holding at least one event matching this count. */
  containing?: Expr;
};
type CurrentOptions = Pick<WindowOptions, 'type' | 'description'>;

export interface SessionFeatures {
  /** Number of sessions whose start is in the window (holding a `containing` event, if given). */
  count(options: SessionWindowOptions): FeatureDef;
  /** Mean (end − start) / 1000 of those sessions, in seconds; null when there are none. */
  avgDuration(options: SessionWindowOptions): FeatureDef;
  /**
   * The current session at `t`: the one holding the newest event, provided `t − its ts <= gap`.
   */
  readonly current: {
    /** Its events (those matching `where`, if given); 0 when there is no current session. */
    count(options?: CurrentOptions & { where?: Expr }): FeatureDef;
    /** Its (end − start) / 1000 in seconds; null when there is no current session. */
    duration(options?: CurrentOptions): FeatureDef;
  };
}

/**
 * Gap sessions: the entity's events (those passing the view's filter), in (timestamp, record id)
 * order, split wherever the gap between consecutive events is strictly greater than `gap`. At `t`
 * only events with `ts <= t` exist, so a late event may start, extend or merge sessions. All
 * session features of a view use one gap.
 */
export function sessions(options: { gap: Duration | string }): SessionFeatures {
  const gap = typeof options?.gap === 'string' ? options.gap : String(options?.gap);
  const def = (kind: SequenceKind, opts: WindowOptions): FeatureDef =>
    Object.freeze({
      aggregation: kind,
      input: null,
      weight: null,
      options: opts,
      params: {},
      sequence: { previous: null, gap },
    });
  const windowed = (kind: SequenceKind, o: SessionWindowOptions): FeatureDef => {
    const { containing, ...rest } = o;
    return def(kind, containing ? { ...rest, where: containing } : rest);
  };
  return Object.freeze({
    count: (o: SessionWindowOptions) => windowed('session_count', o),
    avgDuration: (o: SessionWindowOptions) => windowed('session_avg_duration', o),
    current: Object.freeze({
      count: (o: CurrentOptions & { where?: Expr } = {}) => def('current_session_count', o),
      duration: (o: CurrentOptions = {}) => def('current_session_duration', o),
    }),
  });
}
