import type { Scalar } from '../core/types.ts';
import type { Aggregator } from './aggregator.ts';
import { compareScalars } from './compare-scalars.ts';
import { normalizeInput } from './normalize-input.ts';

function extremum(kind: 'min' | 'max', sign: 1 | -1): Aggregator<Scalar | null> {
  const pick = (a: Scalar | null, b: Scalar | null): Scalar | null => {
    if (a === null) return b;
    if (b === null) return a;
    return sign * compareScalars(b, a) > 0 ? b : a;
  };
  return {
    kind,
    init: () => null,
    add: (s, value) => pick(s, normalizeInput(value)),
    merge: pick,
    finish: (s) => s,
  };
}

/** `min`: state is the smallest non-null input so far (see `compareScalars`), null when none. */
export const minAggregator: Aggregator<Scalar | null> = extremum('min', -1);

/** `max`: state is the greatest non-null input so far (see `compareScalars`), null when none. */
export const maxAggregator: Aggregator<Scalar | null> = extremum('max', 1);
