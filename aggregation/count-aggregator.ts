import type { Aggregator } from './aggregator.ts';

/** `count`: state is the number of records added; values (even null) and weights are ignored. */
export const countAggregator: Aggregator<number> = {
  kind: 'count',
  init: () => 0,
  add: (n) => n + 1,
  merge: (a, b) => a + b,
  finish: (n) => n,
};
