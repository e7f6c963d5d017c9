import { LarderError } from '../core/errors.ts';
import { isSequenceKind, type SequenceKind } from '../core/sequence.ts';
import type { AggregationKind } from '../core/types.ts';

/**
 * The tile aggregation of a feature, for the engines that fold per-hop partial states. The
 * sequence kinds (sessions, previous-event relations) need the entity's event order and have
 * their own states (`session-state.ts`, `previous-state.ts`); an engine that does not handle
 * them yet refuses the view with a clear error instead of computing a wrong value.
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
