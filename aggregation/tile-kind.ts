import { LarderError } from '../core/errors.ts';
import { isSequenceKind, type SequenceKind } from '../core/sequence.ts';
import type { AggregationKind } from '../core/types.ts';

/**
 * The tile aggregation of a feature, for the code that folds per-hop partial states with
 * {@link aggregator}. The sequence kinds (sessions, previous-event relations) need the entity's
 * event order and have their own states (`session-state.ts`, `previous-state.ts`,
 * `sequence-tiles.ts`); every engine routes them there, so reaching this with one is a
 * programming error, reported as a definition error naming the feature rather than folded into
 * a wrong value.
 *
 * @example
 * aggregator(tileKind(f, 'the online store'), f);
 */
export function tileKind(
  f: { name: string; aggregation: AggregationKind | SequenceKind },
  engine: string,
): AggregationKind {
  if (isSequenceKind(f.aggregation)) {
    throw new LarderError(
      'LARDER_DEFINITION_INVALID',
      `feature "${f.name}" (${f.aggregation}): ${engine} does not compute sessions or previous-event relations yet`,
      { hint: 'compute this view with the reference, or remove the feature from the view' },
    );
  }
  return f.aggregation;
}
