import type { Aggregator } from './aggregator.ts';
import { numericInput } from './normalize-input.ts';

/** `avg` partial state: the sum and the number of non-null inputs. */
export interface AvgState {
  sum: number;
  count: number;
}

/** `avg`: sum / count of the non-null inputs; null when there are none. Throws for non-numbers. */
export const avgAggregator: Aggregator<AvgState> = {
  kind: 'avg',
  init: () => ({ sum: 0, count: 0 }),
  add(s, value) {
    const v = numericInput('avg', value);
    if (v === null) return s;
    s.sum += v;
    s.count += 1;
    return s;
  },
  merge(a, b) {
    a.sum += b.sum;
    a.count += b.count;
    return a;
  },
  finish: (s) => (s.count === 0 ? null : s.sum / s.count),
};
